// Owns reading one listing page (any of the three layouts in DESIGN.md) into entries and warnings.
import { latexToText } from './latex.js';
import { extractLinks, type PaperLink } from './paper-links.js';
import { DATE_LINE, parseDateLine } from './dates.js';
import { stripBidiControls } from './bidi.js';
import { isAscii, isUtf8 } from 'node:buffer';

export interface ParsedEntry {
  title: string;
  abstract: string;
  authors: number | null;
  publishedOn: string | null;
  upvotes: number | null;
  links: PaperLink[];
  /** Line of the title in the page (1-based). */
  line: number;
  /** Entry number on the page (1-based). */
  position: number;
}

export interface PageWarning {
  file: string;
  line: number;
  message: string;
}

export interface ParsedPage {
  file: string;
  layout: 1 | 2 | 3 | null;
  listedOn: string | null;
  entries: ParsedEntry[];
  warnings: PageWarning[];
}

export const MESSAGES = {
  empty: 'empty page: no entries',
  binary: 'not a text page (binary data); skipped',
  notUtf8: 'not valid UTF-8 text; skipped',
  noAbstract: (title: string) => `truncated entry "${clip(title)}": title with no abstract; skipped`,
  strayMetadata: 'metadata lines with no paper before them; skipped',
  garbledMetadata: (text: string) => `unreadable metadata line "${clip(text)}"; kept the entry without it`,
  mergedBlock: (title: string) => `entry "${clip(title)}" has no blank line between title and abstract; read it as title + abstract`,
  noChrome: 'page does not start with the listing header; read it anyway',
  notListing: 'not a listing page (no listing header and no paper metadata); skipped',
  noEntries: 'no entries found after the page header',
};

function clip(s: string): string {
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}

const CHROME = new Set([
  'new',
  'get trending papers in your email inbox!',
  'get trending papers in your email inbox once a day!',
  'subscribe',
  'daily papers',
  'byak and the research community',
]);

const AUTHORS_LINE = /^•\s*(\d+)\s+authors?$/;
const isMetaLine = (t: string) => t === '·' || AUTHORS_LINE.test(t) || t.startsWith('•') || DATE_LINE.test(t);

interface Line {
  text: string;
  no: number;
}

/** Decodes page bytes, refusing binary and non-UTF-8 input; strips a byte-order mark and normalises line ends. */
export function decodePage(bytes: Buffer): { text: string } | { error: string } {
  const sample = bytes.subarray(0, 8192);
  if (sample.includes(0)) return { error: MESSAGES.binary };
  // isUtf8 is the strict check TextDecoder's fatal mode makes, several times faster (ingest decodes every page).
  if (!isUtf8(bytes)) return { error: MESSAGES.notUtf8 };
  // Like TextDecoder, drop one leading byte-order mark here (normaliseText drops a second, as it always did).
  const body = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
  const text = isAscii(body) ? body.toString('latin1') : body.toString('utf8');
  // Control characters other than tab/newline in quantity mean this is not a page.
  const controls = text.slice(0, 8192).match(/[\u0001-\u0008\u000e-\u001f]/g);
  if (controls && controls.length > 8) return { error: MESSAGES.binary };
  return { text: normaliseText(text) };
}

function normaliseText(text: string): string {
  const t = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  // Here, before any line is read, so no title, author or abstract from a page carries a direction control.
  return stripBidiControls(t.includes('\r') ? t.replace(/\r\n?/g, '\n') : t);
}

export function parsePage(bytes: Buffer | string, file: string, now: Date): ParsedPage {
  const page: ParsedPage = { file, layout: null, listedOn: null, entries: [], warnings: [] };
  const warn = (line: number, message: string) => page.warnings.push({ file, line, message });
  let text: string;
  if (typeof bytes === 'string') {
    text = normaliseText(bytes);
  } else {
    const decoded = decodePage(bytes);
    if ('error' in decoded) {
      warn(1, decoded.error);
      return page;
    }
    text = decoded.text;
  }
  const lines: Line[] = text.split('\n').map((t, i) => ({ text: t.trim(), no: i + 1 }));
  if (!lines.some((l) => l.text)) {
    warn(1, MESSAGES.empty);
    return page;
  }

  // Skip the site header; remember the listing date; layout 3 glues the first title to "Subscribe".
  let i = 0;
  let sawChrome = false;
  while (i < lines.length) {
    const t = lines[i]!.text;
    if (t === '' || CHROME.has(t.toLowerCase())) {
      sawChrome ||= t !== '';
      i++;
      continue;
    }
    const date = /^[A-Z][a-z]{2} \d{1,2}$/.test(t) ? parseDateLine(t, now) : null;
    if (date && page.listedOn === null && sawChrome) {
      page.listedOn = date.date;
      i++;
      continue;
    }
    if (t.startsWith('Subscribe') && t.length > 'Subscribe'.length) {
      lines[i] = { text: t.slice('Subscribe'.length).trim(), no: lines[i]!.no };
      sawChrome = true;
    }
    break;
  }
  if (!sawChrome) warn(1, MESSAGES.noChrome);
  const body = lines.slice(i);
  // Layout 3 has no blank line between entries; a trailing newline at the end does not count.
  const lastText = body.findLastIndex((l) => l.text !== '');
  const blankLines = body.slice(0, lastText + 1).some((l) => l.text === '');
  if (blankLines) parseBlocks(body, page, now, warn);
  else parseAlternating(body, page, warn);
  // Any text alternates "title" and "abstract" lines: without the site's header or a single metadata line
  // (authors, a date), nothing says this is a listing, and its lines would become papers ("hello" as paper 248).
  if (!sawChrome && !page.entries.some((e) => e.authors !== null || e.publishedOn !== null)) {
    page.entries = [];
    page.layout = null;
    page.warnings = [{ file, line: 1, message: MESSAGES.notListing }];
    return page;
  }
  if (page.entries.length === 0 && page.warnings.length === 0) warn(1, MESSAGES.noEntries);
  return page;
}

