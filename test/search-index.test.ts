// The search index in its own file: kept in step with the corpus outside ingest, rebuilt at open when the two files'
// generations differ (new or lost file, crash between the two commits, upgrade), and written the same way by the
// ingest worker as in-thread, or not at all when the worker fails.
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MIGRATIONS_DIR, openStore, type Store } from '../src/db/open.js';
import { searchFileFor } from '../src/db/search-index.js';
import { ingestPaths, listPageFiles } from '../src/corpus/ingest.js';
import { pageBytes, WORKER_MIN_BYTES } from '../src/corpus/page-feed.js';
import { createPapersRepo } from '../src/corpus/papers-repo.js';
import { FakeClock } from '../src/clock.js';
import { generateCorpus } from '../bench/corpus-gen.js';
import { tempDir } from './helpers/tmp.js';

const clock = new FakeClock(new Date('2026-11-23T12:00:00Z'));
const dir = tempDir();
const HEAD = 'new\n\nSubscribe\n\nDaily Papers\n\n';

const generations = (s: Store) =>
  s.db.prepare('SELECT (SELECT generation FROM main.corpus_sync) AS corpus, (SELECT generation FROM search.search_sync) AS search').get() as {
    corpus: number;
    search: number;
  };
const intact = (s: Store) => s.db.exec("INSERT INTO search.papers_fts (papers_fts) VALUES ('integrity-check')");
const ids = (s: Store, words: string) =>
  createPapersRepo(s)
    .search(words, 1000)
    .map((p) => p.id);

/** Everything the index holds: per paper its column sizes, per term its document and occurrence counts. */
function indexDump(s: Store) {
  s.db.exec("CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_vocab USING fts5vocab(search, papers_fts, 'row')");
  return {
    docs: s.db.prepare('SELECT id, hex(sz) AS sz FROM search.papers_fts_docsize ORDER BY id').all(),
    terms: s.db.prepare('SELECT term, doc, cnt FROM temp.search_vocab ORDER BY term').all(),
  };
}

function removeSearchFile(dbPath: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(searchFileFor(dbPath) + suffix, { force: true });
}

