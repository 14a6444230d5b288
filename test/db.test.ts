import { describe, expect, it } from 'vitest';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MIGRATIONS_DIR, QUERIES_DIR, openStore, parseQueryFile } from '../src/db/open.js';
import { tempDir } from './helpers/tmp.js';

describe('store', () => {
  const dir = tempDir();

  it('opens a file in WAL mode with foreign keys, migrations applied once', () => {
    const path = join(dir, 'a.db');
    const s = openStore(path);
    expect(s.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(s.db.pragma('foreign_keys', { simple: true })).toBe(1);
    const versions = s.db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
    expect(versions.length).toBeGreaterThanOrEqual(3);
    s.close();
    const again = openStore(path);
    expect(again.db.prepare('SELECT COUNT(*) FROM schema_migrations').pluck().get()).toBe(versions.length);
    again.close();
  });

  it('prepares every named query at open', () => {
    const s = openStore(':memory:');
    expect(s.q.names).toContain('get-paper-by-key');
    // @ts-expect-error an unknown name is a type error (the registry in db/query-types.ts), and still throws at run time
    expect(() => s.q('no-such-query')).toThrow('no query named "no-such-query"');
    s.close();
  });

  it('a bad query stops the start, naming the file, line and query', () => {
    const queries = join(dir, 'queries');
    cpSync(QUERIES_DIR, queries, { recursive: true });
    writeFileSync(join(queries, 'zz_bad.sql'), '-- name: broken-query\nSELECT nope FROM nowhere;\n');
    expect(() => openStore(':memory:', { queriesDir: queries })).toThrow('zz_bad.sql:1: query "broken-query" does not prepare: no such table: nowhere');
  });

  it('a failing migration is rolled back whole', () => {
    const migrations = join(dir, 'migrations');
    cpSync(MIGRATIONS_DIR, migrations, { recursive: true });
    writeFileSync(join(migrations, '999_bad.sql'), 'CREATE TABLE half (x INTEGER);\nSELECT * FROM missing_table;\n');
    const path = join(dir, 'b.db');
    expect(() => openStore(path, { migrationsDir: migrations })).toThrow('no such table: missing_table');
    const s = openStore(path);
    expect(s.db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE name = 'half'").pluck().get()).toBe(0);
    s.close();
  });

  it('parseQueryFile splits named blocks', () => {
    expect(parseQueryFile('-- name: a\n-- why\nSELECT 1;\n\n-- name: b\nSELECT 2;\n', 'x.sql')).toEqual([
      { name: 'a', sql: '-- why\nSELECT 1;', line: 1 },
      { name: 'b', sql: 'SELECT 2;', line: 5 },
    ]);
    expect(() => parseQueryFile('SELECT 1;\n', 'x.sql')).toThrow('x.sql:1: SQL before the first "-- name:" line');
  });
});
