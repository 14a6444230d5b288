// Owns compiling MJML: on a worker thread that loads MJML on the first compile and goes away when compiles stop.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type mjmlType from 'mjml';

export type MjmlOptions = NonNullable<Parameters<typeof mjmlType>[1]>;

/** What a compile gives back: the HTML and, under validation levels other than strict, what MJML warned about. */
export interface MjmlResult {
  html: string;
  errors: { line: number; message: string; tagName: string; formattedMessage: string }[];
}

/**
 * How long the worker stays after its last compile, unless keepMjmlLoaded() says otherwise. Why a worker at all:
 * MJML's module graph takes about 1 s of CPU to load (`node -e "import('mjml')"`: 0.98 s user here) and some 50 MB
 * of RSS to keep (`require('mjml')`: 103 MB against 47 MB for node alone), more than the rest of a `paperboy send`.
 * A send compiles one wrapper per layout (renderer.ts), then only assembles blocks: with MJML on a thread that ends,
 * its memory is returned before the send's own peak, and its load never stalls the event loop of `serve`.
 */
const DEFAULT_IDLE_MS = 1000;

/** Plain CommonJS evaluated in the worker (as db/checkpoint.ts does): it needs no TypeScript loader. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
let mjml = null;
parentPort.on('message', async ({ id, source, options }) => {
  try {
    mjml ??= require(workerData.mjml);
    const r = await mjml(source, options);
    const errors = r.errors.map((e) => ({ line: e.line, message: e.message, tagName: e.tagName, formattedMessage: e.formattedMessage }));
    parentPort.postMessage({ id, html: r.html, errors });
  } catch (err) {
    // MJML's error classes do not survive the trip between threads; their words do.
    parentPort.postMessage({ id, error: String((err && err.message) || err) });
  }
});`;

interface Pending {
  resolve(r: MjmlResult): void;
  reject(err: Error): void;
}

/** One worker and the compiles it owes: a worker that ends fails only its own. */
interface Compiler {
  worker: Worker;
  pending: Map<number, Pending>;
}

let current: Compiler | null = null;
let idleMs = DEFAULT_IDLE_MS;
let idleTimer: NodeJS.Timeout | null = null;
let nextId = 0;

/** Keeps MJML loaded for `ms` after each compile: `serve` renders previews and confirmation emails now and then. */
export function keepMjmlLoaded(ms: number): void {
  idleMs = ms;
}

/**
 * Ends MJML's thread now (a stopping service): compiles still waiting fail with a clear error. A service kept it for
 * minutes (keepMjmlLoaded); one stopped in a process that goes on (tests, an embedding) should not leave ~36 MB behind.
 */
export async function stopMjml(): Promise<void> {
  if (current) await retire(current);
}

/** Ends a compiler's thread; the next compile starts another. */
async function retire(c: Compiler): Promise<void> {
  if (current === c) current = null;
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = null;
  await c.worker.terminate();
}

/** Whether MJML's thread is up: a send's memory depends on its ending (README, memory). */
export function mjmlThreadRunning(): boolean {
  return current !== null;
}

function start(): Compiler {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { mjml: createRequire(import.meta.url).resolve('mjml') },
    // A compile is one short job at a time: a small young generation costs it little and keeps the thread small.
    resourceLimits: { maxYoungGenerationSizeMb: 4 },
  });
  const c: Compiler = { worker, pending: new Map() };
  const failAll = (err: Error) => {
    if (current === c) current = null;
    for (const p of c.pending.values()) p.reject(err);
    c.pending.clear();
  };
  worker.on('message', (m: { id: number; error?: string } & MjmlResult) => {
    const p = c.pending.get(m.id);
    if (!p) return;
    c.pending.delete(m.id);
    if (m.error !== undefined) p.reject(new Error(m.error));
    else p.resolve({ html: m.html, errors: m.errors });
    if (c.pending.size === 0) idle(c);
  });
  worker.on('error', (err) => failAll(new Error(`MJML worker failed: ${err.message}`)));
  worker.on('exit', (code) => failAll(new Error(`MJML worker exited (code ${code}) with compiles pending`)));
  return c;
}

/** No compile waiting: the worker no longer holds the process open, and ends after idleMs. */
function idle(c: Compiler): void {
  c.worker.unref();
  idleTimer = setTimeout(() => {
    if (current === c && c.pending.size === 0) void retire(c);
  }, idleMs);
  idleTimer.unref();
}

/** Compiles MJML to HTML on the worker (started on demand); rejects with MJML's message under strict validation. */
export function mjml2html(source: string, options: MjmlOptions = {}): Promise<MjmlResult> {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = null;
  const c = (current ??= start());
  // While a compile is waiting, the worker keeps the process alive (a CLI render awaits nothing else).
  c.worker.ref();
  const id = nextId++;
  return new Promise<MjmlResult>((resolve, reject) => {
    c.pending.set(id, { resolve, reject });
    c.worker.postMessage({ id, source, options });
  });
}
