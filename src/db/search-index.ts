// Owns the search index's own database file: attaching it, its schema, the triggers that keep it in step with the
// corpus, and the generation rule that rebuilds it after a crash between the two files' commits.
import { renameSync, rmSync } from 'node:fs';
// The driver's type, not open.ts's alias of it: open.ts imports this module.
import type { Database as Db } from 'better-sqlite3';

/**
 * Why a second file: a bulk ingest spends half its time in FTS5 tokenising, and one SQLite file has one writer. With
 * the index in its own file, a worker thread's connection writes it while the ingesting thread writes the rows
 * (src/corpus/ingest.ts), so the two halves run on two cores.
 *
 * Contentless (`content=''`): an external-content table must live in the same file as its content, and no query
 * reads text back from the index (it gives ids; bm25 and phrase queries need only the index itself).
 * `contentless_delete=1` lets a row be deleted by id alone.
 */
const SCHEMA = `
CREATE VIRTUAL TABLE IF NOT EXISTS search.papers_fts USING fts5(
  title, abstract, content='', contentless_delete=1, tokenize='porter unicode61 remove_diacritics 2');
CREATE TABLE IF NOT EXISTS search.search_sync (generation INTEGER NOT NULL);
INSERT INTO search.search_sync (generation) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM search.search_sync);
`;

/**
 * Two files commit one after the other, and in WAL mode a crash can keep one file's commit and lose the other's.
 * So every write that reaches the index also moves both files to one new generation (ingest does the same from its
 * two connections): files whose generations differ at open were torn apart, and the index is rebuilt.
 *
 * TEMP triggers, created on every connection: a trigger stored in the corpus file may not name another database.
 */
const NEXT_GENERATION = `
    UPDATE main.corpus_sync SET generation = generation + 1;
    UPDATE search.search_sync SET generation = (SELECT generation FROM main.corpus_sync);`;
const TRIGGERS: Record<string, string> = {
  search_papers_ai: `AFTER INSERT ON main.papers BEGIN
    INSERT INTO search.papers_fts (rowid, title, abstract) VALUES (new.id, new.title, new.abstract);${NEXT_GENERATION}
  END`,
  search_papers_ad: `AFTER DELETE ON main.papers BEGIN
    DELETE FROM search.papers_fts WHERE rowid = old.id;${NEXT_GENERATION}
  END`,
  search_papers_au: `AFTER UPDATE OF title, abstract ON main.papers BEGIN
    DELETE FROM search.papers_fts WHERE rowid = old.id;
    INSERT INTO search.papers_fts (rowid, title, abstract) VALUES (new.id, new.title, new.abstract);${NEXT_GENERATION}
  END`,
};

/** The search file beside a corpus file (`paperboy.db-search`), or `:memory:` beside an in-memory corpus. */
export function searchFileFor(dbPath: string): string {
  return dbPath === ':memory:' || dbPath === '' ? ':memory:' : `${dbPath}-search`;
}

export interface SearchOpened {
  /** The index was built again from the corpus (its file was new, lost, out of step or unreadable). */
  rebuilt: boolean;
  /** Where an unreadable search file was moved before building a new one. */
  setAside: string | null;
}

/**
 * Attaches the search file as `search` (creating it), and rebuilds the index when its generation is not the
 * corpus's: a new or deleted search file, an upgrade from the in-file index, or a crash between two commits.
 * A search file SQLite cannot read is renamed aside (`setAside`) and built again. Needs the corpus migrations
 * applied (`corpus_sync`).
 */

export function attachSearch(db: Db, dbPath: string): SearchOpened {
  const file = searchFileFor(dbPath);
  let setAside: string | null = null;
  try {
    openSearchFile(db, file);
  } catch (err) {
    // The index holds nothing the corpus does not: an unreadable file is kept for a look and built again.
    if (file === ':memory:' || !UNREADABLE.has((err as { code?: string }).code ?? '')) throw err;
    if ((db.pragma('database_list') as { name: string }[]).some((d) => d.name === 'search')) db.exec('DETACH DATABASE search');
    setAside = `${file}.unreadable-${Date.now()}`;
    renameSync(file, setAside);
    for (const suffix of ['-wal', '-shm']) rmSync(file + suffix, { force: true });
    openSearchFile(db, file);
  }
  const rebuilt = generationsDiffer(db) ? rebuildIfTorn(db) : false;
  createSearchTriggers(db);
  return { rebuilt, setAside };
}

