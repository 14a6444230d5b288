// Owns ingesting listing pages into the store: read, parse, merge across pages, write in one transaction.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../db/open.js';
import type { Clock } from '../clock.js';
import type { PageWarning } from './parse-page.js';
import { mergePaper, pageFields, samePaperFields, type PaperFields } from './merge.js';
import { PaperRow, toFields, updatePaperFields } from './papers-repo.js';
import type { PageResult } from './read-page.js';
import type { PaperLink } from './links.js';
import { openPageFeed, pageBytes, WORKER_MIN_BYTES, type ParseMode } from './page-feed.js';
import { checkpointInBackground } from '../db/checkpoint.js';
import { createSearchTriggers, dropSearchTriggers, rebuildSearchIndex, searchFileFor } from '../db/search-index.js';
import { startBulkLoad } from './bulk-indexes.js';
import { inThreadSearchWriter } from './search-writer.js';

export interface IngestReport {
  pages: number;
  entries: number;
  added: number;
  updated: number;
  warnings: PageWarning[];
  /**
   * Set after a big ingest into a file: the WAL checkpoint running on a worker thread (see db/checkpoint.ts),
   * resolving with the frames it copied. Awaiting it is optional (the CLI does, so it leaves a tidy log behind).
   */
  walCheckpoint?: Promise<number>;
}

