// Bidi controls in corpus text (issue 13 defect 10 e): a U+202E in a seed page or a fetched answer never reaches a
// stored title, author or abstract, a paper page or a digest's Subject.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../src/db/open.js';
import { loadConfig } from '../src/config.js';
import { FakeClock } from '../src/clock.js';
import { createFetcher } from '../src/corpus/fetcher.js';
import { createSelector } from '../src/digest/select.js';
import { buildPreview } from '../src/render/preview-builder.js';
import { createRenderer, DEFAULT_TEMPLATES_DIR } from '../src/render/renderer.js';
import { startPapersApi, dailyItem } from './helpers/papers-api.js';
import { tempDir } from './helpers/tmp.js';
import { addPaper } from './helpers/corpus.js';
import { LISTING_HEADER } from '../bench/corpus-gen.js';

const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const RLO = '\u202e';
const PDF = '\u202c';

function cli(args: string[], dataDir: string) {
  const r = spawnSync(process.execPath, ['bin/paperboy.js', ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATA_DIR: dataDir, FETCH_ENABLED: 'false', LOG_LEVEL: 'warn' },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// A listing page in the seeds' first layout, every title and one abstract carrying direction controls.
const PAGE = [
  ...LISTING_HEADER.split('\n').slice(0, -1),
  'Apr 28',
  '',
  `${RLO}fdp.exe${PDF} Invoice Attention Networks`,
  '',
  'We study attention for invoices. It works well on every benchmark we tried. Code is at https://github.com/x/y.',
  '',
  '  • 2 authors',
  '·',
  'Sep 7, 2020',
  '',
  `Isolated \u2066Diffusion\u2069 Bridges \u200fand\u200e Marks`,
  '',
  `Another abstract with an ${RLO}override in it. It works.`,
  '',
  '  • 3 authors',
  '·',
  'Sep 8, 2020',
  '',
].join('\n');

describe('bidi controls from a seed page', () => {
  it('are gone from the stored titles and abstracts and from the digest Subject', () => {
    const dataDir = tempDir();
    const pages = join(dataDir, 'pages');
    mkdirSync(pages);
    writeFileSync(join(pages, 'bidi.txt'), PAGE);
    const ingest = cli(['ingest', pages], dataDir);
    expect(ingest.code, ingest.stderr).toBe(0);

    const store = openStore(join(dataDir, 'paperboy.db'));
    const rows = store.db.prepare('SELECT title, abstract FROM papers ORDER BY id').all() as { title: string; abstract: string }[];
    store.close();
    expect(rows.map((r) => r.title)).toEqual(['fdp.exe Invoice Attention Networks', 'Isolated Diffusion Bridges and Marks']);
    for (const r of rows) expect(r.abstract).not.toMatch(BIDI);

    const preview = cli(['preview', '--date', '2025-04-28'], dataDir);
    expect(preview.code, preview.stderr).toBe(0);
    const subject = /^Subject\s+(.*)$/m.exec(preview.stdout)?.[1];
    expect(subject).toMatch(/^“(fdp\.exe Invoice Attention Networks|Isolated Diffusion Bridges and Marks)” \+ 1 more trending paper$/);
    expect(preview.stdout).not.toMatch(BIDI);
  });
});

const ATOM = `<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>q</title>
  <entry>
    <id>http://arxiv.org/abs/2412.07777v1</id>
    <updated>2024-12-03T08:00:00Z</updated>
    <published>2024-12-03T08:00:00Z</published>
    <title>&#x202E;kcatta&#x202C; An arXiv Paper With an Override</title>
    <summary>An arXiv-only abstract with a \u2067hidden isolate\u2069 inside it.</summary>
    <author><name>Mallory ${RLO}Evil</name></author>
    <link href="http://arxiv.org/abs/2412.07777v1" rel="alternate" type="text/html"/>
    <arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term="cs.LG" scheme="http://arxiv.org/schemas/atom"/>
    <category term="cs.LG" scheme="http://arxiv.org/schemas/atom"/>
  </entry>
</feed>
`;

describe('bidi controls from a fetch (daily papers and arXiv on a local server)', () => {
  it('are gone from the stored title, authors, TL;DR and abstract, and from the digest Subject', async () => {
    const dir = tempDir();
    const api = await startPapersApi();
    try {
      api.days.set('2024-12-03', [
        dailyItem('2412.05555', `${RLO}gnp.exe${PDF} Trending Title Spoof`, {
          upvotes: 500,
          summary: `An abstract ${RLO}reversed. It works well on every benchmark.`,
          ai_summary: `A TL;DR with \u202aan embedding\u202c in it.`,
          authors: [{ name: `Eve ${RLO}Attacker`, hidden: false }],
        }),
      ]);
      api.atom = () => ATOM;
      const config = loadConfig({
        DATA_DIR: dir,
        LOG_LEVEL: 'silent',
        DAILY_PAPERS_URL: api.url,
        ARXIV_API_URL: api.url,
        ARXIV_CATEGORIES: 'cs.LG',
        FETCH_RETRIES: '0',
      });
      const clock = new FakeClock(new Date('2024-12-03T09:00:00Z'));
      const store = openStore(config.DATABASE_PATH);
      try {
        const report = await createFetcher({ store, clock, config, arxivIntervalMs: 1 }).run({ trigger: 'cli', dates: ['2024-12-03'] });
        expect(
          report.sources.map((s) => [s.source, s.status, s.added]),
          JSON.stringify(report.sources),
        ).toEqual([
          ['daily-papers', 'ok', 1],
          ['arxiv', 'ok', 1],
        ]);
        const rows = store.db.prepare('SELECT * FROM papers ORDER BY id').all() as Record<string, unknown>[];
        expect(rows.map((r) => r.title)).toEqual(['gnp.exe Trending Title Spoof', 'kcatta An arXiv Paper With an Override']);
        for (const r of rows) {
          for (const [k, v] of Object.entries(r)) if (typeof v === 'string') expect(v, `papers.${k}`).not.toMatch(BIDI);
        }
        expect(JSON.stringify(rows)).toContain('Eve Attacker');
        expect(JSON.stringify(rows)).toContain('Mallory Evil');

        const renderer = createRenderer({ config, templatesDir: DEFAULT_TEMPLATES_DIR });
        const selector = createSelector({ store, clock });
        const r = await buildPreview({ store, clock, config, renderer, selector }, { date: '2024-12-03' });
        if (r.status !== 'ready') throw new Error(`preview: ${r.status}`);
        expect(r.rendered.subject).toMatch(/^“gnp\.exe Trending Title Spoof” \+ 1 more trending paper$/);
        expect(r.html).not.toMatch(BIDI);
        expect(r.text).not.toMatch(BIDI);
      } finally {
        store.close();
      }
    } finally {
      await api.close();
    }
  });
});

describe('a title stored before the corpus stripped bidi controls', () => {
  it('still never reaches the digest Subject, HTML or text', async () => {
    const dir = tempDir();
    const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent' });
    const clock = new FakeClock(new Date('2026-03-10T09:00:00Z'));
    const store = openStore(config.DATABASE_PATH);
    try {
      // Straight into the table, as a row from an older version would be.
      addPaper(store, {
        title: `${RLO}fdp.exe${PDF} Old Row Title`,
        abstract: `An old abstract with ${RLO}an override. It works well.`,
        upvotes: 50,
        publishedOn: '2026-03-09',
        firstListedOn: '2026-03-10',
      });
      const renderer = createRenderer({ config, templatesDir: DEFAULT_TEMPLATES_DIR });
      const r = await buildPreview({ store, clock, config, renderer, selector: createSelector({ store, clock }) }, { date: '2026-03-10' });
      if (r.status !== 'ready') throw new Error(`preview: ${r.status}`);
      expect(r.rendered.subject).toBe('“fdp.exe Old Row Title” + your trending paper');
      expect(r.html).not.toMatch(BIDI);
      expect(r.text).not.toMatch(BIDI);
    } finally {
      store.close();
    }
  });
});
