// The admin outbox pages over real HTTP: token or login cookie required, messages listed and shown escaped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { FakeClock } from '../../src/clock.js';
import { createOutboxMessenger } from '../../src/mail/outbox-messenger.js';
import { createOutbox } from '../../src/mail/outbox.js';
import { registerOutboxRoutes } from '../../src/admin/outbox-routes.js';
import { registerAdminLogin, adminCheck, requireAdmin, ADMIN_COOKIE } from '../../src/admin/auth.js';

const TOKEN = 'admin-token-0123456789abcdef';
const EVIL_SUBJECT = '<script>alert(1)</script> & "quoted" digest';
const EVIL_HTML = '<h1 id="x">Papers</h1><img src=x onerror="parent.document.title=\'pwned\'"><script>parent.document.title="pwned"</script>';

let dir: string;
let app: FastifyInstance;
let base: string;
let firstId: string;

interface ListJson {
  total: number;
  entries: { id: string; subject: string }[];
}
async function listJson(): Promise<ListJson> {
  return (await (await fetch(base + '/admin/outbox', { headers: { ...bearer(TOKEN), accept: 'application/json' } })).json()) as ListJson;
}

async function get(path: string, headers: Record<string, string> = {}) {
  return fetch(base + path, { headers: { accept: 'text/html', ...headers }, redirect: 'manual' });
}
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'paperboy-admin-'));
  const config = loadConfig({ DATA_DIR: dir, ADMIN_TOKEN: TOKEN });
  const clock = new FakeClock(new Date('2026-11-23T09:00:00Z'));
  const messenger = createOutboxMessenger(config, silentLogger, clock);
  await messenger.send({
    to: 'first@example.org',
    subject: 'Confirm your subscription',
    html: '<p>Click to confirm</p>',
    text: 'Click to confirm: http://x/confirm',
  });
  clock.advance(1000);
  await messenger.send({ to: 'second@example.org', subject: EVIL_SUBJECT, html: EVIL_HTML, text: 'Plain <b>text</b> part' });
  await messenger.close();
  const outbox = createOutbox(config.OUTBOX_DIR);
  firstId = (await outbox.list()).entries[1]!.id;
  app = Fastify();
  // What the web server does app-wide: a strict policy on every HTML page. The admin area must set its own over it.
  app.addHook('onSend', async (_req, reply) => {
    if (String(reply.getHeader('content-type') ?? '').startsWith('text/html')) reply.header('Content-Security-Policy', "default-src 'none'; style-src 'self'");
  });
  await registerAdminLogin(app, { config });
  await registerOutboxRoutes(app, { config, outbox, guard: requireAdmin({ config }) });
  const isAdmin = adminCheck({ config });
  app.get('/admin/elsewhere', async (req, reply) => (isAdmin(req) ? { ok: true } : reply.code(401).send({ ok: false })));
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('admin outbox routes', () => {
  it('401 with a Bearer challenge without a token, with a wrong one, or a malformed header', async () => {
    for (const headers of [{}, bearer('wrong-token-wrong-token'), bearer(TOKEN + 'x'), { authorization: `Basic ${TOKEN}` }]) {
      const res = await get('/admin/outbox', headers);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="paperboy admin"');
      const body = await res.text();
      expect(body).not.toContain('Confirm your subscription');
      expect(body).toContain('Admin sign in'); // a browser gets the login form
    }
    const api = await fetch(base + '/admin/outbox/' + firstId, { headers: { accept: 'application/json' } });
    expect(api.status).toBe(401);
    expect(await api.json()).toEqual({ error: expect.stringContaining('Bearer') });
  });

  it('lists messages newest first with the bearer token, escaped', async () => {
    const res = await get('/admin/outbox', bearer(TOKEN));
    expect(res.status).toBe(200);
    // the admin pages' policy: their stylesheet and script from this server, nothing inline
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const body = await res.text();
    expect(body).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quoted&quot; digest');
    expect(body).not.toContain('<script>alert(1)</script>');
    expect(body.indexOf('second@example.org')).toBeLessThan(body.indexOf('first@example.org'));
    expect(body).toContain(`href="/admin/outbox/${firstId}"`);
    const json = await listJson();
    expect(json.total).toBe(2);
    expect(json.entries[0]!.subject).toBe(EVIL_SUBJECT);
  });

  it('shows one message: headers, the HTML in a sandboxed frame of its own URL and policy, the text part', async () => {
    const list = await listJson();
    const id = list.entries[0]!.id;
    const res = await get(`/admin/outbox/${id}`, bearer(TOKEN));
    expect(res.status).toBe(200);
    const body = await res.text();
    const iframe = /<iframe[^>]*>/.exec(body)![0];
    expect(iframe).toContain('sandbox=""');
    expect(iframe).toContain(`src="/admin/outbox/${id}/html"`);
    // The framed HTML is the email as sent, under a policy that lets its inline styles apply and nothing run.
    const framed = await get(`/admin/outbox/${id}/html`, bearer(TOKEN));
    expect(framed.status).toBe(200);
    const frameCsp = framed.headers.get('content-security-policy')!;
    expect(frameCsp).toContain("style-src 'unsafe-inline'");
    expect(frameCsp).toContain('sandbox');
    expect(frameCsp).not.toContain('script-src');
    expect(frameCsp).toContain("frame-ancestors 'self'");
    expect(await framed.text()).toContain('<script>parent.document.title="pwned"</script>');
    // nothing of the email's markup is live in the admin page itself
    expect(body).not.toContain('<script>parent');
    expect(body).not.toContain('onerror="parent');
    expect(body).toContain('Plain &lt;b&gt;text&lt;/b&gt; part');
    expect(body).toContain('<td>From: paperboy &lt;digest@localhost&gt;</td>');
    expect(body).toContain('<td>Subject: &#x3D;?UTF-8?Q?&#x3D;3Cscript'); // header lines shown as sent, encoded words and all
    expect(body).toMatch(/<td>Delivered-To: second@example\.org<\/td>/);
  });

  it('serves the raw .eml as a download, and 404s for unknown or crafted ids', async () => {
    const raw = await get(`/admin/outbox/${firstId}/raw`, bearer(TOKEN));
    expect(raw.status).toBe(200);
    expect(raw.headers.get('content-disposition')).toBe(`attachment; filename="${firstId}.eml"`);
    expect(raw.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
    expect(await raw.text()).toContain('Subject: Confirm your subscription');
    for (const id of ['20261123T090000000Z-0000000000000000', '..%2F..%2Fetc%2Fpasswd', 'nope']) {
      expect((await get(`/admin/outbox/${id}`, bearer(TOKEN))).status).toBe(404);
    }
  });

  it('the login form sets an HttpOnly cookie that opens the pages; wrong or forged cookies do not', async () => {
    const bad = await fetch(base + '/admin/login', { method: 'POST', body: new URLSearchParams({ token: 'nope', next: '/admin/outbox' }), redirect: 'manual' });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('set-cookie')).toBeNull();
    expect(await bad.text()).toContain('That token is not right');

    const good = await fetch(base + '/admin/login', {
      method: 'POST',
      body: new URLSearchParams({ token: TOKEN, next: `/admin/outbox/${firstId}` }),
      redirect: 'manual',
    });
    expect(good.status).toBe(303);
    expect(good.headers.get('location')).toBe(`/admin/outbox/${firstId}`);
    const setCookie = good.headers.get('set-cookie')!;
    expect(setCookie).toMatch(new RegExp(`^${ADMIN_COOKIE}=`));
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).not.toContain(TOKEN);
    const cookie = setCookie.split(';')[0]!;
    const page = await get(`/admin/outbox/${firstId}`, { cookie });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Click to confirm');
    const loginCsp = (await get('/admin/login')).headers.get('content-security-policy')!;
    expect(loginCsp).toContain("style-src 'self'");
    expect(loginCsp).not.toContain('unsafe-inline');
    // another admin area can use the same check: one sign-in opens every admin page
    expect((await get('/admin/elsewhere', { cookie })).status).toBe(200);
    expect((await get('/admin/elsewhere', bearer(TOKEN))).status).toBe(200);
    expect((await get('/admin/elsewhere')).status).toBe(401);

    const [name, value] = cookie.split('=');
    const forged = `${name}=${value!.replace(/^\d+/, '99999999999999')}`;
    expect((await get('/admin/outbox', { cookie: forged })).status).toBe(401);
    expect((await get('/admin/outbox', { cookie: `${ADMIN_COOKIE}=${TOKEN}` })).status).toBe(401);
  });

  it('never redirects outside the admin area after login', async () => {
    for (const next of ['//evil.example/admin', 'https://evil.example/', '/\\evil.example', '/home']) {
      const res = await fetch(base + '/admin/login', { method: 'POST', body: new URLSearchParams({ token: TOKEN, next }), redirect: 'manual' });
      // Back to the admin's front page, never anywhere else.
      expect(res.headers.get('location'), next).toBe('/admin');
    }
  });

  it('is closed (503) when no ADMIN_TOKEN is configured', async () => {
    const closed = Fastify();
    const config = loadConfig({ DATA_DIR: dir });
    await registerOutboxRoutes(closed, { config, outbox: createOutbox(config.OUTBOX_DIR), guard: requireAdmin({ config }) });
    const url = await closed.listen({ port: 0, host: '127.0.0.1' });
    const res = await fetch(url + '/admin/outbox', { headers: bearer('') });
    expect(res.status).toBe(503);
    await closed.close();
  });
});
