// Owns building the corpus tables' secondary indexes once after a bulk load instead of row by row during it.
import type { Db } from '../db/open.js';

/** The tables ingest fills. Their UNIQUE and PRIMARY KEY indexes stay: they are constraints the load relies on. */
const TABLES = ['papers', 'paper_sources'];

export interface DeferredIndexes {
  /** Names of the indexes dropped for the load (empty when the load is small next to what is stored). */
  readonly names: readonly string[];
  /** Creates them again from their stored definitions; call inside the same transaction, before it commits. */
  rebuild(): void;
}

/**
 * Inside the caller's write transaction, drops the secondary indexes of the corpus tables when the load brings at
 * least as many rows as are stored: one sorted build afterwards costs a fraction of as many B-tree inserts in random
 * order (pg_restore builds indexes after the data for the same reason). Being part of the transaction, a failed load
 * rolls the drop back with everything else, and other connections never see the tables without their indexes.
 */
export function deferIndexes(db: Db, stored: number, incoming: number): DeferredIndexes {
  if (incoming < stored || incoming === 0) return { names: [], rebuild() {} };
  const rows = db
    .prepare(
      `SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN (${TABLES.map(() => '?').join(', ')}) ORDER BY name`,
    )
    .all(...TABLES) as { name: string; sql: string }[];
  for (const r of rows) db.exec(`DROP INDEX "${r.name.replace(/"/g, '""')}"`);
  return {
    names: rows.map((r) => r.name),
    rebuild() {
      for (const r of rows) db.exec(r.sql);
    },
  };
}
