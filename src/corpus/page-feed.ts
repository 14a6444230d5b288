// Owns handing ingest its parsed pages in file order: parsed in a worker thread while ingest writes, or in-thread.
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readPage, type PageResult } from './read-page.js';
import type { ParseJob, ParseMessage } from './parse-worker.js';

/**
 * `worker` parses on another thread (the second core) while the caller writes; `inline` parses on this one;
 * `auto` takes the worker when the pages are big enough to repay starting it (~0.25 s with the TypeScript loader).
 */
export type ParseMode = 'auto' | 'worker' | 'inline';

/** Below this many bytes of pages, starting a worker costs more than parsing them here. */
export const WORKER_MIN_BYTES = 4 * 1024 * 1024;

/** How long to wait for the worker's first page before parsing in-thread instead, and for each later page. */
const FIRST_PAGE_LIMIT_MS = 15_000;
const NEXT_PAGE_LIMIT_MS = 60_000;

export interface PageFeed {
  /** Where pages are parsed: a worker can fall back to in-thread parsing if it never starts. */
  readonly kind: 'worker' | 'inline';
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
  return { kind: 'inline', next: () => (i < files.length ? readPage(files[i++]!, now) : null), close() {} };
}

/** tsx's ESM API module (`tsx/esm/api`, import condition): require.resolve finds its CommonJS twin beside it. */
function tsxEsmApi(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
}

/**
 * Ingest runs inside one synchronous SQLite transaction and never yields to the event loop (nothing else may run on
 * the connection meanwhile), so pages are taken off the port with receiveMessageOnPort, blocking on a shared counter.
 */
function workerFeed(files: string[], now: Date): PageFeed {
  const ext = extname(fileURLToPath(import.meta.url));
  const entry = new URL(`./parse-worker${ext}`, import.meta.url);
  const { port1, port2 } = new MessageChannel();
  const posted = new Int32Array(new SharedArrayBuffer(4));
  const job: ParseJob = { files, now: now.toISOString(), port: port2, posted };
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
  // A worker that fails to start is noticed by its silence (see take); its error event must not crash the process.
  worker.on('error', () => {});
  worker.unref();
  let received = 0;
  let done = false;
  let fallback: PageFeed | null = null;
  /** The next message, or null when the worker gave no sign of life within `limitMs`. */
  const take = (limitMs: number): ParseMessage | null => {
    const deadline = Date.now() + limitMs;
    for (;;) {
      const m = receiveMessageOnPort(port1);
      if (m) {
        received++;
        return m.message as ParseMessage;
      }
      // Its exit and error events would need the event loop: progress on the shared counter is all there is to see.
      const left = deadline - Date.now();
      if (left <= 0) return null;
      Atomics.wait(posted, 0, received, Math.min(left, 100));
    }
  };
  return {
    get kind() {
      return fallback ? 'inline' : 'worker';
    },
    next() {
      if (fallback) return fallback.next();
      if (done) return null;
      const m = take(received === 0 ? FIRST_PAGE_LIMIT_MS : NEXT_PAGE_LIMIT_MS);
      if (m === null && received === 0) {
        // The worker did not start (no loader for it, no threads): nothing was taken yet, so parse here instead.
        void worker.terminate();
        fallback = inlineFeed(files, now);
        return fallback.next();
      }
      if (m === null) throw new Error(`page parser worker stalled: no page for ${NEXT_PAGE_LIMIT_MS / 1000} s`);
      if ('error' in m) throw new Error(`page parser worker failed: ${m.error}`);
      if ('done' in m) {
        done = true;
        return null;
      }
      return m.page;
    },
    close() {
      port1.close();
      void worker.terminate();
    },
  };
}

/** The caller parses this share of the pages (the first ones) itself while the worker starts up and parses the rest. */
const HEAD_SHARE = 0.2;

export function openPageFeed(files: string[], now: Date, mode: ParseMode = 'auto', bytes = pageBytes(files)): PageFeed {
  const useWorker = mode === 'worker' || (mode === 'auto' && files.length > 1 && bytes >= WORKER_MIN_BYTES);
  if (!useWorker || files.length === 0) return inlineFeed(files, now);
  const split = Math.min(Math.floor(files.length * HEAD_SHARE), files.length - 1);
  const head = inlineFeed(files.slice(0, split), now);
  // Started now, so it boots (~0.25 s with the TypeScript loader) and runs ahead while the head is parsed here.
  const tail = workerFeed(files.slice(split), now);
  let inHead = split > 0;
  return {
    get kind() {
      return tail.kind;
    },
    next() {
      if (inHead) {
        const page = head.next();
        if (page) return page;
        inHead = false;
      }
      return tail.next();
    },
    close() {
      tail.close();
    },
  };
}
