// Owns what an ingest tells the search index, and the in-thread way of writing it (the worker's way is in page-feed.ts).
import type { Store } from '../db/open.js';
import { pauseMerging } from '../db/search-index.js';
import type { PageResult } from './read-page.js';

/**
 * Ingest calls these in order: `start`, `written` after each page, `allInserted`, `replace` for merged papers,
 * `prepare` last inside the corpus transaction, then `commit` after the corpus commit or `rollback` after a failure.
 * A big ingest commits in chunks (ingest.ts): at each chunk's end it calls `allInserted`, `prepare`, `commit(false)`,
 * then `start` for the next, so both files commit together and are free together between chunks. (Another
 * connection's BEGIN IMMEDIATE takes the write lock of every attached file: an index transaction held across chunks
 * would lock every writer out for the whole ingest.)
 */
export interface SearchWriter {
  /** Whether `written` needs each page's new ids (the in-thread writer reads every new paper back in one pass). */
  readonly wantsIds: boolean;
  /** A load at least as big as the corpus: FTS5's incremental merging waits until the end (bulk-indexes.ts). */
  start(bulk: boolean): void;
  /** After the papers first seen on the page the feed last handed out were inserted: `ids[i]` is entry i's id or -1. */
  written(page: PageResult, ids: Int32Array | null): void;
  /** After the last page (or a chunk's): every paper with an id above `maxBefore` is new. */
  allInserted(maxBefore: number): void;
  /** A paper already indexed whose title or abstract changed (a later page merged into it). */
  replace(id: number, title: string, abstract: string): void;
  /** Last step inside the corpus transaction: the index is complete and matches corpus `generation`; throws if not. */
  prepare(generation: number): void;
  /** After the corpus commit; `last`: no chunk follows. */
  commit(last: boolean): void;
  /** After the corpus transaction failed: nothing this ingest wrote stays in the index. Never throws. */
  rollback(): void;
}

/**
 * Writes the index on the ingesting thread, inside the corpus transaction (the search file is attached to the same
 * connection, so one commit covers both; the generation rule in db/search-index.ts covers a crash between the two
 * files). Used when no worker thread parses the pages: small ingests and in-memory stores.
 */
export function inThreadSearchWriter(store: Store): SearchWriter {
  const { q, db } = store;
  let resumeMerging: (() => void) | null = null;
  return {
    wantsIds: false,
    start(bulk) {
      if (bulk) resumeMerging = pauseMerging(db);
    },
    written() {},
    allInserted(maxBefore) {
      q('search-index-papers-after').run(maxBefore);
    },
    replace(id, title, abstract) {
      q('search-delete').run(id);
      q('search-insert').run(id, title, abstract);
    },
    prepare(generation) {
      resumeMerging?.();
      q('search-set-generation').run(generation);
    },
    commit() {},
    rollback() {},
  };
}
