// Every surface after a fetch, served by the running service as `npm start` runs it (the source a local server):
// the JSON API, the paper page, the Atom feed, the home page, the archive and the digest email all show the TL;DR,
// the authors, the organisation, the listing and arXiv dates, the votes and comments, and the paper's own links;
// seed papers keep what the seeds have. Screenshots at 390 and 1280 px in test-output/screenshots/live-*.png.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { loadConfig } from '../src/config.js';
import { createApp, type App } from '../src/app.js';
import { startService, type Service } from '../src/service-runner.js';
import { FakeClock } from '../src/clock.js';
import { silentLogger } from '../src/log.js';
import { createSelector } from '../src/digest/select.js';
import { createRenderer, DEFAULT_TEMPLATES_DIR } from '../src/render/renderer.js';
import { freePort } from './helpers/free-port.js';
import { tempDir } from './helpers/tmp.js';
import { launchChromium } from './helpers/chromium.js';
import { startPapersApi, type PapersApi } from './helpers/papers-api.js';

const sax = createRequire(import.meta.url)('sax') as { parser(strict: boolean): { onerror: (e: Error) => void; write(s: string): { close(): void } } };
const DAY = '2024-12-03';
const FIXTURE = JSON.parse(readFileSync('test/fixtures/sources/daily-papers-2024-12-03.json', 'utf8')) as unknown[];
const TOKEN = 'admin-token-for-surfaces';