export interface IngestOptions {
  /** Where pages are parsed (see ParseMode); the result is the same either way. */
  parse?: ParseMode;
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
 * Pages average well over 2 KB per entry only when abstracts are very long, so this underestimates how many papers
 * the pages hold: it only has to tell a bulk load from a few pages added to a big corpus.
 */
const BYTES_PER_ENTRY_AT_MOST = 2048;

/** SQLite page cache for the ingest transaction (KiB): holds the title_key index (~8 MB at 100,000 papers), which takes inserts in random order. */
const INGEST_CACHE_KIB = 32 * 1024;

/** Page files under each path: a directory gives its `.txt` files (sorted), a file itself. */
export function listPageFiles(paths: string[], warnings: PageWarning[]): string[] {
  const files: string[] = [];
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch (err) {
      warnings.push({ file: p, line: 0, message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      continue;
    }
    if (st.isDirectory()) {
      for (const f of readdirSync(p).filter((f) => f.endsWith('.txt')).sort()) files.push(join(p, f));
    } else files.push(p);
  }
  return files;
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

/**
 * Pages are parsed (for big inputs mostly on a worker thread, see page-feed.ts) while this thread writes the papers
 * already parsed, all in one transaction: a failed ingest leaves the corpus as it was. A new paper is inserted when
 * first seen; what later pages add to it is merged and written at the end, so the stored result is the same as
 * merging everything first.
 *
 * The search index lives in its own file (db/search-index.ts). When a worker parses the pages, it also writes the
 * index on its own connection, from the ids this thread sends back after each page; that file commits right after
 * the corpus file. Otherwise this thread writes it inside the same transaction (search-writer.ts).
 */
export function ingestPaths(store: Store, paths: string[], clock: Clock, opts: IngestOptions = {}): IngestReport {
  const now = clock.now();
  const report: IngestReport = { pages: 0, entries: 0, added: 0, updated: 0, warnings: [] };
  const files = listPageFiles(paths, report.warnings);
  const bytes = pageBytes(files);
  const { q, db } = store;
  const stamp = now.toISOString();
  const insertPaper = q('insert-paper');
  const insertSource = q('insert-source');
  // An in-memory store's search index is only reachable from this connection.
  const feed = openPageFeed(files, now, opts.parse ?? 'auto', bytes, db.memory ? null : searchFileFor(db.name));
  const search = feed.search ?? inThreadSearchWriter(store);
  const cacheBefore = db.pragma('cache_size', { simple: true }) as number;

  const write = db.transaction(() => {
    // First, and a write: the transaction takes the corpus file's write lock now, not the search file's (see search.sql).
    const { generation } = q('bump-corpus-generation').get() as { generation: number };
    const maxBefore = (q('max-paper-id').get() as { n: number }).n;
    const known = new Set<string>();
    for (const r of q('all-paper-keys').iterate() as Iterable<{ id: number; title_key: string }>) known.add(r.title_key);
    // Papers an admin removed (`paperboy papers remove`) stay out, whichever page carries them.
    const removed = new Set((q('removed-title-keys').all() as { title_key: string }[]).map((r) => r.title_key));
    const bulk = startBulkLoad(db, known.size, Math.floor(bytes / BYTES_PER_ENTRY_AT_MOST));
    search.start(bulk.bulk);
    const pending = new Map<string, Pending>();
    const added = new Map<string, Added>();

    for (let page = feed.next(); page; page = feed.next()) {
      for (const w of page.warnings) report.warnings.push(w);
      const ids = search.wantsIds ? new Int32Array(page.keys.length).fill(-1) : null;
      if (!page.read) {
        search.written(page, ids);
        continue;
      }
      report.pages++;
      report.entries += page.keys.length;
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
            page.titles[i],
            page.abstracts[i],
            page.authors[i],
            page.publishedOn[i],
            page.upvotes[i],
            listedOn,
            page.links[i],
            stamp,
            stamp,
          );
          mine = { id: Number(info.lastInsertRowid), page, at: i, fields: null };
          added.set(key, mine);
          if (ids) ids[i] = mine.id;
          report.added++;
        }
        insertSource.run(mine.id, file, page.lines[i], page.positions[i], listedOn);
      }
      search.written(page, ids);
    }
    search.allInserted(maxBefore);

    // New papers seen again on a later page: indexed with their first text, so a changed one is indexed again.
    for (const a of added.values()) {
      if (!a.fields) continue;
      const first = entryFields(a.page, a.at);
      if (samePaperFields(first, a.fields)) continue;
      updatePaperFields(store, a.id, a.fields, stamp);
      if (first.abstract !== a.fields.abstract) search.replace(a.id, a.fields.title, a.fields.abstract);
    }

    for (const [key, p] of pending) {
      const existing = PaperRow.parse(q('get-paper-by-key').get(key));
      let changed = false;
      const before = toFields(existing);
      const merged = mergePaper(before, p.fields);
      if (!samePaperFields(before, merged)) {
        updatePaperFields(store, existing.id, merged, stamp);
        if (before.abstract !== merged.abstract) search.replace(existing.id, merged.title, merged.abstract);
        changed = true;
      }
      // A paper newly seen on a page counts as updated even if no field changed: it gained a source.
      for (const s of p.sources) if (insertSource.run(existing.id, s.file, s.line, s.position, s.listedOn).changes > 0) changed = true;
      if (changed) report.updated++;
    }
    bulk.finish();
    search.prepare(generation);
  });
  // A big load writes a WAL of ~1.2 KB per paper: its checkpoint goes to another thread instead of into the commit.
  const background = bytes >= WORKER_MIN_BYTES && !db.memory && db.pragma('journal_mode', { simple: true }) === 'wal';
  const autoBefore = db.pragma('wal_autocheckpoint', { simple: true }) as number;
  let committed = false;
  let indexFailure: unknown = null;
  // Ingest writes the index itself: the triggers would write it from this connection, which the worker's would block.
  dropSearchTriggers(db);
  try {
    db.pragma(`cache_size = -${Math.max(INGEST_CACHE_KIB, -cacheBefore)}`);
    if (background) db.pragma('wal_autocheckpoint = 0');
    write.deferred();
    committed = true;
    search.commit();
  } catch (err) {
    if (!committed) {
      search.rollback();
      throw err;
    }
    indexFailure = err;
  } finally {
    feed.close();
    createSearchTriggers(db);
    db.pragma(`cache_size = ${cacheBefore}`);
    if (background) db.pragma(`wal_autocheckpoint = ${autoBefore}`);
  }
  if (indexFailure) indexAfterFailure(store, indexFailure);
  if (background) {
    // Both files: the worker's connection leaves the search file's log alone for a load this size too (page-feed.ts).
    const logs = [db.name, searchFileFor(db.name)];
    report.walCheckpoint = Promise.all(logs.map(checkpointInBackground)).then((frames) => frames.reduce((a, b) => a + b, 0));
    // Nothing is lost when it fails (the log stays and the next checkpoint folds it back), so no caller has to await it.
    report.walCheckpoint.catch(() => {});
  }
  return report;
}

/**
 * The papers were committed but the worker's commit of the search index failed: the files' generations differ, so
 * the next open would rebuild it; doing it now means search shows the new papers in this process too.
 */
function indexAfterFailure(store: Store, failure: unknown): void {
  const why = (e: unknown) => (e instanceof Error ? e.message : String(e));
  try {
    rebuildSearchIndex(store.db);
  } catch (err) {
    throw new Error(
      `the papers were stored but the search index was not (${why(failure)}), and rebuilding it failed (${why(err)}): ` +
        'it is rebuilt when the store next opens',
    );
  }
}

export function formatWarning(w: PageWarning): string {
  return w.line > 0 ? `${w.file}:${w.line}: ${w.message}` : `${w.file}: ${w.message}`;
}
