// `paperboy fetch` as a person runs it, against a local daily-papers server: what it stores (arXiv id, names, upvotes,
// code links), a second run with changed upvotes (updated, nothing added), one paper for a seed paper the API also
// lists, and a failing source (exit code, the reason on stderr, the dashboard row).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../src/db/open.js';
import { createPapersRepo } from '../src/corpus/papers-repo.js';
import { runCli, runCliAsync } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';
import { startPapersApi, dailyItem, type PapersApi } from './helpers/papers-api.js';

const DAY = '2024-12-03';
const FIXTURE = JSON.parse(readFileSync('test/fixtures/sources/daily-papers-2024-12-03.json', 'utf8')) as Record<string, unknown>[];

describe('paperboy fetch', () => {
  const dir = tempDir();
  let api: PapersApi;
  let env: Record<string, string>;
  // The seed paper "Light Schrödinger Bridge", as the API lists it (another spelling of the same title).
  const seedTwin = () =>
    dailyItem('2310.01174v2', 'Light Schrodinger bridge', {
      upvotes: 50,
      authors: [{ name: 'Alexander Korotin' }, { name: 'Nikita Gushchin' }, { name: 'Evgeny Burnaev' }],
    });

  beforeAll(async () => {
    api = await startPapersApi();
    env = { DATA_DIR: dir, LOG_LEVEL: 'silent', DAILY_PAPERS_URL: api.url, FETCH_RETRIES: '0' };
    expect(runCli(['ingest'], env).stdout).toContain('papers added: 247');
  });
  afterAll(() => api.close());

  const paper = (arxivId: string) => {
    const store = openStore(join(dir, 'paperboy.db'));
    try {
      return { paper: createPapersRepo(store).getByArxivId(arxivId), count: createPapersRepo(store).count(), store: null };
    } finally {
      store.close();
    }
  };

  it('stores the day with arXiv ids, author names, upvotes and code links; a seed paper it lists stays one paper', async () => {
    api.days.set(DAY, [...FIXTURE, seedTwin()]);
    const r = await runCliAsync(['fetch', '--date', DAY], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('added 248: Sparse Attention Is All You Need for Long Video\n');
    expect(r.stdout).toContain('warning: daily-papers: item 7 of 2024-12-03 (not-an-arxiv-id): paper.id is not an arXiv identifier\n');
    expect(r.stdout).toMatch(/^updated \d+: Light Schrödinger Bridge$/m);
    expect(r.stdout).toContain('daily-papers 2024-12-03: ok, requests: 1, papers: 5, added: 4, updated: 1, unchanged: 0, skipped: 5\n');
    // Not a terminal: plain progress lines on stderr.
    expect(r.stderr).toBe('daily-papers 2024-12-03 (1/1)\n');

    const { paper: p, count } = paper('2412.01234');
    expect(count).toBe(247 + 4);
    expect(p).toMatchObject({
      title: 'Sparse Attention Is All You Need for Long Video',
      authorNames: ['Ada Lovelace', 'Alan Turing', 'Grace Hopper', 'Edsger Dijkstra', 'Barbara Liskov'],
      authors: 5,
      upvotes: 41,
      comments: 3,
      organization: 'Example Lab',
      publishedOn: '2024-12-02',
      firstListedOn: '2024-12-03',
      links: [
        { url: 'https://github.com/lab/sparse-video', kind: 'code', stars: 120 },
        { url: 'https://sparse-video.example.org', kind: 'project' },
      ],
    });
    const twin = paper('2310.01174').paper!;
    expect(twin.title).toBe('Light Schrödinger Bridge'); // the seed's spelling: the paper it was
    expect(twin).toMatchObject({ upvotes: 50, authors: 3, authorNames: ['Alexander Korotin', 'Nikita Gushchin', 'Evgeny Burnaev'] });
    // Still the seed's links and sources, plus the listing.
    expect(twin.links.map((l) => l.url)).toContain('https://github.com/ngushchin/LightSB');
    const store = openStore(join(dir, 'paperboy.db'));
    const sources = createPapersRepo(store)
      .sources(twin.id)
      .map((s) => s.file);
    const same = store.db.prepare("SELECT COUNT(*) FROM papers WHERE title_key = 'light schrodinger bridge'").pluck().get();
    store.close();
    expect(same).toBe(1);
    expect(sources).toEqual(['000_3f5a05582542f440.txt', '003_a235a867fa8ff662.txt', 'daily-papers 2024-12-03']);
  });

  it('run again with changed upvotes, it updates them and adds nothing', async () => {
    const changed = structuredClone(FIXTURE);
    (changed[0]!.paper as { upvotes: number }).upvotes = 60;
    api.days.set(DAY, [...changed, seedTwin()]);
    const r = await runCliAsync(['fetch', '--date', DAY], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('daily-papers 2024-12-03: ok, requests: 1, papers: 5, added: 0, updated: 1, unchanged: 4, skipped: 5\n');
    expect(r.stdout).toContain('updated 248: Sparse Attention Is All You Need for Long Video\n');
    expect(r.stdout).not.toMatch(/^added /m);
    const { paper: p, count } = paper('2412.01234');
    expect(count).toBe(251);
    expect(p!.upvotes).toBe(60);
    const store = openStore(join(dir, 'paperboy.db'));
    const snaps = store.db.prepare('SELECT upvotes FROM upvote_snapshots WHERE paper_id = ? ORDER BY taken_at').pluck().all(p!.id);
    const runs = store.db.prepare("SELECT status, added, updated FROM fetch_runs WHERE source = 'daily-papers' ORDER BY id").raw().all();
    store.close();
    expect(snaps).toEqual([41, 60]);
    expect(runs).toEqual([
      ['ok', 4, 1],
      ['ok', 0, 1],
    ]);
  });

  it('a source that fails exits non-zero with the reason, and nothing is lost', async () => {
    api.dailyFaults.push('500');
    const r = await runCliAsync(['fetch', '--date', DAY], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('daily-papers 2024-12-03: FAILED, requests: 1, papers: 0, added: 0');
    expect(r.stderr).toContain('error: daily-papers: 2024-12-03: HTTP 500 Internal Server Error\n');
    expect(paper('2412.01234').count).toBe(251);

    const bad = runCli(['fetch', '--source', 'arxiv'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('error: ARXIV_CATEGORIES is empty: set it (e.g. cs.LG,cs.CL) to read arXiv\n');
    const date = runCli(['fetch', '--date', '2024-13-01'], env);
    expect(date.code).not.toBe(0);
    expect(date.stderr).toContain("argument '2024-13-01' is invalid. expected a date such as 2026-03-10");
  });
});
