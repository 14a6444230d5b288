// Ingest's fast paths give the same corpus as the plain one: pages parsed on a worker thread, in-thread or shared, papers
// merged after their first insert, indexes rebuilt after a bulk load, and a failed bulk load loses nothing.
import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStore, type Store } from '../src/db/open.js';
import { ingestPaths, listPageFiles, type IngestReport } from '../src/corpus/ingest.js';
import { openPageFeed, pageBytes, WORKER_MIN_BYTES } from '../src/corpus/page-feed.js';
import { generateCorpus } from '../bench/corpus-gen.js';
import { createPapersRepo } from '../src/corpus/papers-repo.js';
import { FakeClock } from '../src/clock.js';
import { tempDir } from './helpers/tmp.js';

const clock = new FakeClock(new Date('2026-11-23T12:00:00Z'));
const dir = tempDir();

const HEAD = 'new\n\nSubscribe\n\nDaily Papers\n\n';

/** Seeds plus malformed pages, a paper repeated across pages with more on the later one, and a missing path. */
function mixedPages(): string[] {
  const pages = join(dir, 'mixed');
  mkdirSync(pages, { recursive: true });
  for (const f of ['000_3f5a05582542f440.txt', '002_12a6515ead7b9236.txt', '004_b13e46ab2f810ad4.txt']) copyFileSync(join('seeds', f), join(pages, f));
  writeFileSync(join(pages, 'a_empty.txt'), '');
  writeFileSync(join(pages, 'b_binary.txt'), Buffer.from([0, 1, 2, 3, 255, 254, 0, 0]));
  writeFileSync(join(pages, 'c_truncated.txt'), `${HEAD}Apr 2\n\nFresh Paper\n\nIts abstract.\n\nLost Title\n`);
  writeFileSync(join(pages, 'd_stray.txt'), `${HEAD}Apr 3\n\n  • 4 authors\n·\nJun 1, 2025\n\nRepeated Paper\n\nShort quokka abstract.\n`);
  writeFileSync(
    join(pages, 'e_again.txt'),
    `${HEAD}Apr 4\n\nRepeated Paper\n\nA longer wombat abstract, with code at https://github.com/x/repeated.\n\n  • 7 authors\n·\nMay 30, 2025 12\n`,
  );
  return [pages, 'seeds/001_cd8c87fa5e31ba71.txt', join(dir, 'missing.txt')];
}

interface Snapshot {
  report: IngestReport;
  papers: unknown[];
  sources: unknown[];
}

function ingestInto(name: string, paths: string[], parse: 'worker' | 'inline' | 'auto'): Snapshot & { store: Store } {
  const store = openStore(join(dir, `${name}-${parse}.db`));
  const report = ingestPaths(store, paths, clock, { parse });
  return {
    store,
    report,
    papers: store.db.prepare('SELECT * FROM papers ORDER BY id').all(),
    sources: store.db.prepare('SELECT * FROM paper_sources ORDER BY file, line').all(),
  };
}

const ftsIntact = (s: Store) => () => s.db.exec("INSERT INTO search.papers_fts(papers_fts) VALUES ('integrity-check')");

describe('pages parsed on a worker thread', () => {
  it('hands over the same pages as parsing in-thread, in file order', () => {
    const files = listPageFiles(mixedPages(), []);
    const now = clock.now();
    const drain = (mode: 'worker' | 'inline' | 'auto') => {
      // `auto` shares only pages big enough to repay a worker: claiming a huge size makes it share these few small ones.
      const feed = openPageFeed(files, now, mode, mode === 'auto' ? Number.MAX_SAFE_INTEGER : undefined);
      const pages = [];
      for (let p = feed.next(); p; p = feed.next()) pages.push(p);
      const { kind, parsedHere } = feed;
      feed.close();
      return { pages, kind, parsedHere };
    };
    const inThread = drain('inline');
    const onWorker = drain('worker');
    const shared = drain('auto');
    expect(onWorker).toMatchObject({ kind: 'worker', parsedHere: 0 });
    expect(inThread).toMatchObject({ kind: 'inline', parsedHere: files.length });
    // However the pages fell between the two threads (timing decides), each came once and in order.
    expect(shared.pages).toEqual(inThread.pages);
    expect(onWorker.pages.map((p) => p.file)).toEqual(files.map((f) => f.split('/').pop()));
    expect(onWorker.pages).toEqual(inThread.pages);
    expect(inThread.pages.reduce((n, p) => n + p.keys.length, 0)).toBeGreaterThan(150);
  });

  it('gives the same report and corpus as in-thread parsing, on the seeds and on malformed pages', () => {
    for (const [name, paths] of [
      ['seeds', ['seeds']],
      ['mixed', mixedPages()],
    ] as const) {
      const a = ingestInto(name, [...paths], 'inline');
      const b = ingestInto(name, [...paths], 'worker');
      expect(b.report).toEqual(a.report);
      expect(b.papers).toEqual(a.papers);
      expect(b.sources).toEqual(a.sources);
      expect(ftsIntact(b.store)).not.toThrow();
      a.store.close();
      b.store.close();
    }
  });

  it('shares a corpus big enough for the worker between both threads and stores what in-thread parsing stores', () => {
    // 12,000 generated entries in the three layouts: about 7 MB, over the size at which `auto` starts a worker.
    const pages = generateCorpus(join(dir, 'generated'), 12_000);
    expect(pageBytes(listPageFiles([pages], []))).toBeGreaterThan(WORKER_MIN_BYTES);
    const a = ingestInto('generated', [pages], 'inline');
    const b = ingestInto('generated', [pages], 'auto');
    expect(b.report).toEqual(a.report);
    expect(b.report.added).toBe(12_000);
    expect(b.papers).toEqual(a.papers);
    expect(b.sources).toEqual(a.sources);
    expect(ftsIntact(b.store)).not.toThrow();
    a.store.close();
    b.store.close();
  });

  it('reports the malformed pages with file and line, and merges a paper seen on two pages', () => {
    const { store, report } = ingestInto('report', mixedPages(), 'worker');
    const rel = (f: string) => f.replace(dir + '/', '');
    expect(report.warnings.map((w) => `${rel(w.file)}:${w.line}: ${w.message}`)).toEqual([
      'missing.txt:0: cannot read: ENOENT',
      'mixed/a_empty.txt:1: empty page: no entries',
      'mixed/b_binary.txt:1: not a text page (binary data); skipped',
      'mixed/c_truncated.txt:13: truncated entry "Lost Title": title with no abstract; skipped',
      'mixed/d_stray.txt:9: metadata lines with no paper before them; skipped',
    ]);
    expect(report).toMatchObject({ pages: 9, updated: 0 });
    const repo = createPapersRepo(store);
    const [p] = repo.search('Repeated Paper', 1);
    expect(p).toMatchObject({ authors: 7, upvotes: 12, publishedOn: '2025-05-30', firstListedOn: '2026-04-03', pageCount: 2 });
    expect(p!.abstract).toContain('wombat');
    expect(p!.links).toEqual([{ url: 'https://github.com/x/repeated', kind: 'code' }]);
    // The index holds the merged abstract, not the one first inserted.
    expect(repo.search('wombat', 5).map((x) => x.id)).toEqual([p!.id]);
    expect(repo.search('quokka', 5)).toEqual([]);
    expect(ftsIntact(store)).not.toThrow();
    store.close();
  });
});

