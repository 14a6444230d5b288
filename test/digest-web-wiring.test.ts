// The digest's pages inside the real web server (its security headers, error pages, signed links).
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/log.js';
import { ingestPaths } from '../src/corpus/ingest.js';
import { startWeb } from '../src/web/start.js';
import { digestRoutes } from '../src/archive/wire.js';
import { startSmtpSink } from './helpers/smtp-sink.js';
import { createSmtpTestMessenger } from './helpers/smtp-messenger.js';
import { tempDir } from './helpers/tmp.js';
import { addSubscriber } from './helpers/corpus.js';

describe('digest routes in the web server', () => {
  const dir = tempDir('paperboy-digest-web-');
  it('serves the archive with its own CSP, and the admin preview with real signed links', async () => {
    const app = createApp(loadConfig({ DATA_DIR: dir, SEEDS_DIR: 'seeds', PUBLIC_URL: 'https://papers.example.org' }), { log: silentLogger });
    ingestPaths(app.store, [app.config.SEEDS_DIR], app.clock);
    addSubscriber(app.store, { email: 'lin@example.org', topics: ['diffusion'], digestSize: 3 });
    const sink = await startSmtpSink();
    const messenger = createSmtpTestMessenger(sink.port);
    const web = await startWeb(app, messenger, { port: 0, routes: digestRoutes() });
    afterAll(async () => {
      await web.stop();
      await messenger.close();
      await sink.close();
      await app.close();
    });
    const today = app.clock.now().toISOString().slice(0, 10);
    const digest = await fetch(`${web.address}/digest/${today}`);
    expect(digest.status).toBe(200);
    expect(digest.headers.get('content-security-policy')).toContain("style-src 'unsafe-inline'");
    expect(digest.headers.get('x-content-type-options')).toBe('nosniff'); // the server's own headers still apply
    expect(await digest.text()).toContain('https://papers.example.org/papers/');
    expect((await fetch(`${web.address}/papers/1`)).status).toBe(200);
    expect((await fetch(`${web.address}/feed.xml`)).headers.get('content-type')).toMatch(/atom/);
    expect((await fetch(`${web.address}/api/papers?limit=abc`)).status).toBe(400);
    // The web server's own pages keep the web server's CSP.
    const home = await fetch(`${web.address}/`);
    expect(home.headers.get('content-security-policy')).toContain("style-src 'self'");

    expect((await fetch(`${web.address}/admin/preview?as=lin@example.org`)).status).toBe(401);
    // A browser without a session gets the shared admin sign-in form, not a bare 401.
    const browser = await fetch(`${web.address}/admin/preview?as=lin@example.org`, { headers: { accept: 'text/html' } });
    expect(browser.status).toBe(401);
    expect(await browser.text()).toMatch(/<form[^>]*action="\/admin\/login"/);
    const auth = { authorization: `Bearer ${app.config.ADMIN_TOKEN}` };
    const text = await (await fetch(`${web.address}/admin/preview?as=lin@example.org&part=text`, { headers: auth })).text();
    expect(text).toMatch(/Unsubscribe: https:\/\/papers\.example\.org\/unsubscribe\/\S+/);
    expect(text).toMatch(/Manage preferences: https:\/\/papers\.example\.org\/preferences\/\S+/);
    expect(text).toContain('Matches: diffusion');
    // The signed unsubscribe link shows the real unsubscribe page (a GET never changes state).
    const unsub = /Unsubscribe: https:\/\/papers\.example\.org(\/unsubscribe\/\S+)/.exec(text)![1]!;
    expect((await fetch(web.address + unsub)).status).toBe(200);
  });
});
