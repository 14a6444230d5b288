import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createRequire } from 'node:module';
import Fastify, { type FastifyInstance } from 'fastify';
import { openStore, type Store } from '../src/db/open.js';
import { FakeClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { registerArchiveRoutes } from '../src/archive/routes.js';
import { addPaper } from './helpers/corpus.js';
import { launchChromium } from './helpers/chromium.js';
import { mkdirSync } from 'node:fs';
import { loadViews } from '../src/web/views.js';
import { join } from 'node:path';

// sax in strict mode: an Atom document that is not well-formed XML throws.
const sax = createRequire(import.meta.url)('sax') as { parser(strict: boolean): { onerror: (e: Error) => void; write(s: string): { close(): void } } };
function assertWellFormedXml(xml: string): void {
  const p = sax.parser(true);
  p.onerror = (e) => {
    throw e;
  };
  p.write(xml).close();
}

// biome-ignore lint/suspicious/noExplicitAny: JSON answers are read field by field and checked by the assertions.
type Json = any;
const getJson = async (url: string): Promise<Json> => (await fetch(url)).json();

const clock = new FakeClock(new Date('2026-03-10T12:00:00Z'));
const config = loadConfig({ PUBLIC_URL: 'https://papers.example.org', SENDER_ADDRESS_LINE: 'Paperboy Labs, Springfield', DIGEST_SIZE_DEFAULT: '5' });
let store: Store;
let app: FastifyInstance;
let base: string;
const ids: Record<string, number> = {};

beforeAll(async () => {
  store = openStore(':memory:');
  ids.evil = addPaper(store, {
    title: 'Evil <script>alert(1)</script> & <b>"title"</b>',
    abstract: 'Abstract with ]]> and <script>x</script> & a control\u0001char. It is about diffusion.',
    upvotes: 30,
    publishedOn: '2026-03-09',
    links: [{ url: 'https://github.com/a/b', kind: 'code' }],
  });
  ids.diffusion = addPaper(store, { title: 'Diffusion for everything', upvotes: 3, publishedOn: '2026-03-02', lists: 2 });
  ids.fresh = addPaper(store, { title: 'Fresh but quiet', publishedOn: '2026-03-10' });
  ids.old = addPaper(store, { title: 'Old classic', upvotes: 100, publishedOn: '2025-01-01' });
  app = Fastify();
  // Like the web server: an app-wide strict CSP on every HTML answer, and the site's stylesheet. The archive's pages
  // are the site's, so they need nothing more.
  app.addHook('onSend', async (_req, reply) => {
    if (String(reply.getHeader('content-type') ?? '').startsWith('text/html'))
      reply.header('content-security-policy', "default-src 'none'; style-src 'self'; img-src 'self' data:");
  });
  const views = loadViews();
  app.get('/static/style.css', async (_req, reply) => reply.type('text/css').send(views.css));
  // An admin here is whoever sends this header (the real check is src/admin/auth.ts adminCheck).
  await registerArchiveRoutes(app, { store, clock, config, views, isAdmin: (req) => req.headers['x-test-admin'] === '1' });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await app.close();
  store.close();
});

describe('web archive over HTTP', () => {
  it("serves the day's public trending digest in the site's look", async () => {
    const res = await fetch(`${base}/digest/2026-03-10`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    // The site's strict policy, not one that lets inline styles in.
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; style-src 'self'; img-src 'self' data:");
    const html = await res.text();
    expect(html).toContain('<link rel="stylesheet" href="/static/style.css');
    expect(html).toContain('class="site-header"');
    expect(html).not.toMatch(/<style|style="/);
    expect(html).toContain('paperboy');
    expect(html).toContain(`href="https://papers.example.org/papers/${ids.evil}"`);
    expect(html).toContain('Evil &lt;script&gt;');
    expect(html.toLowerCase()).not.toContain('<script');
    expect(html).toContain('https://papers.example.org/feed.xml');
    expect(html).not.toContain('PBX'); // no unfilled per-recipient slot on the public page
    expect(html).toContain('Top 4 papers of Mar 10, 2026');
    expect(html).not.toContain('\u0001');
    // A past date leaves out papers published after it.
    const past = await (await fetch(`${base}/digest/2026-03-05`)).text();
    expect(past).toContain('Diffusion for everything');
    expect(past).not.toContain('Fresh but quiet');
  });

  it('answers bad, future and empty dates clearly', async () => {
    expect((await fetch(`${base}/digest/2026-02-30`)).status).toBe(400);
    expect((await fetch(`${base}/digest/yesterday`)).status).toBe(400);
    expect((await fetch(`${base}/digest/2026-13-01`)).status).toBe(400);
    const future = await fetch(`${base}/digest/2026-03-11`);
    expect(future.status).toBe(404);
    expect(await future.text()).toContain('not out yet');
    const before = await fetch(`${base}/digest/2020-01-01`);
    expect(before.status).toBe(404);
    expect(await before.text()).toContain('no papers in the corpus on or before 2020-01-01');
  });

  it('shows a paper page with its listings, escaped; seed file names and lines only to an admin', async () => {
    const res = await fetch(`${base}/papers/${ids.diffusion}`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<h1>Diffusion for everything</h1>');
    expect(html).toContain('Listed on');
    expect(html).not.toContain(`page-${ids.diffusion}-0.txt`);
    expect(html).not.toContain('Seed file');
    const admin = await (await fetch(`${base}/papers/${ids.diffusion}`, { headers: { 'x-test-admin': '1' } })).text();
    expect(admin).toContain(`page-${ids.diffusion}-0.txt`);
    expect(admin).toContain(`page-${ids.diffusion}-1.txt`);
    const evil = await (await fetch(`${base}/papers/${ids.evil}`)).text();
    expect(evil.toLowerCase()).not.toContain('<script');
    expect(evil).toContain('a controlchar');
    expect(evil).toContain('href="https://github.com/a/b"');
    expect((await fetch(`${base}/papers/999999`)).status).toBe(404);
    expect((await fetch(`${base}/papers/abc`)).status).toBe(404);
  });

  it('serves a well-formed Atom feed with escaped entries', async () => {
    const res = await fetch(`${base}/feed.xml`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/atom\+xml/);
    const xml = await res.text();
    assertWellFormedXml(xml);
    expect(xml).toContain('<feed xmlns="http://www.w3.org/2005/Atom">');
    expect(xml).toContain('<link rel="self" type="application/atom+xml" href="https://papers.example.org/feed.xml"/>');
    expect(xml).toContain(`<id>https://papers.example.org/papers/${ids.evil}</id>`);
    expect(xml).toContain('Evil &lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;&quot;title&quot;&lt;/b&gt;');
    expect(xml).not.toContain('\u0001');
    expect(xml.match(/<entry>/g)).toHaveLength(4);
    expect(() => assertWellFormedXml('<feed><entry></feed>')).toThrow();
  });

  it('lists papers as JSON by trending or new, filtered by topic', async () => {
    const trending = await getJson(`${base}/api/papers?sort=trending&limit=2`);
    expect(trending.count).toBe(2);
    expect(trending.papers[0].id).toBe(ids.evil);
    expect(trending.papers[0].title).toBe('Evil <script>alert(1)</script> & <b>"title"</b>');
    const fresh = await getJson(`${base}/api/papers?sort=new`);
    expect(fresh.papers.map((p: { id: number }) => p.id)).toEqual([ids.fresh, ids.evil, ids.diffusion, ids.old]);
    const topic = await getJson(`${base}/api/papers?topic=${encodeURIComponent('diffusion')}`);
    expect(topic.papers.map((p: { id: number }) => p.id).sort()).toEqual([ids.evil, ids.diffusion].sort());
    expect(topic.papers[0].matches).toEqual(['diffusion']);
    const weird = await fetch(`${base}/api/papers?topic=${encodeURIComponent('" OR NEAR(* AND')}`);
    expect(weird.status).toBe(200);
  });

  it('rejects bad queries with a 400 naming the parameter', async () => {
    for (const [q, param] of [
      ['sort=popular', 'sort'],
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['limit=ten', 'limit'],
      [`topic=${'x'.repeat(101)}`, 'topic'],
    ] as const) {
      const res = await fetch(`${base}/api/papers?${q}`);
      expect(res.status, q).toBe(400);
      const body: Json = await res.json();
      expect(body.issues[0].param).toBe(param);
    }
  });

  it('is styled by the site stylesheet in Chromium under the strict CSP, and links the paper page (screenshots)', async () => {
    const dir = join(process.cwd(), 'test-output', 'screenshots');
    mkdirSync(dir, { recursive: true });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 800, height: 1000 } });
      const blocked: string[] = [];
      page.on('console', (m) => {
        if (/Content Security Policy/i.test(m.text())) blocked.push(m.text());
      });
      await page.goto(`${base}/digest/2026-03-10`);
      // The site's background, from /static/style.css.
      expect(await page.evaluate('getComputedStyle(document.body).backgroundColor')).toBe('rgb(246, 245, 242)');
      await page.screenshot({ path: join(dir, 'archive-digest-800.png') });
      const href = await page.locator('a', { hasText: 'Diffusion for everything' }).first().getAttribute('href');
      expect(href).toBe(`https://papers.example.org/papers/${ids.diffusion}`);
      await page.goto(`${base}/papers/${ids.diffusion}`); // PUBLIC_URL is not this test server
      expect(await page.locator('h1').textContent()).toBe('Diffusion for everything');
      expect(await page.evaluate('getComputedStyle(document.body).backgroundColor')).toBe('rgb(246, 245, 242)');
      await page.screenshot({ path: join(dir, 'archive-paper-800.png') });
      expect(blocked).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('links each edition to the previous and next one, and lists them all at /digest', async () => {
    // Listing days: Mar 5 and Mar 8, and today (always an edition). Last in the file: it changes the corpus.
    store.db.prepare("UPDATE papers SET first_listed_on = '2026-03-05' WHERE id = ?").run(ids.diffusion);
    store.db.prepare("UPDATE papers SET first_listed_on = '2026-03-08' WHERE id = ?").run(ids.evil);
    clock.advance(61_000); // past the editions' one-minute cache
    const mid = await (await fetch(`${base}/digest/2026-03-08`)).text();
    expect(mid).toContain('href="/digest/2026-03-05" rel="prev"');
    expect(mid).toContain('href="/digest/2026-03-10" rel="next"');
    const first = await (await fetch(`${base}/digest/2026-03-05`)).text();
    expect(first).not.toContain('rel="prev"');
    expect(first).toContain('href="/digest/2026-03-08" rel="next"');
    const today = await (await fetch(`${base}/digest/2026-03-10`)).text();
    expect(today).toContain('href="/digest/2026-03-08" rel="prev"');
    expect(today).not.toContain('rel="next"');
    const index = await fetch(`${base}/digest`, { redirect: 'manual' });
    expect(index.status).toBe(200);
    const list = await index.text();
    expect(list).toContain('<h1>Editions</h1>');
    const linked = [...list.matchAll(/href="\/digest\/(\d{4}-\d\d-\d\d)"/g)].map((m) => m[1]);
    expect(linked).toEqual(['2026-03-10', '2026-03-08', '2026-03-05']);
  });
});
