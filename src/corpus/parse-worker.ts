// Owns the worker-thread side of parsing: claims the next unclaimed page, parses it and hands it over, until none is left.
import { workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { readPage } from './read-page.js';

export interface ParseJob {
  files: string[];
  now: string;
  port: MessagePort;
  /** [0]: messages posted so far, bumped after each post so the ingesting thread can block on it with Atomics.wait. */
  posted: Int32Array;
  /** [0]: the index of the next page nobody has claimed; both threads take pages from it (see page-feed.ts). */
  claim: Int32Array;
}

export type ParseMessage = { index: number; page: ReturnType<typeof readPage> } | { done: true } | { error: string };

const job = workerData as ParseJob;
const post = (m: ParseMessage) => {
  job.port.postMessage(m);
  Atomics.add(job.posted, 0, 1);
  Atomics.notify(job.posted, 0);
};
try {
  const now = new Date(job.now);
  for (let i = Atomics.add(job.claim, 0, 1); i < job.files.length; i = Atomics.add(job.claim, 0, 1)) post({ index: i, page: readPage(job.files[i]!, now) });
  post({ done: true });
} catch (err) {
  // The ingesting thread never returns to its event loop mid-ingest, so a failure has to travel as a message.
  post({ error: (err as Error).stack ?? String(err) });
}
