import { afterAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { QUERIES_DIR, openStore, parseQueryFile } from '../src/db/open.js';
import { QUERIES, type QuerySpec, type Tag } from '../src/db/query-types.js';
import { tempDir } from './helpers/tmp.js';

// The registry is hand-kept; these checks against a real migrated store are what keep it true to the SQL.
const store = openStore(join(tempDir(), 'registry.db'));
afterAll(() => store.close());

const blocks = readdirSync(QUERIES_DIR)
  .filter((f) => f.endsWith('.sql'))
  .sort()
  .flatMap((f) => parseQueryFile(readFileSync(join(QUERIES_DIR, f), 'utf8'), f));
const specs: Record<string, QuerySpec> = QUERIES;
const withoutComments = (sql: string) => sql.replace(/--[^\n]*/g, '');

describe('query registry (db/query-types.ts)', () => {
  it('names exactly the queries of src/db/queries/*.sql', () => {
    const inFiles = blocks.map((b) => b.name).sort();
    expect(Object.keys(QUERIES).sort()).toEqual(inFiles);
    expect([...store.q.names].sort()).toEqual(inFiles);
  });

  it.each(blocks.map((b) => [b.name, b.sql] as const))('%s: row columns match the statement', (name, sql) => {
    const spec = specs[name]!;
    const stmt = store.db.prepare(sql);
    expect(stmt.reader, 'returns rows exactly when a row shape is declared').toBe(spec.row !== undefined);
    if (!spec.row) return;
    const cols = stmt.columns();
    expect(cols.map((c) => c.name)).toEqual(Object.keys(spec.row));
    for (const c of cols) {
      const tag: Tag = spec.row[c.name]!;
      const where = `${name}.${c.name}`;
      // An expression has no declared type; a table column's must agree with the tag.
      if (c.type === 'INTEGER') expect(tag.startsWith('int'), `${where} is INTEGER, declared ${tag}`).toBe(true);
      if (c.type === 'TEXT') expect(tag.startsWith('text'), `${where} is TEXT, declared ${tag}`).toBe(true);
      if (c.type === 'BLOB') expect(tag.startsWith('blob'), `${where} is BLOB, declared ${tag}`).toBe(true);
      // A column declared NOT NULL in the registry must be NOT NULL (or the key) in its table, unless the query filters NULL out.
      if (!tag.endsWith('?') && c.table && c.column && c.column !== 'rowid' && !new RegExp(`\\b${c.column} IS NOT NULL`).test(sql)) {
        const info = store.db.prepare(`SELECT "notnull" AS nn, pk FROM pragma_table_info(?, ?) WHERE name = ?`).get(c.table, c.database ?? 'main', c.column) as
          | { nn: number; pk: number }
          | undefined;
        expect(info, `${where}: ${c.table}.${c.column} found`).toBeDefined();
        expect(info!.nn === 1 || info!.pk > 0, `${where} may be NULL in ${c.table}: declare ${tag}?`).toBe(true);
      }
    }
  });

  it.each(blocks.map((b) => [b.name, b.sql] as const))('%s: parameters match the statement', (name, sql) => {
    const params = specs[name]!.params;
    const text = withoutComments(sql);
    const namesInSql = [...new Set([...text.matchAll(/@([a-z_]+)/g)].map((m) => m[1]!))].sort();
    if ('positional' in params) {
      expect(namesInSql, 'positional query with @names').toEqual([]);
      const n = params.positional.length;
      expect(() => store.db.prepare(sql).bind(...Array(n).fill(null))).not.toThrow();
      expect(() => store.db.prepare(sql).bind(...Array(n + 1).fill(null)), `more than ${n} parameters`).toThrow();
    } else {
      expect(text.includes('?'), 'named query with ? parameters').toBe(false);
      expect(Object.keys(params.named).sort()).toEqual(namesInSql);
      expect(() => store.db.prepare(sql).bind(Object.fromEntries(namesInSql.map((k) => [k, null])))).not.toThrow();
    }
  });

  it('types q by the registry (these lines are checked by npm run typecheck)', () => {
    const n: number = store.q('count-papers').get()!.n;
    expect(n).toBe(0);
    // @ts-expect-error a column the query does not return
    expect(store.q('count-papers').get()!.total).toBeUndefined();
    // @ts-expect-error get-paper takes a paper id, not a string
    expect(store.q('get-paper').get('1')).toBeUndefined();
    // @ts-expect-error a named query takes its parameters as one object
    expect(() => store.q('run-due-left').get('r', 'now')).toThrow();
    // @ts-expect-error a statement that returns no rows has no all()
    expect(typeof store.q('delete-paper').all).toBe('function');
  });
});
