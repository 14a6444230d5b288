// Owns writing a big fetch's search index on a worker thread while the merging thread writes the rows.
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import { createRequire } from 'node:module';
import type { Store } from '../db/open.js';
import { inThreadSearchWriter } from './search-writer.js';

/**
 * The merge's side of the index, per chunk: `start`, `added` for each new paper, `replace` for a changed one, then
 * `prepare` last inside the corpus transaction, and `commit` after the corpus commit or `rollback` after a failure.
 */
export interface FetchSearchWriter {
  start(bulk: boolean): void;
  added(id: number, title: string, abstract: string): void;
  /** Inside the transaction, after the last new paper: every paper with an id above `maxBefore` is new. */
  allInserted(maxBefore: number): void;
  replace(id: number, title: string, abstract: string): void;
  /** Last inside the corpus transaction: the index is complete and matches `generation`; throws if not. */
  prepare(generation: number): void;
  commit(): void;
  /** Never throws. */
  rollback(): void;
}

/** The in-thread writer (search-writer.ts), which reads the new papers back in one statement instead. */
export function inThreadFetchWriter(store: Store): FetchSearchWriter {
  const w = inThreadSearchWriter(store);
  return {
    start: (bulk) => w.start(bulk),
    added() {},
    allInserted: (maxBefore) => w.allInserted(maxBefore),
    replace: (id, title, abstract) => w.replace(id, title, abstract),
    prepare: (generation) => w.prepare(generation),
    commit: () => w.commit(true),
    rollback: () => w.rollback(),
  };
}

/** As ingest's worker: only a worker that died without a word stays quiet this long. */
const QUIET_LIMIT_MS = 60_000;
/** New papers sent to the worker per message: each message costs a copy and a wake-up, a batch little latency. */
const BATCH = 500;

type ToWorker =
  | { begin: { bulk: boolean } }
  // Each title and abstract in one string, cut by `lengths`: one string costs a copy to send, a thousand cost more.
  | { rows: { ids: number[]; lengths: number[]; text: string }; replace: boolean }
  | { finish: { generation: number } }
  | { commit: true }
  | { rollback: true };
type FromWorker = { ready: true } | { committed: true } | { rolledBack: true } | { error: string };

/**
 * Plain CommonJS evaluated in the worker, needing only the driver: it starts in milliseconds (a TypeScript loader
 * would take ~0.3 s, longer than the rows of a chunk take to write). The SQL is search.sql's, handed over by name.
 */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { port, posted, driver, file, sql, autoCheckpoint } = workerData;
