// Owns writing fetched papers into the store with ingest's merge rules (merge.ts): identity by arXiv id, else by
// folded title (so a seed paper and the same paper from an API are one), merged fields, one source per listing, and
// an upvote snapshot whenever the count a source shows has changed.
import type { Statement } from 'better-sqlite3';
import type { Store } from '../db/open.js';
import type { QueryParams } from '../db/query-types.js';
import type { Clock } from '../clock.js';
import { rebuildSearchIndex, searchFileFor } from '../db/search-index.js';
import { mergePaper, titleKey, type PaperFields } from './merge.js';
import { PaperRow, toFields } from './papers-repo.js';
import { writeChanged } from './entry-merge.js';
import { holdCheckpoint, holdWriteSettings } from './load-session.js';
import { inThreadFetchWriter, startFetchSearchWorker, type FetchSearchWorker } from './fetch-search-worker.js';
import { fetchedFields, type FetchedPaper } from './sources/paper.js';

export interface MergeReport {
  received: number;
  added: number;
  updated: number;
  unchanged: number;
  /** Papers an admin removed, which the answer still lists. */
  removed: number;
  /** Ids of the papers added and updated, for `paperboy fetch` to name them. */
  addedIds: number[];
  updatedIds: number[];
  /**
   * Set after a big merge into a file: the WAL checkpoint running on another thread (db/checkpoint.ts). Awaiting it is
   * optional (the bench does, so the next thing it times does not share the machine with it).
   */
  walCheckpoint?: Promise<unknown>;
  /** Whether a worker thread wrote the search index (a big answer into a file), for tests to tell the paths apart. */
  indexWorker?: boolean;
}

export interface MergeOptions {
  /** Papers per transaction: the write lock is let go (and the event loop runs) between chunks. */
  chunk?: number;
  /**
   * Where a big answer's search index is written (default `auto`: a worker thread from BACKGROUND_CHECKPOINT_PAPERS
   * papers into a file); tests compare the two.
   */
  searchIndex?: 'auto' | 'in-thread';
}

/** ~0.3 s of writing per transaction on the bench machine: long enough to amortise a commit, short for a lock. */
const DEFAULT_CHUNK = 5000;

/**
 * From this many papers an answer's log (~1.2 KB a paper in both files) is checkpointed on another thread after the
 * merge, as a big ingest's is (db/checkpoint.ts): else SQLite's automatic checkpoint copies it back inside a commit,
 * on this thread (~80 ms of a 10,000-paper fetch, bench fetch).
 */
const BACKGROUND_CHECKPOINT_PAPERS = 3000;

interface Incoming {
  fields: PaperFields;
  listings: NonNullable<FetchedPaper['listing']>[];
  /** The count the source showed this time (a snapshot when it changed); null when it shows none. */
  shown: number | null;
}

/** One answer can list a paper twice (pages that overlap, v1 and v2): merged here first. */
function byArxivId(papers: FetchedPaper[]): Map<string, Incoming> {
  const out = new Map<string, Incoming>();
  for (const p of papers) {
    const seen = out.get(p.arxivId);
    const fields = fetchedFields(p);
    if (!seen) out.set(p.arxivId, { fields, listings: p.listing ? [p.listing] : [], shown: p.upvotes });
    else {
      seen.fields = mergePaper(seen.fields, fields);
      if (p.listing) seen.listings.push(p.listing);
      if (p.upvotes !== null) seen.shown = Math.max(seen.shown ?? 0, p.upvotes);
    }
  }
  return out;
}

const nextTick = () => new Promise<void>((r) => setImmediate(r));

/** New papers' sources per statement: one multi-row INSERT costs a fraction of as many single-row ones (bench fetch). */
const SOURCE_BATCH = 100;
const sourceBatches = new WeakMap<Store['db'], Statement>();

/** The sources of a chunk's new papers, written SOURCE_BATCH rows a statement (insert-source's columns and rule). */
function newSourceWriter(store: Store) {
  let batch = sourceBatches.get(store.db);
  if (!batch) {
    const tuple = '(?, ?, ?, ?, ?)';
    batch = store.db.prepare(
      `INSERT OR IGNORE INTO paper_sources (paper_id, file, line, position, listed_on) VALUES ${Array(SOURCE_BATCH).fill(tuple).join(', ')}`,
    );
    sourceBatches.set(store.db, batch);
  }
  const single = store.q('insert-source');
  let values: unknown[] = [];
  return {
    add(id: number, l: NonNullable<FetchedPaper['listing']>) {
      values.push(id, l.name, id, l.position, l.date);
      if (values.length === SOURCE_BATCH * 5) {
        batch.run(values);
        values = [];
      }
    },
    flush() {
      for (let i = 0; i < values.length; i += 5) single.run(...(values.slice(i, i + 5) as QueryParams<'insert-source'>));
      values = [];
    },
  };
}

/**
 * Merges `papers` into the store in chunks of `chunk` papers, one transaction each, yielding to the event loop between
 * them: a big answer never holds the write lock (or the loop) for long, and a crash loses at most the chunk in flight
 * (the next fetch brings it again). Inside a chunk the search index is written as ingest writes it in-thread: new
 * papers in one statement at the end, changed abstracts replaced.
 */