/** What SQLite says of a file that is not a database, or a damaged one. */
const UNREADABLE = new Set(['SQLITE_NOTADB', 'SQLITE_CORRUPT']);

function openSearchFile(db: Db, file: string): void {
  db.prepare('ATTACH DATABASE ? AS search').run(file);
  // A file already in WAL mode answers this from its header, with no lock (switching a new file takes one).
  db.pragma('search.journal_mode = WAL');
  db.pragma('search.synchronous = NORMAL');
  // SCHEMA's INSERT takes the write lock even when it inserts nothing: an open while an ingest holds that lock would
  // wait for the whole ingest. So a file that has its schema is only read.
  if (!hasSchema(db)) db.exec(SCHEMA);
}

function hasSchema(db: Db): boolean {
  const tables = db.prepare("SELECT name FROM search.sqlite_schema WHERE type = 'table' AND name IN ('papers_fts', 'search_sync')").pluck().all();
  return tables.length === 2 && db.prepare('SELECT 1 FROM search.search_sync LIMIT 1').get() !== undefined;
}

function generationsDiffer(db: Db): boolean {
  const corpus = db.prepare('SELECT generation FROM main.corpus_sync').pluck().get();
  const search = db.prepare('SELECT generation FROM search.search_sync').pluck().get();
  return corpus !== search;
}

/**
 * Rebuilds under both files' write locks, checking again inside: another process may have just finished it. Files
 * that differ while another process holds a write lock are not torn but being written: a big ingest writes the index
 * in one transaction on the search file while the corpus commits in chunks (src/corpus/ingest.ts). So no waiting for
 * the locks: a busy file is left to its writer, and this connection searches what the index has committed.
 */
function rebuildIfTorn(db: Db): boolean {
  const timeout = db.pragma('busy_timeout', { simple: true }) as number;
  db.pragma('busy_timeout = 0');
  try {
    return db
      .transaction(() => {
        if (!generationsDiffer(db)) return false;
        rebuild(db);
        return true;
      })
      .immediate();
  } catch (err) {
    if ((err as { code?: string }).code === 'SQLITE_BUSY') return false;
    throw err;
  } finally {
    db.pragma(`busy_timeout = ${timeout}`);
  }
}

function rebuild(db: Db): void {
  db.exec("INSERT INTO search.papers_fts (papers_fts) VALUES ('delete-all')");
  db.exec('INSERT INTO search.papers_fts (rowid, title, abstract) SELECT id, title, abstract FROM main.papers');
  db.exec('UPDATE search.search_sync SET generation = (SELECT generation FROM main.corpus_sync)');
}

/** Rebuilds the index from the corpus now, in one transaction over both files. */
export function rebuildSearchIndex(db: Db): void {
  db.transaction(() => rebuild(db)).immediate();
}

/** Ingest writes the index itself (from a worker's connection, which these would block): it lifts them for its run. */
export function dropSearchTriggers(db: Db): void {
  for (const name of Object.keys(TRIGGERS)) db.exec(`DROP TRIGGER IF EXISTS temp.${name}`);
}

export function createSearchTriggers(db: Db): void {
  for (const [name, body] of Object.entries(TRIGGERS)) db.exec(`CREATE TEMP TRIGGER IF NOT EXISTS ${name} ${body}`);
}

/** FTS5's own default for `automerge` (https://sqlite.org/fts5.html#the_automerge_configuration_option). */
const FTS5_DEFAULT_AUTOMERGE = 4;

/**
 * Turns FTS5's incremental merging of the index off (`db` has the search file attached as `search`) and returns what
 * puts it back: a bulk load writes its segments first and leaves merging to later writes (crisis merges still bound
 * their number). Both calls belong in the transaction that writes the index.
 */
export function pauseMerging(db: Db): () => void {
  const before = db.prepare("SELECT v FROM search.papers_fts_config WHERE k = 'automerge'").pluck().get() as number | undefined;
  // FTS5 takes configuration values as integer literals only (a bound JS number arrives as a float and is refused).
  const set = (n: number) => db.exec(`INSERT INTO search.papers_fts (papers_fts, rank) VALUES ('automerge', ${Math.trunc(n)})`);
  set(0);
  return () => set(before ?? FTS5_DEFAULT_AUTOMERGE);
}
