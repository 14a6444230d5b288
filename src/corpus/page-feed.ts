// Owns handing ingest its parsed pages in file order (parsed in a worker thread while ingest writes, or in-thread),
// and the ingesting thread's side of the worker writing the search index.
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readPage, type PageResult } from './read-page.js';
import type { ParseJob, ParseMessage } from './parse-worker.js';
import type { IndexMessage } from './search-worker-index.js';
import type { SearchWriter } from './search-writer.js';

/**
 * `auto` shares the pages between a worker thread (the second core) and the caller, which writes and parses whatever
 * page it reaches before the worker has claimed it, when they are big enough to repay starting a worker; `worker`
 * leaves every page to the worker; `inline` parses all of them on the caller's thread.
 */
export type ParseMode = 'auto' | 'worker' | 'inline';

/** Below this many bytes of pages, starting a worker costs more than parsing them here. */
export const WORKER_MIN_BYTES = 4 * 1024 * 1024;

/**
 * How long the worker may show no progress (no page posted, no index message applied) before the ingest gives up
 * on it: only a worker that died without a word (its exit event needs the event loop, which ingest never yields to)
 * stays quiet that long.
 */
const QUIET_LIMIT_MS = 60_000;

export interface PageFeed {
  /** Where pages were parsed so far: `inline` when this thread parsed every one (no worker, or it never got one). */
  readonly kind: 'worker' | 'inline';
  /** How many of the pages handed out so far this thread parsed itself. */
  readonly parsedHere: number;
  /** The next page in file order, or null after the last. Blocks (synchronously) until the worker has parsed it. */
  next(): PageResult | null;
  /** Set when the worker writes the search index (a worker was started and given the search file). */
  readonly search: SearchWriter | null;
  close(): void;
}

/** Bytes of the page files that exist (a missing one gets its warning when read). */
export function pageBytes(files: string[]): number {
  let n = 0;
  for (const f of files) {
    try {
      n += statSync(f).size;
    } catch {
      // An unreadable file gets its warning when it is read.
    }
  }
  return n;
}

function inlineFeed(files: string[], now: Date): PageFeed {
  let i = 0;
  return {
    kind: 'inline',
    get parsedHere() {
      return i;
    },
    next: () => (i < files.length ? readPage(files[i++]!, now) : null),
    search: null,
    close() {},
  };
}

