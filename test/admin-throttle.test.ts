// Issue 17: sign-in throttled per client. Wrong Bearer tokens (any admin URL) and wrong form tokens share one count per
// client address; past ADMIN_LOGIN_MAX_FAILURES the client gets 429 with Retry-After: HTML for a browser, JSON for an API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers/tmp.js';
import { startTestService, type RunningService } from './helpers/running-service.js';

const TOKEN = 'admin-token-for-the-throttle-test';
const MAX = 5;

describe('the admin sign-in throttle, over HTTP', () => {
  const dir = tempDir();
  let running: RunningService;
  let base: string;

  beforeAll(async () => {
    // TRUST_PROXY lets each test be its own client (X-Forwarded-For), as distinct addresses behind a proxy are.
    running = await startTestService(dir, {
      ADMIN_TOKEN: TOKEN,
      ADMIN_LOGIN_MAX_FAILURES: String(MAX),
      ADMIN_LOGIN_LOCKOUT_MINUTES: '15',
      TRUST_PROXY: 'true',
    });
    base = running.base;
  });
  afterAll(() => running?.stop());

  const bearer = (ip: string, token: string, accept = 'application/json') =>
    fetch(`${base}/admin/send/no-such-run`, { headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': ip, accept } });
  const form = (ip: string, token: string, accept = 'text/html') =>
    fetch(`${base}/admin/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': ip, accept },
      body: new URLSearchParams({ token, next: '/admin' }),
    });

  it('answers 429 with Retry-After and JSON after MAX wrong Bearer tokens (60 in a row used to be all 401)', async () => {
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 60; i++) {
      last = await bearer('203.0.113.1', `wrong-token-${i}`);
      statuses.push(last.status);
      if (i < 59) await last.arrayBuffer();
    }
    expect(statuses.slice(0, MAX)).toEqual(Array(MAX).fill(401));
    expect(statuses.slice(MAX)).toEqual(Array(60 - MAX).fill(429));
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(14 * 60);
    expect(last!.headers.get('content-type')).toMatch(/^application\/json/);
    expect(((await last!.json()) as { error: string }).error).toBe('too_many_requests');
    // The right token is refused too while locked out: a guess learns nothing.
    const right = await bearer('203.0.113.1', TOKEN);
    expect(right.status).toBe(429);
    await right.arrayBuffer();
    // Another client is not held back by this one.
    const other = await bearer('203.0.113.2', TOKEN);
    expect(other.status).toBe(404);
    await other.arrayBuffer();
  });

  it('counts the form and Bearer tries together, and shows a browser the sign-in form with the wait', async () => {
    const ip = '203.0.113.3';
    for (let i = 0; i < 3; i++) await (await bearer(ip, `wrong-${i}`)).arrayBuffer();
    const statuses: number[] = [];
    let page: Response | undefined;
    for (let i = 0; i < 4; i++) {
      page = await form(ip, `wrong-form-${i}`);
      statuses.push(page.status);
      if (i < 3) await page.arrayBuffer();
    }
    expect(statuses).toEqual([401, 401, 429, 429]);
    expect(page!.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(page!.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page!.text();
    expect(html).toContain('Too many wrong tokens from this address. Try again in 15 minutes.');
    expect(html).toContain('action="/admin/login"');
    // A browser on a guarded page while locked out, with a Bearer header: the sign-in page, 429.
    const browserPage = await bearer(ip, TOKEN, 'text/html');
    expect(browserPage.status).toBe(429);
    expect(await browserPage.text()).toContain('Too many wrong tokens');
  });

  it('answers an API client on the sign-in form in JSON', async () => {
    const ip = '203.0.113.4';
    for (let i = 0; i < MAX; i++) await (await form(ip, `wrong-${i}`, 'application/json')).arrayBuffer();
    const res = await form(ip, 'wrong-again', 'application/json');
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await res.json()) as { message: string }).message).toMatch(/too many wrong admin tokens/);
  });

  it('keeps a signed-in session working when its address is locked out by wrong Bearer tokens', async () => {
    const ip = '203.0.113.5';
    const login = await form(ip, TOKEN);
    expect(login.status).toBe(303);
    const cookie = /^(paperboy_admin=[^;]+)/.exec(login.headers.get('set-cookie') ?? '')![1]!;
    for (let i = 0; i < MAX + 2; i++) await (await bearer(ip, `wrong-${i}`)).arrayBuffer();
    expect((await bearer(ip, TOKEN)).status).toBe(429);
    const dash = await fetch(`${base}/admin`, { headers: { cookie, 'x-forwarded-for': ip, accept: 'text/html' } });
    expect(dash.status).toBe(200);
    await dash.arrayBuffer();
  });
});
