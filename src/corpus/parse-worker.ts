// Owns the worker thread of an ingest: claims the next unclaimed page, parses it and hands it over until none is left,
// and, given the search file, writes the search index from the new papers' ids the ingesting thread sends back.
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { readPage } from './read-page.js';
import { openWorkerIndex, type IndexMessage, type IndexReply, type WorkerIndex } from './search-worker-index.js';

export interface ParseJob {
  files: string[];
  now: string;
  port: MessagePort;
  /** [0]: messages posted so far, bumped after each post so the ingesting thread can block on it with Atomics.wait. */
  posted: Int32Array;
  /** [0]: the index of the next page nobody has claimed; both threads take pages from it (see page-feed.ts). */
  claim: Int32Array;
  /** Set when this worker writes the search index: the file, and the ingesting thread's messages about it. */
  search: {
    file: string;
    inbox: MessagePort;
    /** [0]: messages the ingesting thread has sent; this thread blocks on it when it has nothing else to do. */
    sent: Int32Array;
    /** [0]: messages applied so far, so the ingesting thread can tell a busy worker from a dead one. */
    progress: Int32Array;
    checkpointLater: boolean;
  } | null;
}

export type ParseMessage = { index: number; page: ReturnType<typeof readPage> } | { done: true } | { error: string } | IndexReply;

const job = workerData as ParseJob;
const post = (m: ParseMessage) => {
  job.port.postMessage(m);
  Atomics.add(job.posted, 0, 1);
  Atomics.notify(job.posted, 0);
};

let index: WorkerIndex | null = null;
let received = 0;
/** Applies whatever index messages have arrived; true once the ingest has ended (committed or rolled back). */
const drain = (): boolean => {
  if (!index || !job.search) return false;
  for (let m = receiveMessageOnPort(job.search.inbox); m; m = receiveMessageOnPort(job.search.inbox)) {
    received++;
    const reply = index.handle(m.message as IndexMessage);
    Atomics.add(job.search.progress, 0, 1);
    if (reply) post(reply);
    if (index.ended) return true;
  }
  return false;
};

try {
  if (job.search) index = openWorkerIndex(job.search.file, job.search.checkpointLater);
  const now = new Date(job.now);
  // Indexing the pages already written comes before parsing another: when this thread falls behind, the ingesting
  // thread finds pages unclaimed and parses them itself, so the work balances between the two.
  let ended = false;
  for (;;) {
    if ((ended = drain())) break;
    const i = Atomics.add(job.claim, 0, 1);
    if (i >= job.files.length) break;
    const page = readPage(job.files[i]!, now);
    index?.keep(i, page);
    post({ index: i, page });
  }
  post({ done: true });
  while (index && job.search && !ended) {
    // The ingesting thread bumps `sent` after each message; it terminates this worker if it gives up on it.
    Atomics.wait(job.search.sent, 0, received, 1000);
    ended = drain();
  }
} catch (err) {
  // The ingesting thread never returns to its event loop mid-ingest, so a failure has to travel as a message.
  post({ error: (err as Error).stack ?? String(err) });
  index?.abandon();
}