const post = (m) => { port.postMessage(m); Atomics.add(posted, 0, 1); Atomics.notify(posted, 0); };
let db = null;
let failed = null;
let resume = null;
try {
  db = new (require(driver))(':memory:');
  db.pragma('busy_timeout = 5000');
  db.prepare('ATTACH DATABASE ? AS search').run(file);
  db.pragma('search.synchronous = NORMAL');
  if (!autoCheckpoint) db.pragma('wal_autocheckpoint = 0');
} catch (err) {
  failed = String((err && err.stack) || err);
}
const st = failed ? null : { insert: db.prepare(sql.insert), del: db.prepare(sql.del), generation: db.prepare(sql.generation) };
const automerge = (n) => db.exec("INSERT INTO search.papers_fts (papers_fts, rank) VALUES ('automerge', " + Math.trunc(n) + ")");
port.on('message', (m) => {
  if (failed) {
    if (m.finish || m.commit) post({ error: failed });
    else if (m.rollback) post({ rolledBack: true });
    return;
  }
  try {
    if (m.begin) {
      db.exec('BEGIN IMMEDIATE');
      if (m.begin.bulk) {
        const before = db.prepare("SELECT v FROM search.papers_fts_config WHERE k = 'automerge'").pluck().get();
        automerge(0);
        // 4: FTS5's own default (db/search-index.ts).
        resume = () => automerge(before == null ? 4 : before);
      }
    } else if (m.rows) {
      const { ids, lengths, text } = m.rows;
      let at = 0;
      for (let i = 0; i < ids.length; i++) {
        const title = text.slice(at, (at += lengths[2 * i]));
        const abstract = text.slice(at, (at += lengths[2 * i + 1]));
        if (m.replace) st.del.run(ids[i]);
        st.insert.run(ids[i], title, abstract);
      }
    } else if (m.finish) {
      if (resume) resume();
      resume = null;
      st.generation.run(m.finish.generation);
      post({ ready: true });
    } else if (m.commit) {
      db.exec('COMMIT');
      post({ committed: true });
    } else if (m.rollback) {
      resume = null;
      if (db.inTransaction) db.exec('ROLLBACK');
      post({ rolledBack: true });
    }
  } catch (err) {
    failed = String((err && err.stack) || err);
    resume = null;
    try { if (db.inTransaction) db.exec('ROLLBACK'); } catch {}
    if (m.finish || m.commit) post({ error: failed });
    else if (m.rollback) post({ rolledBack: true });
  }
});
`;

export interface FetchSearchWorker {
  /** A writer for the next chunk (one transaction on each file). */
  writer(): FetchSearchWriter;
  close(): void;
}

/**
 * Starts a worker with its own connection to the search file (`searchFile`), which writes the index of each chunk in
 * its own transaction while this thread writes the rows, on the second core, as ingest's worker does (page-feed.ts).
 * The merge runs inside a synchronous transaction, so replies are taken off the port with receiveMessageOnPort,
 * blocking on a shared counter. The search file commits right after the corpus file; the generation rule in
 * db/search-index.ts covers a crash between the two.
 */
export function startFetchSearchWorker(store: Store, searchFile: string, autoCheckpoint: boolean): FetchSearchWorker {
  const { q } = store;
  const { port1, port2 } = new MessageChannel();
  const posted = new Int32Array(new SharedArrayBuffer(4));
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const sql = { insert: q('search-insert').source, del: q('search-delete').source, generation: q('search-set-generation').source };
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { port: port2, posted, driver, file: searchFile, sql, autoCheckpoint },
    transferList: [port2],
  });
  // A worker that fails to start never replies: the chunk waiting on it fails (and rolls back) with a clear error.
  let startError: string | null = null;
  worker.on('error', (err) => (startError = String(err)));
  worker.unref();
  let received = 0;

  const send = (m: ToWorker) => port1.postMessage(m);
  const waitFor = (k: 'ready' | 'committed' | 'rolledBack', what: string): void => {
    const deadline = Date.now() + QUIET_LIMIT_MS;
    for (;;) {
      const m = receiveMessageOnPort(port1);
      if (m) {
        received++;
        const r = m.message as FromWorker;
        if ('error' in r) throw new Error(`fetch search-index worker failed: ${r.error}`);
        if (k in r) return;
        continue;
      }
      if (startError) throw new Error(`fetch search-index worker failed: ${startError}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`fetch search-index worker stalled: ${what} for ${QUIET_LIMIT_MS / 1000} s`);
      Atomics.wait(posted, 0, received, Math.min(left, 100));
    }
  };

  return {
    writer() {
      let ids: number[] = [];
      let lengths: number[] = [];
      let text = '';
      let batchReplaces = false;
      let ended = false;
      const flush = () => {
        if (ids.length === 0) return;
        send({ rows: { ids, lengths, text }, replace: batchReplaces });
        ids = [];
        lengths = [];
        text = '';
      };
      const push = (replace: boolean, id: number, title: string, abstract: string) => {
        if (replace !== batchReplaces) flush();
        batchReplaces = replace;
        ids.push(id);
        lengths.push(title.length, abstract.length);
        text += title + abstract;
        if (ids.length >= BATCH) flush();
      };
      return {
        start: (bulk) => send({ begin: { bulk } }),
        added: (id, title, abstract) => push(false, id, title, abstract),
        allInserted() {},
        replace: (id, title, abstract) => push(true, id, title, abstract),
        prepare(generation) {
          flush();
          send({ finish: { generation } });
          waitFor('ready', 'search index not finished');
        },
        commit() {
          ended = true;
          send({ commit: true });
          waitFor('committed', 'search index not committed');
        },
        rollback() {
          if (ended) return;
          ended = true;
          try {
            send({ rollback: true });
            waitFor('rolledBack', 'search index not rolled back');
          } catch {
            // A worker that failed has rolled back already; one that hangs loses its transaction when it is terminated.
          }
        },
      };
    },
    close() {
      port1.close();
      void worker.terminate();
    },
  };
}
