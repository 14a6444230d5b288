// Owns moving a WAL checkpoint off the writing thread: a worker with its own connection copies the log back.
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import type { Database } from 'better-sqlite3';

/**
 * Runs `PRAGMA wal_checkpoint(PASSIVE)` on `dbPath` from a worker thread with its own connection and resolves with
 * how many WAL frames it copied into the database (or rejects with its error).
 *
 * Why: a bulk ingest leaves a WAL of ~1.2 KB per paper, and SQLite's automatic checkpoint runs inside the commit that
 * crosses the threshold, on the writer's thread: about 0.3 s per 100,000 papers of copying and fsync after the data
 * is already committed. SQLite's own advice for write-heavy loads is to turn the automatic checkpoint off and run
 * checkpoints on another thread (https://sqlite.org/wal.html#application_initiated_checkpoints). A PASSIVE
 * checkpoint blocks neither readers nor writers; if the process exits first, the log simply stays until the next one.
 * `done` (on a SharedArrayBuffer) is set to 1 when the worker is through: a thread busy in a long synchronous job
 * (ingest) sees that without returning to its event loop.
 */
export function checkpointInBackground(dbPath: string, done?: Int32Array): Promise<number> {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  // Plain CommonJS evaluated in the worker: it needs no TypeScript loader, so it starts in milliseconds.
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     try {
       const db = new (require(workerData.driver))(workerData.dbPath, { fileMustExist: true });
       try {
         db.pragma('busy_timeout = 5000');
         const [r] = db.pragma('wal_checkpoint(PASSIVE)');
         parentPort.postMessage({ checkpointed: r.checkpointed });
       } finally {
         db.close();
       }
     } catch (err) {
       // The driver's error class does not survive the trip between threads; its words do.
       parentPort.postMessage({ error: String(err && err.message || err) });
     } finally {
       if (workerData.done) { Atomics.store(workerData.done, 0, 1); }
     }`,
    { eval: true, workerData: { driver, dbPath, done } },
  );
  worker.unref();
  return new Promise((resolve, reject) => {
    worker.once('message', (m: { checkpointed: number } | { error: string }) =>
      'error' in m ? reject(new Error(`WAL checkpoint of ${dbPath} failed: ${m.error}`)) : resolve(m.checkpointed),
    );
    worker.once('error', reject);
    worker.once('exit', (code) => (code === 0 ? resolve(0) : reject(new Error(`checkpoint worker exited ${code}`))));
  });
}

const suspended = new WeakMap<Database, { pages: number; holds: number }>();

/**
 * Turns `db`'s automatic checkpoint off for a big write and returns the release: `release(settled)` turns it back on
 * once `settled` (that write's background checkpoint) is through, `release()` at once (the write failed). Why not at
 * once in every case: the next small commit on this connection would find the big log still there and checkpoint it
 * itself, inline, racing the worker (measured: ~80 ms in the `fetch_runs` update after a 10,000-paper fetch). Holds
 * nest: a second big write before the first one's checkpoint settled keeps the setting the connection had before both.
 */
export function suspendAutoCheckpoint(db: Database): (settled?: Promise<unknown>) => void {
  let hold = suspended.get(db);
  if (!hold) {
    hold = { pages: db.pragma('wal_autocheckpoint', { simple: true }) as number, holds: 0 };
    suspended.set(db, hold);
    db.pragma('wal_autocheckpoint = 0');
  }
  hold.holds++;
  const h = hold;
  let released = false;
  const end = () => {
    if (--h.holds > 0) return;
    suspended.delete(db);
    if (db.open) db.pragma(`wal_autocheckpoint = ${h.pages}`);
  };
  return (settled) => {
    if (released) return;
    released = true;
    if (settled) settled.then(end, end);
    else end();
  };
}
