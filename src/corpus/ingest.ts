// Owns ingesting listing pages into the store: read, parse, merge across pages, write in short transactions.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../db/open.js';
import type { Clock } from '../clock.js';
import type { PageWarning } from './parse-page.js';
import { mergePaper, pageFields, samePaperFields, type PaperFields } from './merge.js';
import { PaperRow, toFields, updatePaperFields } from './papers-repo.js';
import type { PageResult } from './read-page.js';
import type { PaperLink } from './paper-links.js';
import { openPageFeed, pageBytes, WORKER_MIN_BYTES, type ParseMode } from './page-feed.js';
import { checkpointInBackground, suspendAutoCheckpoint } from '../db/checkpoint.js';
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
  /** A big ingest into a file commits every this many ms (INGEST_CHUNK_MS); 0: one transaction. */
  chunkMs?: number;
  /** The pause after each chunk's commit (default CHUNK_PAUSE_MS); only tests with no other process waiting shorten it. */
  pauseMs?: number;
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

/**
 * How long one chunk of a big ingest holds the corpus file's write lock by default (INGEST_CHUNK_MS), and the pause
 * after each commit. Another writer waits at most about one chunk plus one poll of its busy handler, which SQLite
 * makes every 100 ms once it has waited a while: a shorter pause could fall between two polls (docs/corpus.md,
 * "A busy database").
 */