describe('bulk load into a small corpus', () => {
  const triggerNames = (s: Store) =>
    (s.db.prepare("SELECT name FROM sqlite_temp_schema WHERE type = 'trigger' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
  const automerge = (s: Store) => s.db.prepare("SELECT v FROM search.papers_fts_config WHERE k = 'automerge'").pluck().get();
  const indexNames = (s: Store) =>
    (
      s.db
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ('papers', 'paper_sources') ORDER BY name")
        .all() as { name: string }[]
    ).map((r) => r.name);

  it('puts back the indexes, the search index triggers and FTS merging the load set aside; the home page query reads its index', () => {
    const store = openStore(join(dir, 'bulk.db'));
    const before = indexNames(store);
    const triggers = triggerNames(store);
    expect(before).toEqual(['paper_sources_paper', 'papers_arxiv_id', 'papers_home_order']);
    expect(triggers).toEqual(['search_papers_ad', 'search_papers_ai', 'search_papers_au']);
    ingestPaths(store, ['seeds'], clock);
    expect(indexNames(store)).toEqual(before);
    expect(triggerNames(store)).toEqual(triggers);
    expect(automerge(store)).toBe(4);
    // The search index's insert trigger works again for papers written outside ingest.
    store.db
      .prepare("INSERT INTO papers (title_key, title, abstract, first_seen_at, updated_at) VALUES ('x', 'X', 'a zanzibarian abstract', 'now', 'now')")
      .run();
    expect(
      createPapersRepo(store)
        .search('zanzibarian', 5)
        .map((p) => p.title),
    ).toEqual(['X']);
    const plan = store.db.prepare(`EXPLAIN QUERY PLAN ${store.q('web-home-papers').source}`).all(5) as { detail: string }[];
    expect(plan.map((r) => r.detail)).toEqual(['SCAN papers USING INDEX papers_home_order']);
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    store.close();
  });

  it('a load that fails half way leaves the corpus, its indexes and its search index as they were', () => {
    const store = openStore(join(dir, 'fail.db'));
    ingestPaths(store, ['seeds/000_3f5a05582542f440.txt'], clock);
    const count = createPapersRepo(store).count();
    const automergeBefore = automerge(store);
    const indexed = () => store.db.prepare('SELECT rowid FROM search.papers_fts_docsize ORDER BY rowid').pluck().all();
    const generations = () => store.db.prepare('SELECT (SELECT generation FROM corpus_sync), (SELECT generation FROM search.search_sync)').raw().get();
    const indexedBefore = indexed();
    const generationsBefore = generations();
    expect(indexedBefore).toHaveLength(count);
    // Fails once 50 new papers were written (and the indexes dropped), on a later page.
    store.db.exec(
      `CREATE TEMP TRIGGER boom BEFORE INSERT ON main.papers WHEN (SELECT COUNT(*) FROM main.papers) >= ${count + 50} BEGIN SELECT RAISE(ABORT, 'boom'); END`,
    );
    expect(() => ingestPaths(store, ['seeds'], clock, { parse: 'worker' })).toThrow(/boom/);
    expect(createPapersRepo(store).count()).toBe(count);
    expect(indexNames(store)).toEqual(['paper_sources_paper', 'papers_arxiv_id', 'papers_home_order']);
    expect(triggerNames(store)).toEqual(['boom', 'search_papers_ad', 'search_papers_ai', 'search_papers_au']);
    expect(automerge(store)).toBe(automergeBefore);
    expect(ftsIntact(store)).not.toThrow();
    expect(indexed()).toEqual(indexedBefore);
    expect(generations()).toEqual(generationsBefore);
    // The worker let go of the search file: the next ingest writes it.
    store.db.exec('DROP TRIGGER temp.boom');
    const report = ingestPaths(store, ['seeds'], clock, { parse: 'worker' });
    expect(report.added).toBeGreaterThan(50);
    expect(indexed()).toHaveLength(count + report.added);
    store.close();
  });
});
