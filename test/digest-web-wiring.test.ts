// The digest's pages as `npm start` serves them (startService): the web server's security headers and error pages,
// the shared admin sign-in, real signed links in the preview.
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/log.js';
import { startService } from '../src/service-runner.js';
import { tempDir } from './helpers/tmp.js';
import { addSubscriber } from './helpers/corpus.js';
import { feedbackUrl } from '../src/subscriptions/subscriber-links.js';

describe('digest routes in the running service', () => {
  const dir = tempDir('paperboy-digest-web-');
  it('serves the archive under the site CSP, and the admin preview behind the shared sign-in with real signed links', async () => {
    const app = createApp(
      loadConfig({
        DATA_DIR: dir,
        SEEDS_DIR: 'seeds',
        PUBLIC_URL: 'https://papers.example.org',
        SCHEDULER_ENABLED: 'false',
        FETCH_ENABLED: 'false',
        INBOUND_SMTP_ENABLED: 'false',
      }),
      { log: silentLogger },
    );
    const service = await startService(app, { port: 0 });
    afterAll(async () => {
      await service.stop();
      await app.close();
    });
    addSubscriber(app.store, { email: 'lin@example.org', topics: ['diffusion'], digestSize: 3 });
    const base = service.web.address;
    const today = app.clock.now().toISOString().slice(0, 10);
    const digest = await fetch(`${base}/digest/${today}`);
    expect(digest.status).toBe(200);
    // The archive's pages are the site's: the site's strict policy, no inline styles let in.
    expect(digest.headers.get('content-security-policy')).toContain("style-src 'self'");
    expect(digest.headers.get('content-security-policy')).not.toContain('unsafe-inline');
    expect(digest.headers.get('x-content-type-options')).toBe('nosniff'); // the server's own headers still apply
    expect(await digest.text()).toContain('https://papers.example.org/papers/');
    expect((await fetch(`${base}/papers/1`)).status).toBe(200);
    expect((await fetch(`${base}/feed.xml`)).headers.get('content-type')).toMatch(/atom/);
    expect((await fetch(`${base}/api/papers?limit=abc`)).status).toBe(400);
    // The web server's own pages keep the web server's CSP.
    expect((await fetch(`${base}/`)).headers.get('content-security-policy')).toContain("style-src 'self'");

    expect((await fetch(`${base}/admin/preview?as=lin@example.org`)).status).toBe(401);
    // A browser without a session gets the shared admin sign-in form, not a bare 401.
    const browser = await fetch(`${base}/admin/preview?as=lin@example.org`, { headers: { accept: 'text/html' } });
    expect(browser.status).toBe(401);
    expect(await browser.text()).toMatch(/<form[^>]*action="\/admin\/login"/);
    const auth = { authorization: `Bearer ${app.config.ADMIN_TOKEN}` };
    const text = await (await fetch(`${base}/admin/preview?as=lin@example.org&part=text`, { headers: auth })).text();
    expect(text).toMatch(/Unsubscribe: https:\/\/papers\.example\.org\/unsubscribe\/\S+/);
    expect(text).toMatch(/Manage preferences: https:\/\/papers\.example\.org\/preferences\/\S+/);
    expect(text).toMatch(/matches: diffusion/i); // in the reason line since issue 16
    // The reader's own signed feedback links, one pair per paper, as their email carries them.
    const lin = app.store.db.prepare(`SELECT id FROM subscribers WHERE email = 'lin@example.org'`).get() as { id: number };
    const more = [...text.matchAll(/More like this: (https:\/\/papers\.example\.org\/feedback\/(\d+)-(\d+)-[0-9a-f]+\/more)/g)];
    expect(more.length).toBeGreaterThan(0);
    for (const m of more) {
      expect(Number(m[2])).toBe(lin.id);
      expect(m[1]).toBe(feedbackUrl(app.config, app.config.SECRET_KEY!, lin.id, Number(m[3]), 'more'));
      expect(text).toContain(`Less like this: ${m[1]!.replace(/more$/, 'less')}`);
    }
    // The signed unsubscribe link opens the real unsubscribe page (a GET never changes state).
    const unsub = /Unsubscribe: https:\/\/papers\.example\.org(\/unsubscribe\/\S+)/.exec(text)![1]!;
    expect((await fetch(base + unsub)).status).toBe(200);

    // A paper page names the seed file and line of each listing to an admin only (the shared admin check).
    const seeded = app.store.db.prepare("SELECT paper_id AS id, file FROM paper_sources WHERE file LIKE '%.txt' LIMIT 1").get() as { id: number; file: string };
    const publicPage = await (await fetch(`${base}/papers/${seeded.id}`)).text();
    expect(publicPage).toContain('Listed on');
    expect(publicPage).not.toContain(seeded.file);
    expect(await (await fetch(`${base}/papers/${seeded.id}`, { headers: auth })).text()).toContain(seeded.file);
    expect(await (await fetch(`${base}/papers/${seeded.id}`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).text()).not.toContain(
      seeded.file,
    );
  });
});
