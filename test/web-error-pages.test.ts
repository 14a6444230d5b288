// What any error looks like from the running service (issue 13 defect 4, issue 17): browsers get the site's error page
// under the site's CSP (so its stylesheet loads, whichever area's routes failed), JSON clients get {error, message},
// for 400, 404, 413, 415, 429, 500 and a busy database, in every area's routes, and each is logged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { createApp, type App } from '../src/app.js';
import { startService, type Service } from '../src/service-runner.js';
import { freePort } from './helpers/free-port.js';
import { tempDir } from './helpers/tmp.js';
import { startTestService, type RunningService } from './helpers/running-service.js';

const TOKEN = 'admin-token-for-error-pages';
const BROWSER = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
const JSON_CLIENT = { accept: 'application/json' };
const FORM = 'application/x-www-form-urlencoded';

/**
 * The site's own error page: the layout around the error card, with the status shown, under the site's CSP, which
 * lets its stylesheet load (an area's own policy, `style-src 'unsafe-inline'`, blocks it and the page is unstyled).
 */
async function expectErrorPage(res: Response, status: number, heading: RegExp) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^text\/html/);
  const csp = String(res.headers.get('content-security-policy'));
  expect(csp).toContain("style-src 'self'");
  expect(csp).not.toContain('unsafe-inline');
  const html = await res.text();
  expect(html).toMatch(/<link rel="stylesheet" href="\/static\/style\.css/);
  expect(html).toContain('<header class="site-header">');
  expect(html).toContain('<section class="card notice error">');
  expect(html).toMatch(heading);
  expect(html).toContain(`Error ${status}`);
  expect(html).not.toMatch(/"statusCode"|FST_ERR|SQLITE_/);
}

async function expectJsonError(res: Response, status: number, error: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await res.json()) as Record<string, unknown>;
  expect(body).toEqual({ error, message: expect.any(String) });
  expect(String(body.message)).not.toMatch(/FST_ERR|SQLITE_/);
}