describe('what every surface shows of a fetched paper', () => {
  const dir = tempDir();
  let api: PapersApi;
  let app: App;
  let service: Service;
  let base: string;
  let sparseId: number;

  beforeAll(async () => {
    api = await startPapersApi();
    api.days.set(DAY, FIXTURE);
    const port = await freePort();
    const config = loadConfig({
      DATA_DIR: dir,
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      ADMIN_TOKEN: TOKEN,
      SCHEDULER_ENABLED: 'false',
      INBOUND_SMTP_ENABLED: 'false',
      DAILY_PAPERS_URL: api.url,
      FETCH_DAYS: '1',
      FETCH_SCHEDULE: 'off',
    });
    app = createApp(config, { log: silentLogger, clock: new FakeClock(new Date(`${DAY}T09:00:00Z`)) });
    service = await startService(app);
    base = `http://127.0.0.1:${port}`;
    // The fetch at start runs in the background: wait for it.
    const until = Date.now() + 20_000;
    const status = () => app.store.db.prepare('SELECT status FROM fetch_runs ORDER BY id DESC LIMIT 1').pluck().get();
    while (status() !== 'ok' && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(status()).toBe('ok');
    sparseId = app.store.db.prepare("SELECT id FROM papers WHERE arxiv_id = '2412.01234'").pluck().get() as number;
  });
  afterAll(async () => {
    await service?.stop();
    await app?.close();
    await api?.close();
  });

  it('/api/papers gives every fact and link', async () => {
    const body = (await (await fetch(`${base}/api/papers?limit=3`)).json()) as { papers: Record<string, unknown>[] };
    expect(body.papers[0]).toMatchObject({
      id: sparseId,
      title: 'Sparse Attention Is All You Need for Long Video',
      url: `${base}/papers/${sparseId}`,
      paper_url: 'https://arxiv.org/abs/2412.01234',
      arxiv_id: '2412.01234',
      pdf_url: 'https://arxiv.org/pdf/2412.01234',
      daily_papers_url: 'https://huggingface.co/papers/2412.01234',
      tldr: 'Sparse attention lets a video transformer read an hour of frames at the cost of a minute.',
      authors: 5,
      author_names: ['Ada Lovelace', 'Alan Turing', 'Grace Hopper', 'Edsger Dijkstra', 'Barbara Liskov'],
      organization: 'Example Lab',
      published_on: '2024-12-02',
      listed_on: '2024-12-03',
      upvotes: 41,
      upvotes_today: 41,
      upvotes_week: 41,
      comments: 3,
      links: [
        { url: 'https://github.com/lab/sparse-video', kind: 'code', stars: 120 },
        { url: 'https://sparse-video.example.org', kind: 'project' },
      ],
    });
    // A seed paper: no arXiv id, so its own page is where it is read; what the seeds have is kept.
    const seed = (await (await fetch(`${base}/api/papers?sort=new&limit=100`)).json()) as { papers: Record<string, unknown>[] };
    const light = seed.papers.find((p) => p.title === 'Light Schrödinger Bridge');
    if (light) expect(light).toMatchObject({ arxiv_id: null, paper_url: light.url, pdf_url: null, authors: expect.any(Number), author_names: [] });
  });

  it('/papers/:id names every author and links the paper, its PDF, its daily-papers page, code with stars and project', async () => {
    const html = await (await fetch(`${base}/papers/${sparseId}`)).text();
    expect(html).toContain('Ada Lovelace, Alan Turing, Grace Hopper, Edsger Dijkstra, Barbara Liskov · <b>Example Lab</b>');
    expect(html).toContain('<b>TL;DR</b> Sparse attention lets a video transformer');
    expect(html).toContain('▲ 41 upvotes · 3 comments · Listed Dec 3, 2024 · arXiv Dec 2, 2024 · on 1 listing');
    expect(html).toMatch(/<a class="chip primary" href="https:\/\/arxiv.org\/abs\/2412.01234"[^>]*>Read the paper<\/a>/);
    for (const [href, label] of [
      ['https://arxiv.org/pdf/2412.01234', 'PDF'],
      ['https://huggingface.co/papers/2412.01234', 'Daily Papers'],
      ['https://github.com/lab/sparse-video', 'Code on GitHub ★ 120'],
      ['https://sparse-video.example.org', 'Project page'],
    ] as const)
      expect(html).toMatch(new RegExp(`href="${href}"[^>]*>${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}</a>`));
    // The public sees the listing and its day and rank; the seed file (here the API's) is for admins.
    expect(html).toMatch(/<td>Daily Papers<\/td><td><a href="\/digest\/2024-12-03">Dec 3, 2024<\/a><\/td><td>#1<\/td><\/tr>/);
    expect(html).not.toContain('Daily Papers API');
    expect(html).not.toMatch(/Added/);
  });

  it('the Atom feed links each entry to the paper, with its authors and arXiv date', async () => {
    const xml = await (await fetch(`${base}/feed.xml`)).text();
    const p = sax.parser(true);
    p.onerror = (e) => {
      throw e;
    };
    p.write(xml).close();
    const entry = xml.slice(xml.indexOf(`<id>${base}/papers/${sparseId}</id>`), xml.indexOf('</entry>', xml.indexOf(`<id>${base}/papers/${sparseId}</id>`)));
    expect(entry).toContain('<link rel="alternate" type="text/html" href="https://arxiv.org/abs/2412.01234"/>');
    expect(entry).toContain('<link rel="related" href="https://arxiv.org/pdf/2412.01234" title="PDF"/>');
    expect(entry).toContain(`<link rel="related" href="${base}/papers/${sparseId}" title="Details"/>`);
    expect(entry).toContain('<author><name>Barbara Liskov</name></author>');
    expect(entry).toContain('<published>2024-12-02T00:00:00Z</published>');
    expect(entry).toContain('TL;DR: Sparse attention lets');
  });

  it('the home page and the email card show the facts, and "Read the paper" goes to arXiv', async () => {
    const home = await (await fetch(`${base}/`)).text();
    const start = home.indexOf('">Sparse Attention');
    const card = home.slice(start, home.indexOf('</li>', start));
    expect(card).toContain('<p class="byline">Ada Lovelace, Alan Turing, Grace Hopper et al. · Example Lab</p>');
    expect(card).toContain('<span title="on arXiv">arXiv Dec 2, 2024</span>');
    expect(card).toContain('<span title="listed on Daily Papers">Listed Dec 3, 2024</span>');
    expect(card).toContain('3 comments');
    expect(card).toMatch(/<a class="chip primary" href="https:\/\/arxiv.org\/abs\/2412.01234"[^>]*>Read the paper<\/a>/);
    expect(card).toContain('>Code ★ 120</a>');

    const sel = createSelector({ store: app.store, clock: app.clock }).select({ kind: 'trending', size: 5 }, DAY);
    if (sel.status !== 'selected') throw new Error(sel.message);
    const mail = await createRenderer({ templatesDir: DEFAULT_TEMPLATES_DIR, config: app.config, validationLevel: 'strict' }).renderDigest(sel.selection, {
      slots: { unsubscribeUrl: `${base}/u`, manageUrl: `${base}/m`, unsubscribeMailto: 'mailto:u@example.org', email: 'reader@example.org' },
    });
    expect(mail.html).toMatch(/<a href="https:\/\/arxiv.org\/abs\/2412.01234" style="[^"]*">Sparse Attention Is All You Need for Long Video<\/a>/);
    expect(mail.html).toContain('Ada Lovelace, Alan Turing, Grace Hopper et al. · Example Lab');
    expect(mail.html).toContain('▲\u00A041\u00A0upvotes · 3\u00A0comments · Listed\u00A0Dec\u00A03,\u00A02024 · arXiv\u00A0Dec\u00A02,\u00A02024');
    expect(mail.html).toContain('Code on GitHub ★ 120');
    expect(mail.text).toContain(
      '   Ada Lovelace, Alan Turing, Grace Hopper et al. · Example Lab\n' +
        // Plain text wraps at words itself: ordinary spaces there.
        '   ▲ 41 upvotes · 3 comments · Listed Dec 3, 2024 · arXiv Dec 2, 2024\n\n   TL;DR: Sparse attention lets a video transformer read an hour of\n',
    );
    expect(mail.text).toContain(
      '   Read the paper: https://arxiv.org/abs/2412.01234\n   PDF: https://arxiv.org/pdf/2412.01234\n   Daily Papers: https://huggingface.co/papers/2412.01234\n',
    );
    expect(mail.text).toContain(`   Details: ${base}/papers/${sparseId}\n`);

    // Screenshots a person looks at: nothing wider than a phone, at both widths.
    const shots = join(process.cwd(), 'test-output', 'screenshots');
    mkdirSync(shots, { recursive: true });
    const browser = await launchChromium();
    try {
      for (const width of [390, 1280]) {
        const page = await browser.newPage({ viewport: { width, height: 900 }, extraHTTPHeaders: { authorization: `Bearer ${TOKEN}` } });
        await page.setContent(mail.html, { waitUntil: 'load' });
        expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(width);
        await page.screenshot({ path: join(shots, `live-email-${width}.png`), fullPage: true });
        for (const [name, path] of [
          ['home', '/'],
          ['paper', `/papers/${sparseId}`],
          ['digest', `/digest/${DAY}`],
          ['admin', '/admin'],
        ] as const) {
          await page.goto(base + path, { waitUntil: 'load' });
          if (name !== 'admin') expect([name, await page.evaluate('document.documentElement.scrollWidth')]).toEqual([name, width]);
          await page.screenshot({ path: join(shots, `live-${name}-${width}.png`), fullPage: true });
        }
        await page.close();
      }
    } finally {
      await browser.close();
    }
  });
});
