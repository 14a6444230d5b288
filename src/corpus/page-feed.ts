// Owns handing ingest its parsed pages in file order: parsed in a worker thread while ingest writes, or in-thread.
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readPage, type PageResult } from './read-page.js';
import type { ParseJob, ParseMessage } from './parse-worker.js';

/**
 * `auto` shares the pages between a worker thread (the second core) and the caller, which writes and parses whatever
 * page it reaches before the worker has claimed it, when they are big enough to repay starting a worker; `worker`
 * leaves every page to the worker; `inline` parses all of them on the caller's thread.
 */
export type ParseMode = 'auto' | 'worker' | 'inline';

/** Below this many bytes of pages, starting a worker costs more than parsing them here. */
export const WORKER_MIN_BYTES = 4 * 1024 * 1024;

/** How long to wait for a page the worker has claimed before giving up on the ingest. */
const PAGE_LIMIT_MS = 60_000;

export interface PageFeed {
  /** Where pages were parsed so far: `inline` when this thread parsed every one (no worker, or it never got one). */
  readonly kind: 'worker' | 'inline';
  /** How many of the pages handed out so far this thread parsed itself. */
  readonly parsedHere: number;
  /** The next page in file order, or null after the last. Blocks (synchronously) until the worker has parsed it. */
  next(): PageResult | null;
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
    close() {},
  };
}

/** tsx's ESM API module (`tsx/esm/api`, import condition): require.resolve finds its CommonJS twin beside it. */
function tsxEsmApi(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
}

/**
 * Pages are shared out through one atomic counter: the worker claims the next page, parses it and posts it; this
 * thread, wanting page k, uses it if it was posted, parses it itself if nobody has claimed it yet (while the worker
 * boots, ~0.3 s with the TypeScript loader, or whenever it falls behind), and otherwise waits for the worker to finish
 * it. So this thread never sits idle while a page it could parse is waiting, and never parses a page twice.
 *
 * Ingest runs inside one synchronous SQLite transaction and never yields to the event loop (nothing else may run on
 * the connection meanwhile), so pages are taken off the port with receiveMessageOnPort, blocking on a shared counter.
 */
function workerFeed(files: string[], now: Date, share: boolean): PageFeed {
  const ext = extname(fileURLToPath(import.meta.url));
  const entry = new URL(`./parse-worker${ext}`, import.meta.url);
  const { port1, port2 } = new MessageChannel();
  const posted = new Int32Array(new SharedArrayBuffer(4));
  const claim = new Int32Array(new SharedArrayBuffer(4));
  const job: ParseJob = { files, now: now.toISOString(), port: port2, posted, claim };
  const options = { workerData: job, transferList: [port2 as unknown as MessagePort] };
  // Run from TypeScript sources (tsx, vitest), the worker registers tsx's ESM hooks itself: workers do not inherit
  // them, and tsx's own `--import` entry only registers on the main thread.
  const worker =
    ext === '.ts'
      ? new Worker(
          `import(${JSON.stringify(tsxEsmApi())}).then((tsx) => tsx.register())` +
            `.then(() => import(${JSON.stringify(entry.href)}));`,
          { ...options, eval: true },
        )
      : new Worker(entry, options);
  // A worker that fails to start claims nothing, so this thread parses every page; its error event must not crash the process.
  worker.on('error', () => {});
  worker.unref();
  let received = 0;
  let want = 0;
  let stolen = 0;
  const ready = new Map<number, PageResult>();
  /** Takes the worker's messages until page `index` is among them; throws when it fails or goes quiet. */
  const waitFor = (index: number): PageResult => {
    const deadline = Date.now() + PAGE_LIMIT_MS;
    for (;;) {
      const got = ready.get(index);
      if (got) {
        ready.delete(index);
        return got;
      }
      const m = receiveMessageOnPort(port1);
      if (m) {
        received++;
        const msg = m.message as ParseMessage;
        if ('error' in msg) throw new Error(`page parser worker failed: ${msg.error}`);
        if ('page' in msg) ready.set(msg.index, msg.page);
        continue;
      }
      // Its exit and error events would need the event loop: progress on the shared counter is all there is to see.
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`page parser worker stalled: no page for ${PAGE_LIMIT_MS / 1000} s`);
      Atomics.wait(posted, 0, received, Math.min(left, 100));
    }
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
      if (share && Atomics.compareExchange(claim, 0, index, index + 1) === index) {
        stolen++;
        return readPage(files[index]!, now);
      }
      return waitFor(index);
    },
    close() {
      // Whatever the worker has not claimed yet is claimed away, so it stops after the page it is on.
      Atomics.store(claim, 0, files.length);
      port1.close();
      void worker.terminate();
    },
  };
}

export function openPageFeed(files: string[], now: Date, mode: ParseMode = 'auto', bytes = pageBytes(files)): PageFeed {
  const useWorker = mode === 'worker' || (mode === 'auto' && files.length > 1 && bytes >= WORKER_MIN_BYTES);
  if (!useWorker || files.length === 0) return inlineFeed(files, now);
  // `worker` leaves every page to the worker (tests use it to prove that path); `auto` shares them out.
  return workerFeed(files, now, mode === 'auto');
}
