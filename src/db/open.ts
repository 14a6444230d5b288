// Owns the SQLite connection: pragmas, numbered migrations, and the named queries prepared at boot.
import Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import { readdirSync, readFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { attachSearch, type SearchOpened } from './search-index.js';
import type { QueryName, TypedStatement } from './query-types.js';

const here = dirname(fileURLToPath(import.meta.url));
export const MIGRATIONS_DIR = join(here, 'migrations');
export const QUERIES_DIR = join(here, 'queries');

export type Db = Database.Database;

/** Named statements from `src/db/queries/*.sql`, all prepared when the store opens. */
export interface Queries {
  /**
   * The prepared statement named `name`, typed by the registry (db/query-types.ts): an unknown name is a type error.
   * Still throws at run time on a name no `.sql` file defines.
   */
  <N extends QueryName>(name: N): TypedStatement<N>;
  readonly names: readonly string[];
}

export interface Store {
  db: Db;
  q: Queries;
  /** What opening did to the search index file (db/search-index.ts), for the caller to log. */
  search: SearchOpened;
  close(): void;
}

export class QueryFileError extends Error {}

/** Splits a queries file into `-- name: foo` blocks (listmonk's layout). */
export function parseQueryFile(text: string, file: string): { name: string; sql: string; line: number }[] {
  const out: { name: string; sql: string; line: number }[] = [];
  let current: { name: string; lines: string[]; line: number } | null = null;
  text.split('\n').forEach((raw, i) => {
    const m = /^--\s*name:\s*([a-z0-9-]+)\s*$/.exec(raw.trim());
    if (m) {
      if (current) out.push({ name: current.name, sql: current.lines.join('\n').trim(), line: current.line });
      current = { name: m[1]!, lines: [], line: i + 1 };
    } else if (current) {
      current.lines.push(raw);
    } else if (raw.trim() && !raw.trim().startsWith('--')) {
      throw new QueryFileError(`${file}:${i + 1}: SQL before the first "-- name:" line`);
    }
  });
  if (current) {
    const c = current as { name: string; lines: string[]; line: number };
    out.push({ name: c.name, sql: c.lines.join('\n').trim(), line: c.line });
  }
  return out;
}

function migrate(db: Db, dir: string): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
  const files = readdirSync(dir)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort();
  for (const file of files) {
    const version = Number(file.slice(0, 3));
    if (applied.has(version)) continue;
    const sql = readFileSync(join(dir, file), 'utf8');
    // Each migration is all or nothing, so a failed one can be fixed and rerun.
    db.transaction(() => {
      db.exec(sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(version, file, new Date().toISOString());
    }).immediate();
  }
}

function prepareAll(db: Db, dir: string): Queries {
  const statements = new Map<string, Statement>();
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()) {
    for (const { name, sql, line } of parseQueryFile(readFileSync(join(dir, file), 'utf8'), file)) {
      if (statements.has(name)) throw new QueryFileError(`${file}:${line}: query "${name}" is defined twice`);
      try {
        statements.set(name, db.prepare(sql));
      } catch (err) {
        throw new QueryFileError(`${file}:${line}: query "${name}" does not prepare: ${(err as Error).message}`);
      }
    }
  }
  const q = ((name: string) => {
    const s = statements.get(name);
    if (!s) throw new QueryFileError(`no query named "${name}" in ${dir}`);
    return s;
  }) as unknown as Queries;
  Object.defineProperty(q, 'names', { value: [...statements.keys()] });
  return q;
}

export interface OpenOptions {
  migrationsDir?: string;
  queriesDir?: string;
}

/** Opens (creating if needed) the database at `path` (`:memory:` for tests), migrated and with every query prepared. */
export function openStore(path: string, opts: OpenOptions = {}): Store {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    db.pragma('synchronous = NORMAL');
    migrate(db, opts.migrationsDir ?? MIGRATIONS_DIR);
    // Before the queries: some read the search index, attached from its own file.
    const search = attachSearch(db, path);
    const q = prepareAll(db, opts.queriesDir ?? QUERIES_DIR);
    return { db, q, search, close: () => db.close() };
  } catch (err) {
    db.close();
    throw err;
  }
}
