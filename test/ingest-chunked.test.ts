// A big ingest commits in chunks (so other writers get the database in between): the stored result and the search
// index are the same as one transaction's, whichever thread parses; a load that fails after some chunks keeps them,
// consistent with their index, and running it again finishes it.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStore, type Store } from '../src/db/open.js';
import { ingestPaths, type IngestReport } from '../src/corpus/ingest.js';
import { generateCorpus } from '../bench/corpus-gen.js';
import { FakeClock } from '../src/clock.js';
import { tempDir } from './helpers/tmp.js';

const clock = new FakeClock(new Date('2026-11-23T12:00:00Z'));
const dir = tempDir();

/** 12,000 generated entries (about 7 MB: over the size that starts a worker) and a page repeating 500 of them with more text. */
function bigPages(): string {
  const pages = generateCorpus(join(dir, 'pages'), 12_000);
  const first = readdirSync(pages).sort()[0]!;
  const again = readFileSync(join(pages, first), 'utf8').replaceAll('. Code: https://github.com', '. Code and data: https://github.com');
  writeFileSync(join(pages, 'zz_again.txt'), again);
  return pages;
}
const pages = bigPages();
const QUERIES = ['neural', 'diffusion AND kernel', '"flow matching"', 'data', 'Paper'];

const generation = (s: Store) => s.db.prepare('SELECT generation FROM corpus_sync').pluck().get() as number;

interface Result {
  report: IngestReport;
  papers: unknown[];
  sources: unknown[];
  hits: unknown[][];
  indexed: unknown[];
  generations: unknown[];
  commits: number;
}

function snapshot(store: Store, report: IngestReport, before: number): Result {
  const { walCheckpoint: _, ...rest } = report;
  return {
    report: rest as IngestReport,
    papers: store.db.prepare('SELECT * FROM papers ORDER BY id').all(),
    sources: store.db.prepare('SELECT * FROM paper_sources ORDER BY file, line').all(),
    hits: QUERIES.map((q) => store.db.prepare('SELECT rowid FROM search.papers_fts WHERE papers_fts MATCH ? ORDER BY rowid').pluck().all(q)),
    indexed: store.db.prepare('SELECT rowid FROM search.papers_fts_docsize ORDER BY rowid').pluck().all(),
    generations: store.db.prepare('SELECT (SELECT generation FROM corpus_sync), (SELECT generation FROM search.search_sync)').raw().get() as unknown[],
    // Every transaction of the ingest moves the corpus to a new generation.
    commits: generation(store) - before,
  };
}

/** Half the pages first (so the big load also merges into papers it did not add), then all of them. */
function ingest(name: string, parse: 'worker' | 'inline', chunkMs: number): Result {
  const store = openStore(join(dir, `${name}.db`));
  const files = readdirSync(pages).sort();
  ingestPaths(
    store,
    files.slice(0, 6).map((f) => join(pages, f)),
    clock,
    { chunkMs: 0 },
  );
  const before = generation(store);
  const report = ingestPaths(store, [pages], clock, { parse, chunkMs, pauseMs: 5 });
  const r = snapshot(store, report, before);
  store.db.exec("INSERT INTO search.papers_fts(papers_fts) VALUES ('integrity-check')");
  store.close();
  return r;
}

describe('a big ingest in chunks', () => {
  const whole = ingest('whole', 'inline', 0);

  it('stores what one transaction stores, with the same search index, parsed in-thread or on the worker', () => {
    expect(whole.commits).toBe(1);
    expect(whole.report.added).toBe(12_000 - 6 * 500);
    expect(whole.report.updated).toBeGreaterThanOrEqual(500);
    expect(whole.indexed).toHaveLength(whole.papers.length);
    expect(whole.hits.every((h) => h.length > 0)).toBe(true);
    for (const parse of ['inline', 'worker'] as const) {
      // A chunk per page or so: many commits, each a consistent state.
      const chunked = ingest(`chunked-${parse}`, parse, 1);
      expect(chunked.commits).toBeGreaterThan(5);
      const { commits: _a, generations: ga, ...rest } = chunked;
      const { commits: _b, generations: gb, ...wholeRest } = whole;
      expect(rest).toEqual(wholeRest);
      // Both files end at one generation: the next open sees nothing torn.
      expect(ga[0]).toBe(ga[1]);
      expect(gb[0]).toBe(gb[1]);
    }
  });

  it('a load that fails after some chunks keeps them with their index, and running it again finishes it', () => {
    for (const parse of ['inline', 'worker'] as const) {
      const store = openStore(join(dir, `fail-${parse}.db`));
      store.db.exec(
        `CREATE TEMP TRIGGER boom BEFORE INSERT ON main.papers WHEN (SELECT COUNT(*) FROM main.papers) >= 7000 BEGIN SELECT RAISE(ABORT, 'boom'); END`,
      );
      expect(() => ingestPaths(store, [pages], clock, { parse, chunkMs: 1, pauseMs: 5 })).toThrow(/boom/);
      const kept = store.db.prepare('SELECT count(*) FROM papers').pluck().get() as number;
      expect(kept).toBeGreaterThan(0);
      expect(kept).toBeLessThanOrEqual(7000);
      // The search index holds exactly the papers kept, and the files agree on the generation.
      expect(store.db.prepare('SELECT rowid FROM search.papers_fts_docsize ORDER BY rowid').pluck().all()).toEqual(
        store.db.prepare('SELECT id FROM papers ORDER BY id').pluck().all(),
      );
      const [c, s] = store.db.prepare('SELECT (SELECT generation FROM corpus_sync), (SELECT generation FROM search.search_sync)').raw().get() as number[];
      expect(c).toBe(s);
      store.db.exec('DROP TRIGGER temp.boom');
      ingestPaths(store, [pages], clock, { parse, chunkMs: 1, pauseMs: 5 });
      const titles = store.db.prepare('SELECT title_key, title, abstract FROM papers ORDER BY title_key').all();
      const reference = openStore(join(dir, `reference-${parse}.db`));
      ingestPaths(reference, [pages], clock, { chunkMs: 0 });
      expect(titles).toEqual(reference.db.prepare('SELECT title_key, title, abstract FROM papers ORDER BY title_key').all());
      expect(store.db.prepare('SELECT count(*) FROM paper_sources').pluck().get()).toBe(
        reference.db.prepare('SELECT count(*) FROM paper_sources').pluck().get(),
      );
      reference.close();
      store.close();
    }
  });
});