describe('search index file', () => {
  it('lives beside the corpus file in WAL mode and starts in step with it', () => {
    const path = join(dir, 'fresh.db');
    const store = openStore(path);
    expect(existsSync(`${path}-search`)).toBe(true);
    expect(store.db.pragma('search.journal_mode', { simple: true })).toBe('wal');
    expect(generations(store).search).toBe(generations(store).corpus);
    // The old in-file index and its triggers are gone from the corpus file.
    expect(store.db.prepare("SELECT name FROM main.sqlite_schema WHERE name LIKE '%fts%' OR type = 'trigger'").all()).toEqual([]);
    store.close();
  });

  it('follows inserts, updates and deletes made outside ingest, moving both generations together', () => {
    const store = openStore(join(dir, 'triggers.db'));
    ingestPaths(store, ['seeds/000_3f5a05582542f440.txt'], clock);
    const before = generations(store);
    const id = Number(
      store.db
        .prepare("INSERT INTO papers (title_key, title, abstract, first_seen_at, updated_at) VALUES ('k', 'Kelp Forests', 'an axolotl study', 'now', 'now')")
        .run().lastInsertRowid,
    );
    expect(ids(store, 'axolotl')).toEqual([id]);
    expect(ids(store, 'kelp forest')).toEqual([id]);
    store.db.prepare("UPDATE papers SET abstract = 'a narwhal study' WHERE id = ?").run(id);
    expect(ids(store, 'axolotl')).toEqual([]);
    expect(ids(store, 'narwhal')).toEqual([id]);
    // Columns the index does not hold leave it alone.
    store.db.prepare('UPDATE papers SET upvotes = 5 WHERE id = ?').run(id);
    expect(ids(store, 'narwhal')).toEqual([id]);
    store.db.prepare('DELETE FROM papers WHERE id = ?').run(id);
    expect(ids(store, 'narwhal')).toEqual([]);
    const after = generations(store);
    expect(after.corpus).toBeGreaterThan(before.corpus);
    expect(after.search).toBe(after.corpus);
    expect(() => intact(store)).not.toThrow();
    store.close();
  });

  it('is rebuilt at open when its file is lost', () => {
    const path = join(dir, 'lost.db');
    const store = openStore(path);
    ingestPaths(store, ['seeds'], clock);
    const dump = indexDump(store);
    const found = ids(store, 'diffusion');
    expect(found.length).toBeGreaterThan(3);
    store.close();
    removeSearchFile(path);
    const again = openStore(path);
    expect(ids(again, 'diffusion')).toEqual(found);
    expect(indexDump(again)).toEqual(dump);
    expect(generations(again).search).toBe(generations(again).corpus);
    again.close();
  });

  it('is moved aside and rebuilt at open when its file is not a database', () => {
    const path = join(dir, 'garbage.db');
    const store = openStore(path);
    ingestPaths(store, ['seeds'], clock);
    const found = ids(store, 'diffusion');
    store.close();
    removeSearchFile(path);
    writeFileSync(searchFileFor(path), 'this is not a database, and it is long enough to have a header.\n'.repeat(200));
    const again = openStore(path);
    expect(again.search.rebuilt).toBe(true);
    expect(again.search.setAside).toMatch(/garbage\.db-search\.unreadable-\d+$/);
    expect(readFileSync(again.search.setAside!, 'utf8')).toMatch(/^this is not a database/);
    expect(ids(again, 'diffusion')).toEqual(found);
    expect(() => intact(again)).not.toThrow();
    again.close();
    // Opened again, the new file is in step: nothing is rebuilt or moved.
    const third = openStore(path);
    expect(third.search).toEqual({ rebuilt: false, setAside: null });
    third.close();
  });

  it('is rebuilt at open after a crash kept the corpus commit and lost the index commit', () => {
    const path = join(dir, 'torn.db');
    const store = openStore(path);
    ingestPaths(store, ['seeds/000_3f5a05582542f440.txt'], clock);
    const stale = generations(store).search;
    const before = indexDump(store);
    ingestPaths(store, ['seeds'], clock);
    const full = indexDump(store);
    const found = ids(store, 'diffusion');
    store.close();
    // What the crash leaves: the search file as it was before the second ingest (its rows and its generation).
    const search = new Database(searchFileFor(path));
    search.transaction(() => {
      search.exec("INSERT INTO papers_fts (papers_fts) VALUES ('delete-all')");
      const keep = new Set((before.docs as { id: number }[]).map((d) => d.id));
      const ins = search.prepare("INSERT INTO papers_fts (rowid, title, abstract) SELECT id, 'x', 'y' FROM (SELECT ? AS id)");
      for (const id of keep) ins.run(id);
      search.prepare('UPDATE search_sync SET generation = ?').run(stale);
    })();
    search.close();
    const again = openStore(path);
    expect(generations(again).search).toBe(generations(again).corpus);
    expect(indexDump(again)).toEqual(full);
    expect(ids(again, 'diffusion')).toEqual(found);
    again.close();
  });

  it('is built from the corpus when an install with the index inside the corpus file upgrades', () => {
    const old = join(dir, 'migrations-011');
    mkdirSync(old);
    cpSync(MIGRATIONS_DIR, old, { recursive: true, filter: (f) => !/012_search_file\.sql$/.test(f) });
    const path = join(dir, 'upgrade.db');
    // The old layout's own triggers index papers into the in-file table; the old queries would not prepare now.
    const legacy = new Database(path);
    legacy.pragma('journal_mode = WAL');
    legacy.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    for (const file of [
      '001_papers.sql',
      '002_subscribers.sql',
      '003_deliveries.sql',
      '010_confirmation_queue.sql',
      '011_papers_home_order.sql',
      '040_send_runs_and_leases.sql',
    ]) {
      legacy.exec(readFileSync(join(old, file), 'utf8'));
      legacy.prepare("INSERT INTO schema_migrations VALUES (?, ?, 'then')").run(Number(file.slice(0, 3)), file);
    }
    legacy
      .prepare(
        "INSERT INTO papers (title_key, title, abstract, first_seen_at, updated_at) VALUES ('p', 'Platypus Genomes', 'monotreme sequencing', 'now', 'now')",
      )
      .run();
    expect(legacy.prepare("SELECT rowid FROM papers_fts WHERE papers_fts MATCH 'monotreme'").pluck().all()).toEqual([1]);
    legacy.close();
    const store = openStore(path);
    expect(ids(store, 'monotreme')).toEqual([1]);
    expect(store.db.prepare("SELECT count(*) FROM main.sqlite_schema WHERE name = 'papers_fts'").pluck().get()).toBe(0);
    store.close();
  });
});

