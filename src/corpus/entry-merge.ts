// Owns ingest's rules for each page entry: a removed paper stays out, a new one is inserted when first seen, and what
// later pages say of a paper is merged (merge.ts) and written once, at the end.
import type { Store } from '../db/open.js';
import type { PageWarning } from './parse-page.js';
import { mergePaper, pageFields, samePaperFields, type PaperFields } from './merge.js';
import { PaperRow, toFields, updatePaperFields } from './papers-repo.js';
import type { PageResult } from './read-page.js';
import type { PaperLink } from './paper-links.js';
import type { SearchWriter } from './search-writer.js';

/** What the merge counts, in ingest's report. */
export interface EntryCounts {
  pages: number;
  entries: number;
  added: number;
  updated: number;
  warnings: PageWarning[];
}

type Source = { file: string; line: number; position: number; listedOn: string | null };

/** A paper the store had before this ingest: merged here across pages, written once at the end. */
interface Pending {
  fields: PaperFields;
  sources: Source[];
}

/** A paper this ingest added, written when first seen; `fields` only once a later page merges into it. */
interface Added {
  id: number;
  page: PageResult;
  at: number;
  fields: PaperFields | null;
}

/**
 * Writes a stored paper's fields if `after` differs from `before`, and indexes it again if its abstract changed (a
 * merge keeps the title); whether it wrote. Ingest and fetch (fetch-merge.ts) alike.
 */
export function writeChanged(
  store: Store,
  search: { replace(id: number, title: string, abstract: string): void },
  id: number,
  before: PaperFields,
  after: PaperFields,
  stamp: string,
): boolean {
  if (samePaperFields(before, after)) return false;
  updatePaperFields(store, id, after, stamp);
  if (before.abstract !== after.abstract) search.replace(id, after.title, after.abstract);
  return true;
}

function entryFields(page: PageResult, i: number): PaperFields {
  return pageFields(
    page.titles[i]!,
    page.abstracts[i]!,
    page.authors[i]!,
    page.publishedOn[i]!,
    page.upvotes[i]!,
    page.listedOn,
    JSON.parse(page.links[i]!) as PaperLink[],
  );
}

export interface EntryMerge {
  /** How many papers the store had when the merge started. */
  readonly stored: number;
  /** A page the feed handed out: its new papers are inserted (and the index told), the rest kept for `writeMerged`. */
  page(page: PageResult): void;
  /** After the last page: writes what later pages merged into papers; calls `between` every 256 papers written. */
  writeMerged(between: () => void): void;
}

/** Starts merging pages into `store`, inside the load's open transaction (the stored keys are read now). */
export function startEntryMerge(store: Store, search: SearchWriter, stamp: string, counts: EntryCounts): EntryMerge {
  const { q } = store;
  const insertPaper = q('insert-paper');
  const insertSource = q('insert-source');
  const known = new Set<string>();
  for (const r of q('all-paper-keys').iterate() as Iterable<{ id: number; title_key: string }>) known.add(r.title_key);
  // Papers an admin removed (`paperboy papers remove`) stay out, whichever page carries them.
  const removed = new Set((q('removed-title-keys').all() as { title_key: string }[]).map((r) => r.title_key));
  const pending = new Map<string, Pending>();
  const added = new Map<string, Added>();

  return {
    stored: known.size,
    page(page) {
      for (const w of page.warnings) counts.warnings.push(w);
      const ids = search.wantsIds ? new Int32Array(page.keys.length).fill(-1) : null;
      if (!page.read) {
        search.written(page, ids);
        return;
      }
      counts.pages++;
      counts.entries += page.keys.length;
      const { file, listedOn } = page;
      for (let i = 0; i < page.keys.length; i++) {
        const key = page.keys[i]!;
        if (!key || removed.has(key)) continue;
        if (known.has(key)) {
          const source: Source = { file, line: page.lines[i]!, position: page.positions[i]!, listedOn };
          const seen = pending.get(key);
          if (seen) {
            seen.fields = mergePaper(seen.fields, entryFields(page, i));
            seen.sources.push(source);
          } else pending.set(key, { fields: entryFields(page, i), sources: [source] });
          continue;
        }
        let mine = added.get(key);
        if (mine) mine.fields = mergePaper(mine.fields ?? entryFields(mine.page, mine.at), entryFields(page, i));
        else {
          const info = insertPaper.run(
            key,
            page.titles[i]!,
            page.abstracts[i]!,
            page.authors[i]!,
            page.publishedOn[i]!,
            page.upvotes[i]!,
            listedOn,
            page.links[i]!,
            stamp,
            stamp,
          );
          mine = { id: Number(info.lastInsertRowid), page, at: i, fields: null };
          added.set(key, mine);
          if (ids) ids[i] = mine.id;
          counts.added++;
        }
        insertSource.run(mine.id, file, page.lines[i]!, page.positions[i]!, listedOn);
      }
      search.written(page, ids);
    },

    writeMerged(between) {
      // New papers seen again on a later page: indexed with their first text, so a changed one is indexed again.
      let n = 0;
      for (const a of added.values()) {
        if (!a.fields || !writeChanged(store, search, a.id, entryFields(a.page, a.at), a.fields, stamp)) continue;
        if (++n % 256 === 0) between();
      }
      for (const [key, p] of pending) {
        const existing = PaperRow.parse(q('get-paper-by-key').get(key));
        const before = toFields(existing);
        let changed = writeChanged(store, search, existing.id, before, mergePaper(before, p.fields), stamp);
        // A paper newly seen on a page counts as updated even if no field changed: it gained a source.
        for (const s of p.sources) if (insertSource.run(existing.id, s.file, s.line, s.position, s.listedOn).changes > 0) changed = true;
        if (changed) counts.updated++;
        if (++n % 256 === 0) between();
      }
    },
  };
}