function makeEntry(page: ParsedPage, title: Line, abstractText: string): ParsedEntry {
  const abstract = latexToText(abstractText);
  const entry: ParsedEntry = {
    title: latexToText(title.text),
    abstract,
    authors: null,
    publishedOn: null,
    upvotes: null,
    links: extractLinks(abstract),
    line: title.no,
    position: page.entries.length + 1,
  };
  page.entries.push(entry);
  return entry;
}

/** Layouts 1 and 2: title block, abstract block, optional metadata block. */
function parseBlocks(body: Line[], page: ParsedPage, now: Date, warn: (line: number, m: string) => void): void {
  const blocks: Line[][] = [];
  let cur: Line[] = [];
  for (const l of body) {
    if (l.text === '') {
      if (cur.length) blocks.push(cur);
      cur = [];
    } else cur.push(l);
  }
  if (cur.length) blocks.push(cur);
  page.layout = blocks.some((b) => b.some((l) => isMetaLine(l.text))) ? 1 : 2;

  let b = 0;
  while (b < blocks.length) {
    const block = blocks[b]!;
    const head = block[0]!;
    if (isMetaLine(head.text)) {
      warn(head.no, MESSAGES.strayMetadata);
      b++;
      continue;
    }
    let entry: ParsedEntry;
    if (block.length > 1) {
      // Title and abstract with no blank line between them.
      warn(head.no, MESSAGES.mergedBlock(head.text));
      const rest = block.slice(1);
      const metaAt = rest.findIndex((l) => isMetaLine(l.text));
      const abstractLines = metaAt === -1 ? rest : rest.slice(0, metaAt);
      if (abstractLines.length === 0) {
        warn(head.no, MESSAGES.noAbstract(head.text));
        b++;
        continue;
      }
      entry = makeEntry(page, head, abstractLines.map((l) => l.text).join(' '));
      if (metaAt !== -1) readMetadata(rest.slice(metaAt), entry, now, warn);
      b++;
    } else {
      const next = blocks[b + 1];
      if (!next || isMetaLine(next[0]!.text)) {
        warn(head.no, MESSAGES.noAbstract(head.text));
        b++;
        continue;
      }
      const metaAt = next.findIndex((l) => isMetaLine(l.text));
      const abstractLines = metaAt === -1 ? next : next.slice(0, metaAt);
      entry = makeEntry(page, head, abstractLines.map((l) => l.text).join(' '));
      if (metaAt !== -1) readMetadata(next.slice(metaAt), entry, now, warn);
      b += 2;
    }
    const meta = blocks[b];
    if (meta && isMetaLine(meta[0]!.text)) {
      readMetadata(meta, entry, now, warn);
      b++;
    }
  }
}

function readMetadata(meta: Line[], entry: ParsedEntry, now: Date, warn: (line: number, m: string) => void): void {
  for (const l of meta) {
    const t = l.text;
    if (t === '·') continue;
    const authors = AUTHORS_LINE.exec(t);
    if (authors) {
      entry.authors = Number(authors[1]);
      continue;
    }
    const date = parseDateLine(t, now);
    if (date) {
      entry.publishedOn = date.date;
      entry.upvotes = date.upvotes;
      continue;
    }
    warn(l.no, MESSAGES.garbledMetadata(t));
  }
}

/** Layout 3: no blank lines; title and abstract lines alternate. */
function parseAlternating(body: Line[], page: ParsedPage, warn: (line: number, m: string) => void): void {
  page.layout = 3;
  const lines = body.filter((l) => l.text !== '');
  for (let k = 0; k < lines.length; k += 2) {
    const title = lines[k]!;
    const abstract = lines[k + 1];
    if (isMetaLine(title.text)) {
      warn(title.no, MESSAGES.strayMetadata);
      k -= 1; // realign: the next line is a title
      continue;
    }
    if (!abstract) {
      warn(title.no, MESSAGES.noAbstract(title.text));
      continue;
    }
    makeEntry(page, title, abstract.text);
  }
}
