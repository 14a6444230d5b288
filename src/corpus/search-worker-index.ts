// Owns the parse worker's side of writing the search index: its own connection to the search file, one transaction,
// and what each message from the ingesting thread does to it.
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { QUERIES_DIR, parseQueryFile } from '../db/open.js';
import { pauseMerging } from '../db/search-index.js';
import type { PageResult } from './read-page.js';

/** What the ingesting thread sends the worker about the index, in the order ingest makes them (search-writer.ts). */
export type IndexMessage =
  | { start: { bulk: boolean } }
  /** The new papers of page `page`, which this worker parsed (it still has the text): `ids[i]` or -1 per entry. */
  | { page: number; ids: Int32Array }
  /** Papers with their text: new ones from a page the ingesting thread parsed, or merged ones (`replace`). */
  | { rows: { ids: Int32Array; titles: string[]; abstracts: string[] }; replace: boolean }
  | { finish: { generation: number } }
  /** `last`: the ingest is over and the connection closes; else the next chunk's `start` follows. */
  | { commit: { last: boolean } }
  | { rollback: true };

export type IndexReply = { ready: true } | { committed: true } | { rolledBack: true };

/** The statements of queries/search.sql this connection runs: the file attached under the same name makes them fit. */
const WORKER_QUERIES = ['search-insert', 'search-delete', 'search-set-generation'];

export interface WorkerIndex {
  /** Keeps a page this worker parsed until its ids arrive. */
  keep(index: number, page: PageResult): void;
  /** Applies one message; returns the reply to post, if any. */
  handle(m: IndexMessage): IndexReply | null;
  /** True after a commit or rollback: nothing more will come. */
  readonly ended: boolean;
  /** Rolls back whatever is open and closes the connection (after a failure). */
  abandon(): void;
}

/** `checkpointLater`: the ingesting thread checkpoints the log on another thread after the commit (a big load). */
export function openWorkerIndex(file: string, checkpointLater: boolean): WorkerIndex {
  const db = new Database(':memory:');
  db.pragma('busy_timeout = 5000');
  db.prepare('ATTACH DATABASE ? AS search').run(file);
  db.pragma('search.synchronous = NORMAL');
  // Else SQLite's automatic checkpoint would copy a big load's log back inside this thread's commit.
  if (checkpointLater) db.pragma('wal_autocheckpoint = 0');
  const text = readFileSync(join(QUERIES_DIR, 'search.sql'), 'utf8');
  const q = new Map(
    parseQueryFile(text, 'search.sql')
      .filter((s) => WORKER_QUERIES.includes(s.name))
      .map((s) => [s.name, db.prepare(s.sql)]),
  );
  const st = (name: string) => q.get(name)!;
  const texts = new Map<number, { titles: string[]; abstracts: string[] }>();
  let resumeMerging: (() => void) | null = null;
  let ended = false;

  const insert = (ids: Int32Array, titles: string[], abstracts: string[]) => {
    const ins = st('search-insert');
    for (let i = 0; i < ids.length; i++) if (ids[i]! >= 0) ins.run(ids[i], titles[i], abstracts[i]);
  };
  const close = () => {
    ended = true;
    texts.clear();
    db.close();
  };

  return {
    get ended() {
      return ended;
    },
    keep(index, page) {
      texts.set(index, { titles: page.titles, abstracts: page.abstracts });
    },
    handle(m) {
      if ('page' in m) {
        const t = texts.get(m.page);
        if (!t) throw new Error(`search index: no text kept for page ${m.page}`);
        texts.delete(m.page);
        insert(m.ids, t.titles, t.abstracts);
      } else if ('rows' in m) {
        if (m.replace) for (const id of m.rows.ids) st('search-delete').run(id);
        insert(m.rows.ids, m.rows.titles, m.rows.abstracts);
      } else if ('start' in m) {
        // Each chunk of the ingest (ingest.ts) starts one: the ingesting thread holds the corpus file's write lock by
        // now, so whoever else writes both files (corpus first) is not half way in.
        db.exec('BEGIN IMMEDIATE');
        resumeMerging = m.start.bulk ? pauseMerging(db) : null;
      } else if ('finish' in m) {
        resumeMerging?.();
        st('search-set-generation').run(m.finish.generation);
        return { ready: true };
      } else if ('commit' in m) {
        db.exec('COMMIT');
        if (m.commit.last) close();
        return { committed: true };
      } else if ('rollback' in m) {
        if (db.inTransaction) db.exec('ROLLBACK');
        close();
        return { rolledBack: true };
      }
      return null;
    },
    abandon() {
      if (ended) return;
      try {
        if (db.inTransaction) db.exec('ROLLBACK');
      } finally {
        close();
      }
    },
  };
}
