import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../src/db/open.js';
import { ingestPaths } from '../src/corpus/ingest.js';
import { createPapersRepo } from '../src/corpus/papers-repo.js';
import { FakeClock } from '../src/clock.js';
import { tempDir } from './helpers/tmp.js';

const clock = new FakeClock(new Date('2026-11-23T12:00:00Z'));

describe('ingest of the seed pages', () => {
  const dir = tempDir();
  const store = openStore(join(dir, 'p.db'));
  const repo = createPapersRepo(store);

  it('finds 302 entries and 247 distinct papers on a fresh database', () => {
    const r = ingestPaths(store, ['seeds'], clock);
    expect(r).toMatchObject({ pages: 5, entries: 302, added: 247, updated: 0, warnings: [] });
    expect(repo.count()).toBe(247);
    expect(store.q('count-sources').get()!.n).toBe(302);
  });

  it('adds and updates nothing on a second run', () => {
    const r = ingestPaths(store, ['seeds'], clock);
    expect(r).toMatchObject({ pages: 5, entries: 302, added: 0, updated: 0 });
    expect(repo.count()).toBe(247);
  });

  it('merges a paper seen on several pages, keeping every source', () => {
    const [p] = repo.search('Perturbation Analysis of Neural Collapse', 1);
    expect(p!.title).toBe('Perturbation Analysis of Neural Collapse');
    // Layout 1 page gives metadata, layout 2 page adds a second source but no metadata: merged keeps it.
    expect(p).toMatchObject({ authors: 3, publishedOn: '2022-10-29', pageCount: 2 });
    const sources = repo.sources(p!.id);
    expect(sources.map((s) => s.file)).toEqual(['000_3f5a05582542f440.txt', '002_12a6515ead7b9236.txt']);
    expect(p!.firstListedOn).toBe('2026-04-28');
  });

  it('keeps the FTS index in sync with the papers table', () => {
    expect(repo.search('Schrödinger bridge', 5).map((p) => p.title)).toContain('Light Schrödinger Bridge');
    // Quotes and FTS operators in user text are searched as words, not syntax.
    expect(() => repo.search('bridge" OR title:*', 5)).not.toThrow();
    const p = repo.search('Light Schrödinger Bridge', 1)[0]!;
    store.db.prepare("UPDATE papers SET abstract = 'zyxwv unique marker' WHERE id = ?").run(p.id);
    expect(repo.search('zyxwv', 5).map((x) => x.id)).toEqual([p.id]);
    expect(repo.search('sinkhorn', 50).map((x) => x.id)).not.toContain(p.id);
  });
});

describe('ingest of bad pages loses nothing', () => {
  const dir = tempDir();
  const store = openStore(join(dir, 'p.db'));
  const repo = createPapersRepo(store);
  ingestPaths(store, ['seeds/000_3f5a05582542f440.txt'], clock);
  const before = repo.count();

  it('reports each bad page with file and line, and ingests the good one beside them', () => {
    const pages = join(dir, 'pages');
    mkdirSync(pages);
    writeFileSync(join(pages, 'a_empty.txt'), '');
    writeFileSync(join(pages, 'b_binary.txt'), Buffer.from([0, 1, 2, 3, 255, 254, 0, 0]));
    writeFileSync(join(pages, 'c_truncated.txt'), 'new\n\nSubscribe\n\nApr 2\n\nFresh Paper\n\nIts abstract.\n\nLost Title\n');
    copyFileSync('seeds/001_cd8c87fa5e31ba71.txt', join(pages, 'd_good.txt'));
    const r = ingestPaths(store, [pages, join(dir, 'missing.txt')], clock);
    expect(r.warnings.map((w) => `${w.file.replace(dir + '/', '')}:${w.line}: ${w.message}`)).toEqual([
      'missing.txt:0: cannot read: ENOENT',
      'pages/a_empty.txt:1: empty page: no entries',
      'pages/b_binary.txt:1: not a text page (binary data); skipped',
      'pages/c_truncated.txt:11: truncated entry "Lost Title": title with no abstract; skipped',
    ]);
    expect(r.pages).toBe(4);
    expect(r.entries).toBe(1 + 42);
    expect(repo.count()).toBeGreaterThan(before);
    expect(repo.search('Fresh Paper', 1)[0]?.title).toBe('Fresh Paper');
    // Everything from the first ingest is still there.
    expect(repo.search('Born Series', 1)[0]?.authors).toBe(2);
  });

  it('a later page with more votes updates the paper, and only that counts as updated', () => {
    const page =
      'new\n\nSubscribe\n\nDaily Papers\n\nNov 20\n\nFine-Grained Perturbation Guidance via Attention Head Selection\n\n' +
      'Short abstract.\n\n  • 10 authors\n·\nJun 12, 2025 9\n';
    const f = join(dir, 'votes.txt');
    writeFileSync(f, page);
    const r = ingestPaths(store, [f], clock);
    expect(r).toMatchObject({ entries: 1, added: 0, updated: 1 });
    const p = repo.search('Fine-Grained Perturbation Guidance', 1)[0]!;
    expect(p.upvotes).toBe(9);
    expect(p.abstract.length).toBeGreaterThan(500); // the longer abstract is kept
    expect(p.pageCount).toBe(2);
    expect(ingestPaths(store, [f], clock)).toMatchObject({ added: 0, updated: 0 });
  });
});