export const DEFAULT_CHUNK_MS = 250;
const CHUNK_PAUSE_MS = 100;
const PAUSE_CELL = new Int32Array(new SharedArrayBuffer(4));

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
 * already parsed. A small ingest is one transaction: a failed one leaves the corpus as it was. A big one into a file
 * commits a chunk every CHUNK_MS, so nobody else waits for the whole of it; a failed or killed one keeps the new
 * papers of the chunks it committed (each with its search index), and running it again finishes it. A new paper is inserted when
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

  // A big load into a file commits in chunks, so other writers (a subscribe, a send) get the lock in between.
  const chunkMs = opts.chunkMs ?? DEFAULT_CHUNK_MS;
  const chunked = chunkMs > 0 && bytes >= WORKER_MIN_BYTES && !db.memory;
  let generation = 0;
  let chunkMaxBefore = 0;
  let chunkStarted = 0;
  let bulk: ReturnType<typeof startBulkLoad> = { bulk: false, finish() {} };
  const maxId = () => q('max-paper-id').get()!.n;
  const open = () => {
    db.exec('BEGIN');
    // First, and a write: the transaction takes the corpus file's write lock now, not the search file's (see search.sql).
    generation = q('bump-corpus-generation').get()!.generation;
    chunkMaxBefore = maxId();
    chunkStarted = Date.now();
  };
  // A big load's WAL is checkpointed on another thread, not inside a commit; a chunked one after every chunk, or a
  // commit by another process crossing the automatic checkpoint's threshold would copy the whole log on its thread.
  const background = bytes >= WORKER_MIN_BYTES && !db.memory && db.pragma('journal_mode', { simple: true }) === 'wal';
  const logs = [db.name, searchFileFor(db.name)];
  let checkpointsDone: Int32Array[] = [];
  const checkpoints: Promise<number>[] = [];
  /**
   * Ends a chunk that is not the last: the index catches up with its rows, both files commit (corpus first, each at
   * one generation, so a crash between the two is seen and repaired at open), and the next chunk starts after a pause.
   */
  const commitChunk = () => {
    search.allInserted(chunkMaxBefore);
    search.prepare(generation);
    db.exec('COMMIT');
    search.commit(false);
    // This thread does not return to its event loop until the end: the workers say they are through on shared memory.
    if (background && checkpointsDone.every((d) => Atomics.load(d, 0) === 1)) {
      checkpointsDone = logs.map(() => new Int32Array(new SharedArrayBuffer(4)));
      checkpoints.push(...logs.map((f, i) => checkpointInBackground(f, checkpointsDone[i]).catch(() => 0)));
    }
    // Another process waiting for the lock polls it (SQLite's busy handler sleeps up to 100 ms between tries): a pause
    // at least that long lets it in. The worker goes on parsing and indexing meanwhile.
    Atomics.wait(PAUSE_CELL, 0, 0, opts.pauseMs ?? CHUNK_PAUSE_MS);
    open();
    search.start(bulk.bulk);
  };
  const chunkFull = () => chunked && Date.now() - chunkStarted >= chunkMs;

  const write = () => {
    open();
    const maxBefore = chunkMaxBefore;
    const known = new Set<string>();
    for (const r of q('all-paper-keys').iterate()) known.add(r.title_key);
    // Papers an admin removed (`paperboy papers remove`) stay out, whichever page carries them.
    const removed = new Set(q('removed-title-keys').all().map((r) => r.title_key));
    bulk = startBulkLoad(db, known.size, Math.floor(bytes / BYTES_PER_ENTRY_AT_MOST), !chunked);
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
          report.added++;
        }
        insertSource.run(mine.id, file, page.lines[i]!, page.positions[i]!, listedOn);
      }
      search.written(page, ids);
      if (chunkFull()) commitChunk();
    }
    // The in-thread writer indexes the new papers now, before a merged one among them is indexed again below.
    search.allInserted(chunkMaxBefore);
    chunkMaxBefore = Math.max(maxBefore, maxId());

    // New papers seen again on a later page: indexed with their first text, so a changed one is indexed again.
    let n = 0;
    for (const a of added.values()) {
      if (!a.fields) continue;
      const first = entryFields(a.page, a.at);
      if (samePaperFields(first, a.fields)) continue;
      updatePaperFields(store, a.id, a.fields, stamp);
      if (first.abstract !== a.fields.abstract) search.replace(a.id, a.fields.title, a.fields.abstract);
      if (++n % 256 === 0 && chunkFull()) commitChunk();
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
      if (++n % 256 === 0 && chunkFull()) commitChunk();
    }
  };
  let releaseAutoCheckpoint: ((settled?: Promise<unknown>) => void) | null = null;
  let committed = false;
  let indexFailure: unknown = null;
  // Ingest writes the index itself: the triggers would write it from this connection, which the worker's would block.
  dropSearchTriggers(db);
  try {
    db.pragma(`cache_size = -${Math.max(INGEST_CACHE_KIB, -cacheBefore)}`);
    if (background) releaseAutoCheckpoint = suspendAutoCheckpoint(db);
    write();
    search.allInserted(chunkMaxBefore);
    bulk.finish();
    search.prepare(generation);
    db.exec('COMMIT');
    committed = true;
    search.commit(true);
  } catch (err) {
    if (!committed) {
      if (db.inTransaction) db.exec('ROLLBACK');
      search.rollback();
      // The chunks committed before the failure stay, each with its index: running the ingest again finishes it.
      throw err;
    }
    indexFailure = err;
  } finally {
    feed.close();
    createSearchTriggers(db);
    db.pragma(`cache_size = ${cacheBefore}`);
    if (!committed) releaseAutoCheckpoint?.();
  }
  if (releaseAutoCheckpoint) {
    // Both files: the worker's connection leaves the search file's log alone for a load this size too (page-feed.ts).
    // The last one after those a chunked load started, which copy their part of the log meanwhile.
    report.walCheckpoint = Promise.all(checkpoints)
      .then(() => Promise.all(logs.map((f) => checkpointInBackground(f))))
      .then((frames) => frames.reduce((a, b) => a + b, 0));
    // Nothing is lost when it fails (the log stays and the next checkpoint folds it back), so no caller has to await it.
    report.walCheckpoint.catch(() => {});
    releaseAutoCheckpoint(report.walCheckpoint);
  }
  if (indexFailure) indexAfterFailure(store, indexFailure);
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
