// Owns turning one page file into what ingest merges: the parsed entries with their identity keys, or a read warning.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parsePage, type PageWarning } from './parse-page.js';
import { titleKey } from './merge.js';

/**
 * One page as ingest consumes it: plain data, so a worker thread can hand it over with structured clone. Entries are
 * stored column by column (entry i is index i of each array): cloning pays per object and per property name, and
 * one object per entry made receiving pages cost the ingesting thread about half as much as parsing them.
 */
export interface PageResult {
  path: string;
  /** Sources are keyed by file name so ingesting `seeds/` or `./seeds/x.txt` is the same page. */
  file: string;
  /** False when the file could not be read: it then only carries a warning and does not count as a page. */
  read: boolean;
  listedOn: string | null;
  /** Warnings with `file` set to the path the caller gave, as the ingest report shows them. */
  warnings: PageWarning[];
  /** The paper's identity across pages (`titleKey`); empty when the title has no letters or digits. */
  keys: string[];
  titles: string[];
  abstracts: string[];
  /** JSON of the entry's links, as the papers table stores them. */
  links: string[];
  authors: (number | null)[];
  publishedOn: (string | null)[];
  upvotes: (number | null)[];
  lines: number[];
  positions: number[];
}

function emptyPage(path: string, read: boolean, listedOn: string | null, warnings: PageWarning[]): PageResult {
  return {
    path,
    file: basename(path),
    read,
    listedOn,
    warnings,
    keys: [],
    titles: [],
    abstracts: [],
    links: [],
    authors: [],
    publishedOn: [],
    upvotes: [],
    lines: [],
    positions: [],
  };
}

export function readPage(path: string, now: Date): PageResult {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    return emptyPage(path, false, null, [{ file: path, line: 0, message: `cannot read: ${code}` }]);
  }
  const page = parsePage(bytes, basename(path), now);
  const out = emptyPage(
    path,
    true,
    page.listedOn,
    page.warnings.map((w) => ({ ...w, file: path })),
  );
  for (const e of page.entries) {
    out.keys.push(titleKey(e.title));
    out.titles.push(e.title);
    out.abstracts.push(e.abstract);
    out.links.push(JSON.stringify(e.links));
    out.authors.push(e.authors);
    out.publishedOn.push(e.publishedOn);
    out.upvotes.push(e.upvotes);
    out.lines.push(e.line);
    out.positions.push(e.position);
  }
  return out;
}