export async function mergeFetched(store: Store, papers: FetchedPaper[], clock: Clock, opts: MergeOptions = {}): Promise<MergeReport> {
  const { q, db } = store;
  const report: MergeReport = { received: papers.length, added: 0, updated: 0, unchanged: 0, removed: 0, addedIds: [], updatedIds: [] };
  const incoming = [...byArxivId(papers)];
  const chunk = Math.max(1, opts.chunk ?? DEFAULT_CHUNK);
  const removedKeys = new Set(
    q('removed-title-keys')
      .all()
      .map((r) => r.title_key),
  );
  const removedIds = new Set(
    q('removed-arxiv-ids')
      .all()
      .map((r) => r.arxiv_id),
  );
  const insert = q('insert-fetched-paper');
  const insertSource = q('insert-source');
  const latest = q('latest-snapshot');
  const snapshot = q('insert-snapshot');
  // What this connection knows of the stored ids, kept from chunk to chunk while nobody else commits (data-version).
  let known: { version: number; ids: Map<string, number>; keys: Map<string, number> } | null = null;
  const checkpoint = incoming.length >= BACKGROUND_CHECKPOINT_PAPERS ? holdCheckpoint(db) : null;
  // The same size repays a second thread for the search index (FTS5 tokenising is a third of the merge's writing).
  let worker: FetchSearchWorker | null = checkpoint && opts.searchIndex !== 'in-thread' ? startFetchSearchWorker(store, searchFileFor(db.name), false) : null;
  if (worker) report.indexWorker = true;
  try {
    await mergeChunks();
  } catch (err) {
    checkpoint?.abandon();
    throw err;
  } finally {
    worker?.close();
  }
  if (checkpoint) report.walCheckpoint = checkpoint.finish();
  return report;

  async function mergeChunks(): Promise<void> {
    for (let from = 0; from < incoming.length; from += chunk) {
      if (from > 0) await nextTick();
      const stamp = clock.now().toISOString();
      const part = incoming.slice(from, from + chunk);
      const search = worker ? worker.writer() : inThreadFetchWriter(store);
      const write = db.transaction(() => {
        const { generation } = q('bump-corpus-generation').get()!;
        const maxBefore = q('max-paper-id').get()!.n;
        // Checked inside the transaction: another process may have written since the last chunk.
        const version = q('data-version').pluck().get()!;
        if (!known || known.version !== version) {
          const ids = new Map<string, number>();
          for (const r of q('all-arxiv-ids').iterate()) ids.set(r.arxiv_id, r.id);
          const keys = new Map<string, number>();
          for (const r of q('all-paper-keys').iterate()) keys.set(r.title_key, r.id);
          known = { version, ids, keys };
        }
        const { ids, keys } = known;
        const newSources = newSourceWriter(store);
        // A chunk as big as the corpus (a first fetch, a backfill) holds back FTS5 merging until its end, as a bulk ingest
        // does. Its secondary indexes stay: dropped and rebuilt per chunk, they cost more than they save (bench fetch).
        search.start(part.length >= keys.size);
        for (const [arxivId, inc] of part) {
          const folded = titleKey(inc.fields.title);
          if (removedIds.has(arxivId) || (folded && removedKeys.has(folded))) {
            report.removed++;
            continue;
          }
          let id = ids.get(arxivId) ?? null;
          let key = folded || `#${arxivId}`;
          if (id === null && folded) {
            const sameTitle = keys.get(folded);
            if (sameTitle !== undefined) {
              const other = PaperRow.parse(q('get-paper').get(sameTitle));
              // The same title under another arXiv id is another paper: it keeps its id in its key.
              if (other.arxivId === null) id = sameTitle;
              else key = `${folded}#${arxivId}`;
            }
          }
          if (id === null) {
            const f = inc.fields;
            const info = insert.run(
              key,
              f.title,
              f.abstract,
              f.authors,
              f.publishedOn,
              f.upvotes,
              f.firstListedOn,
              JSON.stringify(f.links),
              stamp,
              stamp,
              f.arxivId,
              JSON.stringify(f.authorNames),
              f.tldr,
              f.organization,
              f.comments,
            );
            id = Number(info.lastInsertRowid);
            ids.set(arxivId, id);
            keys.set(key, id);
            search.added(id, f.title, f.abstract);
            report.added++;
            report.addedIds.push(id);
            // Its first snapshot is written with the other new papers' after the loop (snapshot-new-papers).
            for (const l of inc.listings) newSources.add(id, l);
            continue;
          }
          const before = toFields(PaperRow.parse(q('get-paper').get(id)));
          let changed = writeChanged(store, search, id, before, mergePaper(before, inc.fields), stamp);
          // An API listing's "line" is the paper's id: one source per paper per listing day, whatever its rank that time.
          for (const l of inc.listings) if (insertSource.run(id, l.name, id, l.position, l.date).changes > 0) changed = true;
          if (inc.shown !== null) {
            const last = latest.get(id);
            if (!last || last.upvotes !== inc.shown) snapshot.run(id, stamp, inc.shown);
          }
          if (changed) {
            report.updated++;
            report.updatedIds.push(id);
          } else report.unchanged++;
        }
        newSources.flush();
        q('snapshot-new-papers').run(stamp, maxBefore);
        search.allInserted(maxBefore);
        search.prepare(generation);
      });
      // Every source and snapshot a chunk writes belongs to a paper it inserted or read under the same write lock, so
      // the foreign key checks cannot fail: off for the chunk (this connection only; a no-op inside a caller's
      // transaction), they cost a fifth of writing those rows (bench fetch).
      const restore = holdWriteSettings(db, { foreignKeysOff: true });
      let committed = false;
      try {
        write.deferred();
        committed = true;
        search.commit();
      } catch (err) {
        if (!committed) {
          search.rollback();
          throw err;
        }
        // The rows are stored but the worker's commit of their index failed: the index is built again from the corpus
        // now (as ingest does), and the chunks left write it in-thread.
        worker?.close();
        worker = null;
        rebuildSearchIndex(db);
      } finally {
        restore();
      }
    }
  }
}
