// Owns a big write's hold on the store (search triggers off, a bigger page cache, the automatic WAL checkpoint held
// for one on another thread) and ingest's chunked commit of both files (corpus first, then the search index).
import type { Db, Store } from '../db/open.js';
import { checkpointInBackground, suspendAutoCheckpoint } from '../db/checkpoint.js';
import { createSearchTriggers, dropSearchTriggers, rebuildSearchIndex, searchFileFor } from '../db/search-index.js';
import { startBulkLoad, type BulkLoad } from './bulk-indexes.js';
import type { SearchWriter } from './search-writer.js';

/** SQLite page cache for a big write (KiB): holds the title_key index (~8 MB at 100,000 papers), which takes inserts in random order. */
const BULK_CACHE_KIB = 32 * 1024;

/**
 * Sets up `db` for a write that indexes its papers itself, and returns what puts it back. The triggers would index
 * each row as it is written, from this connection (which a worker writing the index would block); the writer does it
 * in one pass. `foreignKeysOff`: the caller knows every row it writes points at a row it holds under the same lock.
 */
export function holdWriteSettings(db: Db, opts: { foreignKeysOff?: boolean } = {}): () => void {
  dropSearchTriggers(db);
  const cacheBefore = db.pragma('cache_size', { simple: true }) as number;
  const keysBefore = opts.foreignKeysOff ? (db.pragma('foreign_keys', { simple: true }) as number) : null;
  db.pragma(`cache_size = -${Math.max(BULK_CACHE_KIB, -cacheBefore)}`);
  if (keysBefore !== null) db.pragma('foreign_keys = OFF');
  return () => {
    db.pragma(`cache_size = ${cacheBefore}`);
    if (keysBefore !== null) db.pragma(`foreign_keys = ${keysBefore}`);
    createSearchTriggers(db);
  };
}

/** A big write's WAL checkpoints, run on other threads (db/checkpoint.ts) while the automatic one is held. */
export interface HeldCheckpoint {
  /** After a commit that others follow: checkpoints both logs on workers, unless the last ones are still running. */
  afterCommit(): void;
  /** After the last commit: the last checkpoints, resolving with the frames they copied; nobody has to await it. */
  finish(): Promise<number>;
  /** After a failure: the automatic checkpoint is back at once. */
  abandon(): void;
}

/**
 * For a write big enough that SQLite's automatic checkpoint would copy its whole log inside a commit, on this thread
 * (a later commit by anyone crossing the threshold would too): holds it off and checkpoints on other threads instead.
 * Null for a store whose log is not a WAL file.
 */
export function holdCheckpoint(db: Db): HeldCheckpoint | null {
  if (db.memory || db.pragma('journal_mode', { simple: true }) !== 'wal') return null;
  const release = suspendAutoCheckpoint(db);
  // Both files: the worker writing the index leaves the search file's log alone for a write this size too.
  const logs = [db.name, searchFileFor(db.name)];
  let done: Int32Array[] = [];
  const running: Promise<number>[] = [];
  return {
    afterCommit() {
      // Ingest does not return to its event loop until the end: the workers say they are through on shared memory.
      if (!done.every((d) => Atomics.load(d, 0) === 1)) return;
      done = logs.map(() => new Int32Array(new SharedArrayBuffer(4)));
      running.push(...logs.map((f, i) => checkpointInBackground(f, done[i]).catch(() => 0)));
    },
    finish() {
      // The last ones after those started between commits, which copy their part of the log meanwhile.
      const all = Promise.all(running)
        .then(() => Promise.all(logs.map((f) => checkpointInBackground(f))))
        .then((frames) => frames.reduce((a, b) => a + b, 0));
      // Nothing is lost when it fails (the log stays and the next checkpoint folds it back).
      all.catch(() => {});
      release(all);
      return all;
    },
    abandon() {
      release();
    },
  };
}

/**
 * How long one chunk of a big ingest holds the corpus file's write lock by default (INGEST_CHUNK_MS), and the pause
 * after each commit. Another writer waits at most about one chunk plus one poll of its busy handler, which SQLite
 * makes every 100 ms once it has waited a while: a shorter pause could fall between two polls (docs/corpus.md,
 * "A busy database").
 */
export const DEFAULT_CHUNK_MS = 250;
const CHUNK_PAUSE_MS = 100;
const PAUSE_CELL = new Int32Array(new SharedArrayBuffer(4));

export interface LoadOptions {
  /** Commit every this many ms (0: one transaction). */
  chunkMs: number;
  /** The pause after each chunk's commit (default CHUNK_PAUSE_MS). */
  pauseMs?: number;
  /** Checkpoint on other threads (holdCheckpoint): the load is big. */
  backgroundCheckpoint: boolean;
  /** Called first when the load ends, either way (ingest closes its page feed). */
  onEnd?: () => void;
}

