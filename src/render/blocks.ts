// Owns the per-reader pieces of a digest rendered from blocks: the tokens a paper block and a wrapper carry, the values
// that replace them (the same functions the full render uses, so both agree byte for byte), and the stored recipe.
import { createHash } from 'node:crypto';
import Handlebars from 'handlebars';

/** Where a reader's feedback link for a paper points. */
export type FeedbackSignal = 'more' | 'less';
export type FeedbackLinks = (paperId: number, signal: FeedbackSignal) => string;

/** What differs per (reader, paper) inside a paper block, as the block is rendered once per edition. */
export const ITEM_TOKENS = {
  rank: 'pbxRankXbp',
  chips: 'pbxChipsXbp',
  why: 'pbxWhyXbp',
  readerLines: 'pbxReaderLinesXbp',
  moreUrl: 'https://pbx-placeholder.invalid/pbxMoreUrlXbp',
  lessUrl: 'https://pbx-placeholder.invalid/pbxLessUrlXbp',
} as const;
export type ItemSlot = keyof typeof ITEM_TOKENS;
export const ITEM_SLOTS = Object.keys(ITEM_TOKENS) as ItemSlot[];

/** What differs per selection in the wrapper (subject, preheader, headline, intro), and where each section's blocks go. */
export const WRAPPER_TOKENS = {
  subject: 'pbxSubjectXbp',
  preheader: 'pbxPreheaderXbp',
  headline: 'pbxHeadlineXbp',
  intro: 'pbxIntroXbp',
} as const;
export type WrapperSlot = keyof typeof WRAPPER_TOKENS;
export const WRAPPER_SLOTS = Object.keys(WRAPPER_TOKENS) as WrapperSlot[];

/** The token where section `i`'s blocks go (HTML and text). */
export function sectionToken(i: number): string {
  return `pbxBlocks${i}Xbp`;
}

const esc = (s: string) => Handlebars.escapeExpression(s);

/** The topic chips after a paper's rank: raw HTML (triple-stashed in the card), each topic escaped. */
export function chipsHtml(topics: readonly string[]): string {
  return topics.length === 0 ? '' : chipsMemo(topics);
}
const chipsMemo = memo((topics: readonly string[]) => chipsHtmlUncached(topics));

function chipsHtmlUncached(topics: readonly string[]): string {
  return topics
    .map(
      (t) =>
        `<span style="display:inline-block;margin-left:8px;padding:1px 8px;border-radius:10px;background:#f7e6e1;color:#a63d2a;font-weight:600">${esc(t)}</span>`,
    )
    .join('');
}

export function wrapText(text: string, indent: number, hang: boolean, width = 72): string {
  const pad = ' '.repeat(indent);
  const lines: string[] = [];
  let line = '';
  for (const word of String(text).split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width - indent) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.map((l, i) => (i === 0 && hang ? l : pad + l)).join('\n');
}

// Pure and called per reader and paper with a few thousand distinct arguments at most: kept, bounded.
function memo<A extends unknown[]>(f: (...a: A) => string, max = 5_000): (...a: A) => string {
  const m = new Map<string, string>();
  return (...a: A) => {
    const k = JSON.stringify(a);
    let v = m.get(k);
    if (v === undefined) {
      v = f(...a);
      if (m.size >= max) m.clear();
      m.set(k, v);
    }
    return v;
  };
}

/** The text part's lines under a paper's title: its reason, then the topics it matched. */
export const readerLines = memo(readerLinesUncached);

function readerLinesUncached(why: string, topics: readonly string[]): string {
  const lines = [wrapText(why, 3, false)];
  // A reason that already names every topic ("matches: diffusion · …") says it once.
  const said = why.toLowerCase();
  if (topics.length && !topics.every((t) => said.includes(t.toLowerCase()))) lines.push(`   Matches: ${topics.join(', ')}`);
  return lines.join('\n');
}

/** One paper as one reader gets it. */
export interface ReaderItem {
  paperId: number;
  rank: number;
  why: string;
  topics: string[];
}

/** The values of a block's slots for one reader: as the HTML part shows them (escaped where Handlebars escapes). */
export function itemHtmlValues(item: ReaderItem, feedback: FeedbackLinks): Record<ItemSlot, string> {
  return {
    rank: String(item.rank),
    chips: chipsHtml(item.topics),
    why: esc(item.why),
    readerLines: '',
    moreUrl: esc(feedback(item.paperId, 'more')),
    lessUrl: esc(feedback(item.paperId, 'less')),
  };
}

/** The same for the text part (nothing escaped there). */
export function itemTextValues(item: ReaderItem, feedback: FeedbackLinks): Record<ItemSlot, string> {
  return {
    rank: String(item.rank),
    chips: '',
    why: item.why,
    readerLines: readerLines(item.why, item.topics),
    moreUrl: feedback(item.paperId, 'more'),
    lessUrl: feedback(item.paperId, 'less'),
  };
}