describe('ingest writing the search index', () => {
  /** A page whose paper a later ingest gives a longer abstract: the index must hold the merged text. */
  function pages() {
    const p = join(dir, 'merge-pages');
    mkdirSync(p, { recursive: true });
    writeFileSync(join(p, 'a.txt'), `${HEAD}Apr 2\n\nTapir Behaviour\n\nShort quokka abstract.\n\n  • 2 authors\n·\nJun 1, 2025 3\n`);
    writeFileSync(join(p, 'b.txt'), `${HEAD}Apr 3\n\nTapir Behaviour\n\nA much longer wombat abstract about tapirs.\n\n  • 2 authors\n·\nJun 1, 2025 4\n`);
    return p;
  }

  it('gives the same index from the worker as in-thread, including papers merged in a later ingest', () => {
    const p = pages();
    const run = (parse: 'worker' | 'inline') => {
      const store = openStore(join(dir, `same-${parse}.db`));
      ingestPaths(store, ['seeds', join(p, 'a.txt')], clock, { parse });
      ingestPaths(store, ['seeds', join(p, 'b.txt')], clock, { parse });
      return store;
    };
    const inThread = run('inline');
    const onWorker = run('worker');
    expect(indexDump(onWorker)).toEqual(indexDump(inThread));
    for (const s of [inThread, onWorker]) {
      const [tapir] = ids(s, 'tapir behaviour');
      expect(ids(s, 'wombat')).toEqual([tapir]);
      expect(ids(s, 'quokka')).toEqual([]);
      expect(() => intact(s)).not.toThrow();
      expect(generations(s).search).toBe(generations(s).corpus);
    }
    for (const word of ['diffusion', 'language model', 'robot', 'reasoning']) expect(ids(onWorker, word)).toEqual(ids(inThread, word));
    inThread.close();
    onWorker.close();
  });

  it('shares a big corpus between both threads and indexes what in-thread ingest indexes', () => {
    const corpus = generateCorpus(join(dir, 'generated'), 8_000, 300);
    expect(pageBytes(listPageFiles([corpus], []))).toBeGreaterThan(WORKER_MIN_BYTES);
    const inThread = openStore(join(dir, 'gen-inline.db'));
    const shared = openStore(join(dir, 'gen-auto.db'));
    ingestPaths(inThread, [corpus], clock, { parse: 'inline' });
    ingestPaths(shared, [corpus], clock, { parse: 'auto' });
    expect(indexDump(shared)).toEqual(indexDump(inThread));
    expect(() => intact(shared)).not.toThrow();
    inThread.close();
    shared.close();
  });

  it('indexes in-thread for an in-memory store, whose index no worker can reach', () => {
    const store = openStore(':memory:');
    const report = ingestPaths(store, ['seeds'], clock, { parse: 'worker' });
    expect(report.added).toBeGreaterThan(100);
    expect(ids(store, 'diffusion').length).toBeGreaterThan(3);
    expect(() => intact(store)).not.toThrow();
    store.close();
  });

  it('a worker that cannot write the index fails the ingest with its reason and stores nothing', () => {
    const path = join(dir, 'locked.db');
    const store = openStore(path);
    ingestPaths(store, ['seeds/000_3f5a05582542f440.txt'], clock);
    const count = createPapersRepo(store).count();
    const dump = indexDump(store);
    const gens = generations(store);
    // Another connection holds the search file's write lock longer than the worker's busy timeout (5 s).
    const other = new Database(searchFileFor(path));
    other.exec('BEGIN IMMEDIATE');
    expect(() => ingestPaths(store, ['seeds'], clock, { parse: 'worker' })).toThrow(/ingest worker failed: .*database is locked/);
    other.exec('ROLLBACK');
    other.close();
    expect(createPapersRepo(store).count()).toBe(count);
    expect(indexDump(store)).toEqual(dump);
    expect(generations(store)).toEqual(gens);
    // Nothing was left half done: the next ingest goes through.
    expect(ingestPaths(store, ['seeds'], clock, { parse: 'worker' }).added).toBeGreaterThan(100);
    expect(generations(store).search).toBe(generations(store).corpus);
    store.close();
  }, 30_000);
});