/** What a load's writing step sees of its transaction. */
export interface LoadSession {
  /**
   * After the stored papers were read: `stored` of them, at least `incoming` coming. A load that brings at least as
   * many as are stored is a bulk one (bulk-indexes.ts); starts the search writer.
   */
  startWriting(stored: number, incoming: number): void;
  /** Between two pieces of work: commits the chunk and opens the next once it has held the lock its time. */
  maybeCommit(): void;
  /** Indexes every paper inserted so far now: one that is written again later is indexed again, not twice as new. */
  indexInserted(): void;
}

export interface LoadResult {
  /** Set after a load that checkpoints on other threads (see HeldCheckpoint.finish). */
  walCheckpoint?: Promise<number>;
}

/**
 * Runs `write` in a transaction on `store` with `search` writing the index beside it, then commits both files. A
 * failed load rolls back what it had not committed; a chunked one keeps the chunks it committed (each with its
 * index), so running it again finishes it. Each commit is corpus first, then index, each at one generation: a crash
 * between the two is seen and repaired at open.
 */
export function runLoad(store: Store, search: SearchWriter, opts: LoadOptions, write: (session: LoadSession) => void): LoadResult {
  const { q, db } = store;
  const chunked = opts.chunkMs > 0;
  let generation = 0;
  let maxBefore = 0;
  let chunkStarted = 0;
  let bulk: BulkLoad = { bulk: false, finish() {} };
  const maxId = () => (q('max-paper-id').get() as { n: number }).n;
  const open = () => {
    db.exec('BEGIN');
    // First, and a write: the transaction takes the corpus file's write lock now, not the search file's (see search.sql).
    generation = (q('bump-corpus-generation').get() as { generation: number }).generation;
    maxBefore = maxId();
    chunkStarted = Date.now();
  };
  let checkpoint: HeldCheckpoint | null = null;
  /** Ends a chunk that is not the last: the index catches up with its rows, both files commit, the next chunk starts after a pause. */
  const commitChunk = () => {
    search.allInserted(maxBefore);
    search.prepare(generation);
    db.exec('COMMIT');
    search.commit(false);
    checkpoint?.afterCommit();
    // Another process waiting for the lock polls it (SQLite's busy handler sleeps up to 100 ms between tries): a pause
    // at least that long lets it in. The worker goes on parsing and indexing meanwhile.
    Atomics.wait(PAUSE_CELL, 0, 0, opts.pauseMs ?? CHUNK_PAUSE_MS);
    open();
    search.start(bulk.bulk);
  };
  const session: LoadSession = {
    startWriting(stored, incoming) {
      // A load committed in chunks keeps its secondary indexes: other connections see the tables between chunks.
      bulk = startBulkLoad(db, stored, incoming, !chunked);
      search.start(bulk.bulk);
    },
    maybeCommit() {
      if (chunked && Date.now() - chunkStarted >= opts.chunkMs) commitChunk();
    },
    indexInserted() {
      search.allInserted(maxBefore);
      maxBefore = Math.max(maxBefore, maxId());
    },
  };

  let committed = false;
  let indexFailure: unknown = null;
  const restore = holdWriteSettings(db);
  try {
    if (opts.backgroundCheckpoint) checkpoint = holdCheckpoint(db);
    open();
    write(session);
    search.allInserted(maxBefore);
    bulk.finish();
    search.prepare(generation);
    db.exec('COMMIT');
    committed = true;
    search.commit(true);
  } catch (err) {
    if (!committed) {
      if (db.inTransaction) db.exec('ROLLBACK');
      search.rollback();
      throw err;
    }
    indexFailure = err;
  } finally {
    opts.onEnd?.();
    restore();
    if (!committed) checkpoint?.abandon();
  }
  const result: LoadResult = checkpoint ? { walCheckpoint: checkpoint.finish() } : {};
  if (indexFailure) indexAfterFailure(db, indexFailure);
  return result;
}

/**
 * The papers were committed but the worker's commit of the search index failed: the files' generations differ, so
 * the next open would rebuild it; doing it now means search shows the new papers in this process too.
 */
function indexAfterFailure(db: Db, failure: unknown): void {
  const why = (e: unknown) => (e instanceof Error ? e.message : String(e));
  try {
    rebuildSearchIndex(db);
  } catch (err) {
    throw new Error(
      `the papers were stored but the search index was not (${why(failure)}), and rebuilding it failed (${why(err)}): ` +
        'it is rebuilt when the store next opens',
    );
  }
}