/** tsx's ESM API module (`tsx/esm/api`, import condition): require.resolve finds its CommonJS twin beside it. */
function tsxEsmApi(): string {
  return pathToFileURL(
    createRequire(import.meta.url)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href;
}

/**
 * Pages are shared out through one atomic counter: the worker claims the next page, parses it and posts it; this
 * thread, wanting page k, uses it if it was posted, parses it itself if nobody has claimed it yet (while the worker
 * boots, ~0.3 s with the TypeScript loader, or whenever it falls behind), and otherwise waits for the worker to finish
 * it. So this thread never sits idle while a page it could parse is waiting, and never parses a page twice.
 *
 * Given the search file, the worker also writes the search index on its own connection while this thread writes
 * the rows (the `search` writer below).
 *
 * Ingest runs inside one synchronous SQLite transaction and never yields to the event loop (nothing else may run on
 * the connection meanwhile), so messages are taken off the port with receiveMessageOnPort, blocking on a shared
 * counter.
 */
function workerFeed(files: string[], now: Date, share: boolean, searchFile: string | null, bytes: number): PageFeed {
  const ext = extname(fileURLToPath(import.meta.url));
  const entry = new URL(`./parse-worker${ext}`, import.meta.url);
  const { port1, port2 } = new MessageChannel();
  const inbox = searchFile ? new MessageChannel() : null;
  const posted = new Int32Array(new SharedArrayBuffer(4));
  const claim = new Int32Array(new SharedArrayBuffer(4));
  const sent = new Int32Array(new SharedArrayBuffer(4));
  const progress = new Int32Array(new SharedArrayBuffer(4));
  const job: ParseJob = {
    files,
    now: now.toISOString(),
    port: port2,
    posted,
    claim,
    // The same rule as ingest's for the corpus file: a big load's log is checkpointed on another thread afterwards.
    search: inbox && searchFile ? { file: searchFile, inbox: inbox.port2, sent, progress, checkpointLater: bytes >= WORKER_MIN_BYTES } : null,
  };
  const transferList = [port2, ...(inbox ? [inbox.port2] : [])] as unknown as MessagePort[];
  const options = { workerData: job, transferList };
  // Run from TypeScript sources (tsx, vitest), the worker registers tsx's ESM hooks itself: workers do not inherit
  // them, and tsx's own `--import` entry only registers on the main thread.
  const worker =
    ext === '.ts'
      ? new Worker(`import(${JSON.stringify(tsxEsmApi())}).then((tsx) => tsx.register())` + `.then(() => import(${JSON.stringify(entry.href)}));`, {
          ...options,
          eval: true,
        })
      : new Worker(entry, options);
  // A worker that fails to start claims nothing, so this thread parses every page; its error event must not crash the
  // process. Without it the search index is not written: the ingest fails (and rolls back) once it has been quiet
  // for QUIET_LIMIT_MS.
  worker.on('error', () => {});
  worker.unref();
  let received = 0;
  let want = 0;
  let stolen = 0;
  let lastStolen = false;
  const ready = new Map<number, PageResult>();
  const replies = new Set<string>();
  /** Set once the worker reported a failure (it rolled back then) or went quiet: nothing more is asked of it. */
  let failed = false;
  /** Takes the worker's messages until `got` finds what it waits for; throws when the worker fails or goes quiet. */
  const waitUntil = <T>(got: () => T | undefined, what: string): T => {
    let deadline = Date.now() + QUIET_LIMIT_MS;
    let applied = Atomics.load(progress, 0);
    for (;;) {
      const v = got();
      if (v !== undefined) return v;
      const m = receiveMessageOnPort(port1);
      if (m) {
        received++;
        const msg = m.message as ParseMessage;
        if ('error' in msg) {
          failed = true;
          throw new Error(`ingest worker failed: ${msg.error}`);
        }
        if ('page' in msg) ready.set(msg.index, msg.page);
        else for (const k of Object.keys(msg)) replies.add(k);
        continue;
      }
      // Its exit and error events would need the event loop: progress on the shared counters is all there is to see.
      if (Atomics.load(progress, 0) !== applied) {
        applied = Atomics.load(progress, 0);
        deadline = Date.now() + QUIET_LIMIT_MS;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        failed = true;
        throw new Error(`ingest worker stalled: ${what} for ${QUIET_LIMIT_MS / 1000} s`);
      }
      Atomics.wait(posted, 0, received, Math.min(left, 100));
    }
  };
  const take = (index: number) => () => {
    const got = ready.get(index);
    if (got) ready.delete(index);
    return got;
  };
  // Taken when seen: each chunk of the ingest waits for its own `ready` and `committed`.
  const reply = (k: 'ready' | 'committed' | 'rolledBack') => () => (replies.delete(k) ? true : undefined);
  const send = (m: IndexMessage) => {
    inbox!.port1.postMessage(m);
    Atomics.add(sent, 0, 1);
    Atomics.notify(sent, 0);
  };
  let ended = false;
  /** Merged papers, sent in one message at the end. */
  const merged = { ids: [] as number[], titles: [] as string[], abstracts: [] as string[] };
  const search: SearchWriter | null = inbox && {
    wantsIds: true,
    start: (bulk) => send({ start: { bulk } }),
    written(page, ids) {
      ids ??= new Int32Array(0);
      if (!lastStolen) return send({ page: want - 1, ids });
      // This thread parsed the page, so the worker never saw its text: send what the new papers need.
      const keep: number[] = [];
      for (let i = 0; i < ids.length; i++) if (ids[i]! >= 0) keep.push(i);
      if (keep.length === 0) return;
      send({
        rows: { ids: Int32Array.from(keep, (i) => ids[i]!), titles: keep.map((i) => page.titles[i]!), abstracts: keep.map((i) => page.abstracts[i]!) },
        replace: false,
      });
    },
    allInserted() {},
    replace(id, title, abstract) {
      merged.ids.push(id);
      merged.titles.push(title);
      merged.abstracts.push(abstract);
    },
    prepare(generation) {
      if (merged.ids.length > 0) send({ rows: { ...merged, ids: Int32Array.from(merged.ids) }, replace: true });
      merged.ids = [];
      merged.titles = [];
      merged.abstracts = [];
      send({ finish: { generation } });
      waitUntil(reply('ready'), 'search index not finished');
    },
    commit(last) {
      ended = last;
      send({ commit: { last } });
      waitUntil(reply('committed'), 'search index not committed');
    },
    rollback() {
      if (ended || failed) return;
      ended = true;
      try {
        send({ rollback: true });
        waitUntil(reply('rolledBack'), 'search index not rolled back');
      } catch {
        // A worker that failed has rolled back already; one that hangs loses its transaction when close() ends it.
      }
    },
  };
  return {
    get kind() {
      return stolen === want ? 'inline' : 'worker';
    },
    get parsedHere() {
      return stolen;
    },
    next() {
      if (want >= files.length) return null;
      const index = want++;
      // Unclaimed: the counter still points at this page, so claiming it here keeps the worker off it.
      lastStolen = share && Atomics.compareExchange(claim, 0, index, index + 1) === index;
      if (lastStolen) {
        stolen++;
        return readPage(files[index]!, now);
      }
      return waitUntil(take(index), `no page ${index + 1}`);
    },
    search,
    close() {
      // Whatever the worker has not claimed yet is claimed away, so it stops after the page it is on.
      Atomics.store(claim, 0, files.length);
      search?.rollback();
      port1.close();
      inbox?.port1.close();
      void worker.terminate();
    },
  };
}

/** Opens the feed; given `searchFile` (a file-backed store's search index), a worker it starts also writes the index. */
export function openPageFeed(files: string[], now: Date, mode: ParseMode = 'auto', bytes = pageBytes(files), searchFile: string | null = null): PageFeed {
  const useWorker = mode === 'worker' || (mode === 'auto' && files.length > 1 && bytes >= WORKER_MIN_BYTES);
  if (!useWorker || files.length === 0) return inlineFeed(files, now);
  // `worker` leaves every page to the worker (tests use it to prove that path); `auto` shares them out.
  return workerFeed(files, now, mode === 'auto', searchFile, bytes);
}
