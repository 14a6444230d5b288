// Owns ingesting listing pages into the store, in order: list the files, hand their parsed pages (page-feed.ts) to
// the entry merge (entry-merge.ts) inside one load (load-session.ts: short transactions, both files committed).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../db/open.js';
import type { Clock } from '../clock.js';
import type { PageWarning } from './parse-page.js';
import { openPageFeed, pageBytes, WORKER_MIN_BYTES, type ParseMode } from './page-feed.js';
import { searchFileFor } from '../db/search-index.js';
import { inThreadSearchWriter } from './search-writer.js';
import { startEntryMerge, type EntryCounts } from './entry-merge.js';
import { DEFAULT_CHUNK_MS, runLoad } from './load-session.js';

export interface IngestReport extends EntryCounts {
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

/**
 * Pages average well over 2 KB per entry only when abstracts are very long, so this underestimates how many papers
 * the pages hold: it only has to tell a bulk load from a few pages added to a big corpus.
 */
const BYTES_PER_ENTRY_AT_MOST = 2048;

/** Page files under each path: a directory gives its `.txt` files (sorted), a file itself. */
export function listPageFiles(paths: string[], warnings: PageWarning[]): string[] {
  const files: string[] = [];
  for (const p of paths) {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(p);
    } catch (err) {
      warnings.push({ file: p, line: 0, message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      continue;
    }
    if (st.isDirectory()) {
      for (const f of readdirSync(p)
        .filter((f) => f.endsWith('.txt'))
        .sort())
        files.push(join(p, f));
    } else files.push(p);
  }
  return files;
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
  const { db } = store;
  // An in-memory store's search index is only reachable from this connection.
  const feed = openPageFeed(files, now, opts.parse ?? 'auto', bytes, db.memory ? null : searchFileFor(db.name));
  const search = feed.search ?? inThreadSearchWriter(store);
  // A big load into a file commits in chunks, so other writers (a subscribe, a send) get the lock in between, and its
  // WAL is checkpointed on other threads, not inside a commit.
  const big = bytes >= WORKER_MIN_BYTES && !db.memory;
  const chunkMs = big ? (opts.chunkMs ?? DEFAULT_CHUNK_MS) : 0;
  const load = runLoad(store, search, { chunkMs, pauseMs: opts.pauseMs, backgroundCheckpoint: big, onEnd: () => feed.close() }, (session) => {
    const merge = startEntryMerge(store, search, now.toISOString(), report);
    session.startWriting(merge.stored, Math.floor(bytes / BYTES_PER_ENTRY_AT_MOST));
    for (let page = feed.next(); page; page = feed.next()) {
      merge.page(page);
      if (page.read) session.maybeCommit();
    }
    // The in-thread writer indexes the new papers now, before a merged one among them is indexed again.
    session.indexInserted();
    merge.writeMerged(() => session.maybeCommit());
  });
  if (load.walCheckpoint) report.walCheckpoint = load.walCheckpoint;
  return report;
}

export function formatWarning(w: PageWarning): string {
  return w.line > 0 ? `${w.file}:${w.line}: ${w.message}` : `${w.file}: ${w.message}`;
}