/** The per-selection strings of the wrapper, in the form each part shows them. */
export interface SelectionStrings {
  subject: string;
  preheader: string;
  headline: string;
  intro: string;
}

export function wrapperHtmlValues(s: SelectionStrings): Record<WrapperSlot, string> {
  return { subject: esc(s.subject), preheader: esc(s.preheader), headline: esc(s.headline), intro: esc(s.intro) };
}

export function wrapperTextValues(s: SelectionStrings): Record<WrapperSlot, string> {
  return { subject: s.subject, preheader: s.preheader, headline: s.headline, intro: wrapText(s.intro, 0, false) };
}

/**
 * What the ledger stores per reader instead of the rendered digest: the wrapper and block keys (stored once per edition
 * as pieces) and the few strings that are the reader's own. A few hundred bytes where a rendered variant was 30-60 KB.
 */
export interface AssemblyRecipe {
  v: 1;
  wrapper: string;
  strings: SelectionStrings;
  /** Per section, in order: the block key and the reader's values for it. */
  sections: { block: string; item: ReaderItem }[][];
}

/** A variant's `html` column holds this prefix, then the recipe's JSON; a full render never starts with it. */
export const RECIPE_MARKER = 'pbx-assembled:v1\n';

export function encodeRecipe(r: AssemblyRecipe): string {
  return RECIPE_MARKER + JSON.stringify(r);
}

export function isRecipe(html: string): boolean {
  return html.startsWith(RECIPE_MARKER);
}

export function decodeRecipe(html: string): AssemblyRecipe {
  const r = JSON.parse(html.slice(RECIPE_MARKER.length)) as AssemblyRecipe;
  if (r.v !== 1 || typeof r.wrapper !== 'string' || !Array.isArray(r.sections)) throw new Error('not an assembly recipe');
  return r;
}

/** What goes between two blocks of a section, per part (MJML trims the newline after a section's last card). */
export const BLOCK_SEPARATOR = { html: '\n', text: '' } as const;

/** A wrapper or a block as stored (HTML and text with their tokens); its key names its content. */
export interface Piece {
  key: string;
  html: string;
  text: string;
}

export function pieceKey(kind: 'wrapper' | 'block', html: string, text: string): string {
  return `${kind}|${createHash('sha256').update(html).update('\0').update(text).digest('hex').slice(0, 32)}`;
}

/** Splits a string at the given tokens: [text, token, text, ...], text pieces possibly empty. */
export function splitAt(s: string, tokens: readonly string[]): { text: string[]; slots: string[] } {
  const re = new RegExp(tokens.map((t) => t.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')).join('|'), 'g');
  const text: string[] = [];
  const slots: string[] = [];
  let pos = 0;
  for (const m of s.matchAll(re)) {
    text.push(s.slice(pos, m.index));
    slots.push(m[0]);
    pos = m.index + m[0].length;
  }
  text.push(s.slice(pos));
  return { text, slots };
}

/** The HTML and text of one reader's digest, assembled as strings (the preview and the tests; the sender works on MIME bytes). */
export function assembleStrings(
  recipe: AssemblyRecipe,
  pieces: (key: string) => Piece,
  feedback: FeedbackLinks,
  recipient: Record<string, string>,
): { html: string; text: string } {
  const out = { html: '', text: '' };
  const wrapper = pieces(recipe.wrapper);
  for (const part of ['html', 'text'] as const) {
    const wv = part === 'html' ? wrapperHtmlValues(recipe.strings) : wrapperTextValues(recipe.strings);
    const tokenOf = new Map<string, string>();
    for (const k of WRAPPER_SLOTS) tokenOf.set(WRAPPER_TOKENS[k], wv[k]);
    for (const [token, value] of Object.entries(recipient)) tokenOf.set(token, part === 'html' ? esc(value) : value);
    const sectionTokens = recipe.sections.map((_, i) => sectionToken(i));
    const w = splitAt(wrapper[part], [...tokenOf.keys(), ...sectionTokens]);
    let s = w.text[0]!;
    w.slots.forEach((tok, i) => {
      const section = sectionTokens.indexOf(tok);
      if (section >= 0) {
        for (const [n, { block, item }] of recipe.sections[section]!.entries()) {
          if (n > 0) s += BLOCK_SEPARATOR[part];
          const values = part === 'html' ? itemHtmlValues(item, feedback) : itemTextValues(item, feedback);
          const b = splitAt(pieces(block)[part], Object.values(ITEM_TOKENS));
          s += b.text[0]!;
          b.slots.forEach((t, j) => {
            s += values[ITEM_SLOTS.find((k) => ITEM_TOKENS[k] === t)!] + b.text[j + 1]!;
          });
        }
      } else s += tokenOf.get(tok)!;
      s += w.text[i + 1]!;
    });
    out[part] = s;
  }
  return out;
}
