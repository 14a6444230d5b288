import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { openStore, type Store } from '../src/db/open.js';
import { FakeClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { ingestPaths } from '../src/corpus/ingest.js';
import { registerAdminPreviewRoutes } from '../src/admin/preview-routes.js';
import { requireAdmin } from '../src/admin/auth.js';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';
import { addPaper, addSubscriber, recordSent } from './helpers/corpus.js';
import { launchChromium } from './helpers/chromium.js';

describe('paperboy preview (CLI)', () => {
  const dir = tempDir();
  const env = { DATA_DIR: dir, LOG_LEVEL: 'silent', PUBLIC_URL: 'https://papers.example.org' };
  let sentTitle = '';

  beforeAll(() => {
    expect(runCli(['ingest'], env).code).toBe(0);
    const store = openStore(join(dir, 'paperboy.db'));
    const sub = addSubscriber(store, { email: 'ada@example.org', topics: ['diffusion'], digestSize: 3 });
    // The top diffusion paper was sent yesterday: the preview must not show it again.
    const top = store.db
      .prepare(`SELECT p.id, p.title FROM search.papers_fts f JOIN papers p ON p.id = f.rowid WHERE papers_fts MATCH '"diffusion"' ORDER BY p.id LIMIT 1`)
      .get() as { id: number; title: string };
    sentTitle = top.title;
    recordSent(store, sub, [top.id], '2026-01-01');
    store.close();
  });

  it('writes what one subscriber would get to a file and prints the text part', () => {
    const out = join(dir, 'ada.html');
    const r = runCli(['preview', '--as', 'ADA@example.org', '--out', out, '--text'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^wrote .*ada\.html \(\d+\.\d KB\): “.+” \+ 2 more trending papers\n/);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('ada@example.org');
    // The CLI signs the subscriber's real links, as the digest they get would carry.
    expect(html).toMatch(/https:\/\/papers\.example\.org\/unsubscribe\/[A-Za-z0-9._-]{20,}/);
    expect(html).not.toContain('PBX');
    expect(r.stdout).toMatch(/matches: diffusion/i); // in the reason line since issue 16
    expect(r.stdout).toMatch(/Unsubscribe: https:\/\/papers\.example\.org\/unsubscribe\/[A-Za-z0-9._-]{20,}/);
    expect(html).not.toContain(sentTitle.replace(/&/g, '&amp;'));
    expect(r.stdout).not.toContain(sentTitle);
  });

  it('summarises the public digest with the score of each paper', () => {
    const r = runCli(['preview', '--kind', 'new', '--date', '2026-11-21'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Audience');
    expect(r.stdout).toMatch(/ # {2}score\s+log2\(w\)\s+decay/);
    expect(r.stdout).toMatch(/\n 1 +-?\d+\.\d{3} /);
  });

  it('fails clearly on an unknown subscriber, a bad kind or date', () => {
    const unknown = runCli(['preview', '--as', 'nobody@example.org'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('error: no subscriber with the address nobody@example.org\n');
    const badDate = runCli(['preview', '--date', '2026-02-31'], env);
    expect(badDate.code).toBe(1);
    expect(badDate.stderr).toContain('--date must be a day like 2026-03-10');
    const badKind = runCli(['preview', '--kind', 'hot'], env);
    expect(badKind.code).not.toBe(0);
    expect(badKind.stderr).toContain('Allowed choices are trending, new, both');
  });
});

describe('/admin/preview', () => {
  const clock = new FakeClock(new Date('2026-03-10T12:00:00Z'));
  const token = 'admin-token-0123456789abcdef';
  const config = { ...loadConfig({ PUBLIC_URL: 'https://papers.example.org', ADMIN_TOKEN: token }) };
  let store: Store;
  let app: FastifyInstance;
  let base: string;
  let sentId = 0;

  beforeAll(async () => {
    store = openStore(':memory:');
    ingestPaths(store, ['seeds'], clock);
    sentId = addPaper(store, { title: 'Already sent <em>paper</em>', upvotes: 500, publishedOn: '2026-03-10' });
    addPaper(store, { title: 'A fresh <script>x</script> hit', upvotes: 40, publishedOn: '2026-03-10' });
    const sub = addSubscriber(store, { email: 'grace@example.org', kind: 'both', digestSize: 4 });
    recordSent(store, sub, [sentId], '2026-03-09');
    app = Fastify();
    await registerAdminPreviewRoutes(app, {
      store,
      clock,
      config,
      guard: requireAdmin({ config }),
      linksFor: (s) => ({
        unsubscribeUrl: `https://papers.example.org/u/${s.id}?sig=a&b`,
        unsubscribeMailto: 'mailto:u@papers.example.org',
        manageUrl: `https://papers.example.org/m/${s.id}`,
      }),
    });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });

  const auth = { authorization: `Bearer ${token}` };

  it('needs the bearer token', async () => {
    expect((await fetch(`${base}/admin/preview`)).status).toBe(401);
    const wrong = await fetch(`${base}/admin/preview`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toContain('Bearer');
  });

  it('shows what one subscriber gets, with the score breakdown, and the exact parts', async () => {
    const res = await fetch(`${base}/admin/preview?as=grace@example.org`, { headers: auth });
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain('Preview for grace@example.org');
    // An admin page like the others: the admin layout (templates/admin/), with its navigation and sign-out.
    expect(page).toContain('paperboy admin');
    expect(page).toContain('action="/admin/logout"');
    expect(page).toContain('Score breakdown');
    expect(page).toMatch(/<td class="num"><b>-?\d+\.\d{3}<\/b><\/td>/);
    expect(page).toContain('<iframe sandbox=""');
    expect(page.toLowerCase()).not.toContain('<script');
    const html = await (await fetch(`${base}/admin/preview?as=grace@example.org&part=html`, { headers: auth })).text();
    expect(html).toContain(`href="https://papers.example.org/u/`);
    // Escaped as Handlebars escapes attribute values ('=' too): the same href to a browser.
    expect(html).toContain('?sig&#x3D;a&amp;b"');
    expect(html).not.toContain('Already sent');
    expect(html).toContain('TRENDING');
    expect(html).toContain('A fresh &lt;script&gt;x&lt;/script&gt; hit');
    const text = await (await fetch(`${base}/admin/preview?as=grace@example.org&part=text`, { headers: auth })).text();
    expect(text).toContain('== NEW ==');
    expect(text).toMatch(/Unsubscribe: https:\/\/papers\.example\.org\/u\/\d+\?sig=a&b/);
  });

  it('previews the public digest and validates the query', async () => {
    const pub = await (await fetch(`${base}/admin/preview?kind=trending&date=2026-03-10&part=text`, { headers: auth })).text();
    expect(pub).toContain('Already sent <em>paper</em>'); // nobody's sent list applies to the public digest
    expect((await fetch(`${base}/admin/preview?as=nobody@example.org`, { headers: auth })).status).toBe(404);
    const bad = await fetch(`${base}/admin/preview?kind=hot&date=2026-13-01`, { headers: auth });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { issues: { param: string }[] };
    expect(body.issues.map((i) => i.param).sort()).toEqual(['date', 'kind']);
  });

  it('renders in Chromium (screenshot in test-output/screenshots)', async () => {
    const dir = join(process.cwd(), 'test-output', 'screenshots');
    mkdirSync(dir, { recursive: true });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 1200 }, extraHTTPHeaders: auth });
      await page.goto(`${base}/admin/preview?as=grace@example.org`);
      expect(await page.locator('h2', { hasText: 'Score breakdown' }).count()).toBe(1);
      const frame = page.frameLocator('iframe');
      expect(await frame.locator('a', { hasText: 'Unsubscribe' }).count()).toBe(1);
      await page.screenshot({ path: join(dir, 'admin-preview.png') });
      expect(existsSync(join(dir, 'admin-preview.png'))).toBe(true);
    } finally {
      await browser.close();
    }
  });
});