describe('error answers of the running service', () => {
  const dir = tempDir();
  const lines: { level: number; msg: string; status?: number; url?: string }[] = [];
  let app: App;
  let service: Service;
  let base: string;
  let client = 0;
  // Each test its own client address (TRUST_PROXY is on), so the subscribe rate limit of one does not spill into the next.
  const as = (headers: Record<string, string>) => ({ ...headers, 'x-forwarded-for': `10.0.0.${++client}` });

  beforeAll(async () => {
    const port = await freePort();
    const log = pino(
      { level: 'debug' },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
          done();
        },
      }),
    );
    const config = loadConfig({
      DATA_DIR: dir,
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      ADMIN_TOKEN: TOKEN,
      TRUST_PROXY: 'true',
      SUBSCRIBE_RATE_LIMIT_PER_MIN: '3',
      INBOUND_SMTP_ENABLED: 'false',
      SCHEDULER_ENABLED: 'false',
      FETCH_ENABLED: 'false',
    });
    app = createApp(config, { log });
    service = await startService(app);
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await service?.stop();
    await app?.close();
  });

  const logged = (status: number, level: number) => lines.some((l) => l.status === status && l.level === level);

  it('404: the page for a browser, JSON for a JSON client and the API', async () => {
    await expectErrorPage(await fetch(`${base}/no/such/page`, { headers: BROWSER }), 404, /Page not found/);
    await expectJsonError(await fetch(`${base}/no/such/page`, { headers: JSON_CLIENT }), 404, 'not_found');
    await expectJsonError(await fetch(`${base}/api/no-such-thing`), 404, 'not_found');
  });

  it("the archive's 404 and 400 (no such paper, not a date, not out yet): the site's page for a browser, JSON for a JSON client", async () => {
    await expectErrorPage(await fetch(`${base}/papers/999999`, { headers: BROWSER }), 404, /No such paper/);
    await expectJsonError(await fetch(`${base}/papers/999999`, { headers: JSON_CLIENT }), 404, 'not_found');
    await expectErrorPage(await fetch(`${base}/digest/yesterday`, { headers: BROWSER }), 400, /Dates look like 2026-03-10/);
    await expectJsonError(await fetch(`${base}/digest/yesterday`, { headers: JSON_CLIENT }), 400, 'bad_request');
    await expectErrorPage(await fetch(`${base}/digest/2999-01-01`, { headers: BROWSER }), 404, /is not out yet/);
  });

  it("400 for a URL that does not decode: the page for a browser, JSON for the API (not Fastify's own answer)", async () => {
    await expectErrorPage(await fetch(`${base}/papers/%c0`, { headers: BROWSER }), 400, /could not read that request/);
    await expectJsonError(await fetch(`${base}/api/%c0`, { headers: JSON_CLIENT }), 400, 'bad_request');
  });

  it('413: the page for a browser (the form, and the admin sign-in in its own context), JSON for the API', async () => {
    const big = 'email=' + 'a'.repeat(70 * 1024);
    await expectErrorPage(
      await fetch(`${base}/subscribe`, { method: 'POST', headers: as({ ...BROWSER, 'content-type': FORM }), body: big }),
      413,
      /too large/i,
    );
    await expectErrorPage(
      await fetch(`${base}/admin/login`, { method: 'POST', headers: as({ ...BROWSER, 'content-type': FORM }), body: 'token=' + 'a'.repeat(70 * 1024) }),
      413,
      /too large/i,
    );
    await expectJsonError(
      await fetch(`${base}/admin/send`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ mode: 'due', pad: 'x'.repeat(70 * 1024) }),
      }),
      413,
      'too_large',
    );
    expect(logged(413, 40)).toBe(true);
  });

  it('415: the page for a browser, JSON for the API', async () => {
    await expectErrorPage(
      await fetch(`${base}/subscribe`, {
        method: 'POST',
        headers: as({ ...BROWSER, 'content-type': 'application/xml' }),
        body: '<email>a@example.org</email>',
      }),
      415,
      /could not read that kind of request/,
    );
    await expectErrorPage(
      await fetch(`${base}/admin/login`, { method: 'POST', headers: as({ ...BROWSER, 'content-type': 'text/csv' }), body: 'token' }),
      415,
      /could not read that kind of request/,
    );
    await expectJsonError(
      await fetch(`${base}/admin/send`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/xml' },
        body: '<mode>due</mode>',
      }),
      415,
      'unsupported_media_type',
    );
    expect(logged(415, 40)).toBe(true);
  });

  it('429: the page with Retry-After for a browser, JSON with Retry-After for a JSON client', async () => {
    const browser = as(BROWSER);
    const post = (headers: Record<string, string>) =>
      fetch(`${base}/subscribe`, {
        method: 'POST',
        redirect: 'manual',
        headers: { ...headers, 'content-type': FORM },
        body: 'email=too-many%40example.org&frequency=daily&kind=trending',
      });
    for (let i = 0; i < 3; i++) expect((await post(browser)).status).toBe(303);
    const limited = await post(browser);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    await expectErrorPage(limited, 429, /Too many tries/);

    const json = as(JSON_CLIENT);
    for (let i = 0; i < 3; i++) await (await post(json)).arrayBuffer();
    const limitedJson = await post(json);
    expect(Number(limitedJson.headers.get('retry-after'))).toBeGreaterThan(0);
    await expectJsonError(limitedJson, 429, 'too_many_requests');
    expect(logged(429, 40)).toBe(true);
  });

  it('a database held by another writer: 503 busy page with Retry-After, logged as an error; the same POST works once it is free', async () => {
    const other = new Database(app.config.DATABASE_PATH);
    const browser = as(BROWSER);
    const post = () =>
      fetch(`${base}/subscribe`, {
        method: 'POST',
        redirect: 'manual',
        headers: { ...browser, 'content-type': FORM },
        body: 'email=busy-reader%40example.org&frequency=daily&kind=trending',
      });
    try {
      other.exec('BEGIN IMMEDIATE');
      const res = await post();
      expect(res.headers.get('retry-after')).toBe('5');
      await expectErrorPage(res, 503, /busy, try again/);
      expect(lines.some((l) => l.level === 50 && l.status === 503 && l.url === '/subscribe')).toBe(true);
      expect(app.store.db.prepare("SELECT COUNT(*) FROM subscribers WHERE email = 'busy-reader@example.org'").pluck().get()).toBe(0);

      // The JSON API says the same in JSON.
      const api = await fetch(`${base}/admin/send`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ mode: 'due', dryRun: true }),
      });
      expect(api.headers.get('retry-after')).toBe('5');
      await expectJsonError(api, 503, 'busy');
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
    }
    const again = await post();
    expect(again.status).toBe(303);
    expect(again.headers.get('location')).toBe('/check-inbox');
    expect(app.store.db.prepare("SELECT status FROM subscribers WHERE email = 'busy-reader@example.org'").pluck().get()).toBe('pending');
  });
});

// A route that throws: the store is broken under the running service (a table gone), as a bad upgrade or a damaged
// file would leave it. Its own service, since nothing works afterwards.
describe('500 from the running service', () => {
  const dir = tempDir();
  let s: RunningService;
  beforeAll(async () => {
    s = await startTestService(dir, { ADMIN_TOKEN: TOKEN });
    s.app.store.db.exec('DROP TABLE subscribers; DROP TABLE upvote_snapshots');
  });
  afterAll(async () => {
    await s?.stop();
  });

  const subscribe = (headers: Record<string, string>) =>
    fetch(`${s.base}/subscribe`, {
      method: 'POST',
      redirect: 'manual',
      headers: { ...headers, 'content-type': FORM },
      body: 'email=thrown%40example.org&frequency=daily&kind=trending',
    });

  it("the site's page for a browser, JSON for a JSON client, on the site's routes", async () => {
    await expectErrorPage(await subscribe(BROWSER), 500, /Something went wrong on our side/);
    await expectJsonError(await subscribe(JSON_CLIENT), 500, 'server_error');
  });

  it("the site's page under the site's CSP on the archive's routes too (they have their own policy)", async () => {
    await expectErrorPage(await fetch(`${s.base}/digest/2026-12-01`, { headers: BROWSER }), 500, /Something went wrong on our side/);
    await expectJsonError(await fetch(`${s.base}/digest/2026-12-01`, { headers: JSON_CLIENT }), 500, 'server_error');
  });
});
