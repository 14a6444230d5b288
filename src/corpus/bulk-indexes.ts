// Owns building the corpus tables' secondary indexes once after a bulk load, not row by row in it.
import type { Db } from '../db/open.js';

/** The tables ingest fills. Their UNIQUE and PRIMARY KEY indexes stay: they are constraints the load relies on. */
const TABLES = ['papers', 'paper_sources'];

export interface BulkLoad {
  /** Whether the load is big next to what is stored (the search index then also holds back merging, search-writer.ts). */
  readonly bulk: boolean;
  /** Puts everything back as it was; call inside the same transaction, after the load and before the commit. */
  finish(): void;
}

/**
 * Inside the caller's write transaction, prepares the corpus tables for a load that brings at least as many rows
 * as are stored: drops their secondary indexes (one sorted build afterwards costs a fraction of as many B-tree
 * inserts in random order; pg_restore builds indexes after the data for the same reason). Being part of the
 * transaction, a failed load rolls it back, and other connections never see the tables without their indexes.
 */
export function startBulkLoad(db: Db, stored: number, incoming: number, dropIndexes = true): BulkLoad {
  if (incoming < stored || incoming === 0) return { bulk: false, finish() {} };
  // A load committed in chunks (ingest.ts) would show other connections, and leave after a crash, tables without them.
  if (!dropIndexes) return { bulk: true, finish() {} };
  const list = TABLES.map(() => '?').join(', ');
  const indexes = db
    // A UNIQUE index made with CREATE UNIQUE INDEX (papers_arxiv_id) is a constraint too: it stays.
    .prepare(
      `SELECT name, sql FROM main.sqlite_schema WHERE type = 'index' AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE INDEX%' AND tbl_name IN (${list}) ORDER BY name`,
    )
    .all(...TABLES) as { name: string; sql: string }[];
  const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
  for (const r of indexes) db.exec(`DROP INDEX main.${quote(r.name)}`);
  return {
    bulk: true,
    finish() {
      for (const r of indexes) db.exec(r.sql);
    },
  };
}
