// Owns the worker-thread side of parsing: reads and parses pages in order and hands each over as soon as it is done.
import { workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { readPage } from './read-page.js';

export interface ParseJob {
  files: string[];
  now: string;
  port: MessagePort;
  /** [0]: messages posted so far, bumped after each post so the ingesting thread can block on it with Atomics.wait. */
  posted: Int32Array;
}

export type ParseMessage = { page: ReturnType<typeof readPage> } | { done: true } | { error: string };

const job = workerData as ParseJob;
const post = (m: ParseMessage) => {
  job.port.postMessage(m);
  Atomics.add(job.posted, 0, 1);
  Atomics.notify(job.posted, 0);
};
try {
  const now = new Date(job.now);
  for (const f of job.files) post({ page: readPage(f, now) });
  post({ done: true });
} catch (err) {
  // The ingesting thread never returns to its event loop mid-ingest, so a failure has to travel as a message.
  post({ error: (err as Error).stack ?? String(err) });
}
