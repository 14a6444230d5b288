// Owns building the corpus tables' secondary indexes and FTS segments once after a bulk load, not row by row in it.
import type { Db } from '../db/open.js';

/** The tables ingest fills. Their UNIQUE and PRIMARY KEY indexes stay: they are constraints the load relies on. */
const TABLES = ['papers', 'paper_sources'];

/**
 * The FTS insert trigger (migration 001). Ingest defers it (`fts_sync.deferred`) and indexes its rows in one
 * statement, so during a load it only costs: its WHEN subquery and an FTS savepoint on every paper insert.
 */
const TRIGGERS = ['papers_ai'];

/** FTS5's own default for `automerge` (https://sqlite.org/fts5.html#the_automerge_configuration_option). */
const FTS5_DEFAULT_AUTOMERGE = 4;

export interface BulkLoad {
  /** Names of the indexes and triggers dropped for the load (empty when it is small next to what is stored). */
  readonly dropped: readonly string[];
  /** Puts everything back as it was; call inside the same transaction, after the load and before the commit. */
  finish(): void;
}

/**
 * Inside the caller's write transaction, prepares the corpus tables for a load that brings at least as many rows
 * as are stored: drops their secondary indexes (one sorted build afterwards costs a fraction of as many B-tree
 * inserts in random order; pg_restore builds indexes after the data for the same reason) and the FTS insert trigger,
 * and turns FTS5's incremental merging off while the new segments are written (its crisis merges still bound their
 * number). Being part of the transaction, a failed load rolls all of it back, and other connections never see the
 * tables without their indexes.
 */
export function startBulkLoad(db: Db, stored: number, incoming: number): BulkLoad {
  if (incoming < stored || incoming === 0) return { dropped: [], finish() {} };
  const list = TABLES.map(() => '?').join(', ');
  const indexes = db
    .prepare(`SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN (${list}) ORDER BY name`)
    .all(...TABLES) as { name: string; sql: string }[];
  const triggers = db
    .prepare(`SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' AND name IN (${TRIGGERS.map(() => '?').join(', ')}) ORDER BY name`)
    .all(...TRIGGERS) as { name: string; sql: string }[];
  const automerge = db.prepare("SELECT v FROM papers_fts_config WHERE k = 'automerge'").pluck().get() as number | undefined;
  const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
  for (const r of indexes) db.exec(`DROP INDEX ${quote(r.name)}`);
  for (const r of triggers) db.exec(`DROP TRIGGER ${quote(r.name)}`);
  setAutomerge(db, 0);
  return {
    dropped: [...indexes, ...triggers].map((r) => r.name),
    finish() {
      setAutomerge(db, automerge ?? FTS5_DEFAULT_AUTOMERGE);
      for (const r of triggers) db.exec(r.sql);
      for (const r of indexes) db.exec(r.sql);
    },
  };
}

function setAutomerge(db: Db, n: number): void {
  // FTS5 takes configuration values as integer literals only (a bound JS number arrives as a float and is refused).
  db.exec(`INSERT INTO papers_fts (papers_fts, rank) VALUES ('automerge', ${Math.trunc(n)})`);
}
