// A person signs in to the admin outbox in real Chromium and reads a message; the email's script never runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { createOutboxMessenger } from '../../src/mail/outbox-messenger.js';
import { createOutbox } from '../../src/mail/outbox.js';
import { registerOutboxRoutes } from '../../src/admin/outbox-routes.js';
import { registerAdminLogin, requireAdmin } from '../../src/admin/auth.js';
import { launchChromium } from '../helpers/chromium.js';

const SHOTS = join('test-output', 'mail');
const TOKEN = 'browser-admin-token-0123456789';

let dir: string;
let app: FastifyInstance;
let base: string;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  dir = mkdtempSync(join(tmpdir(), 'paperboy-admin-ui-'));
  const config = loadConfig({ DATA_DIR: dir, ADMIN_TOKEN: TOKEN, MAIL_FROM: 'paperboy <digest@paperboy.test>' });
  const messenger = createOutboxMessenger(config, silentLogger);
  await messenger.send({
    to: 'ada@example.org',
    subject: 'Confirm your paperboy subscription',
    html: '<div style="font-family:sans-serif;max-width:560px;margin:auto"><h1 style="color:#ff7a1a">One click to go</h1><p>Confirm to get trending papers every morning.</p><p><a href="http://localhost:3000/confirm/abc" style="background:#ff7a1a;color:#fff;padding:10px 16px;border-radius:6px">Confirm</a></p></div>',
    text: 'Confirm to get trending papers every morning: http://localhost:3000/confirm/abc',
  });
  await messenger.send({
    to: 'eve@example.org',
    subject: 'Today: <b>Attention</b> is all you need',
    html:
      '<h1 id="inside">Papers for you</h1>' +
      '<script>parent.document.title="pwned";var p=document.createElement("p");p.id="script-ran";document.body.appendChild(p)</script>' +
      '<img src="data:," onerror="var p=document.createElement(\'p\');p.id=\'handler-ran\';document.body.appendChild(p)">',
    text: 'Papers for you',
  });
  await messenger.close();
  app = Fastify();
  // As in the web server: a strict app-wide policy that the admin area replaces with its own.
  app.addHook('onSend', async (_req, reply) => {
    if (String(reply.getHeader('content-type') ?? '').startsWith('text/html')) reply.header('Content-Security-Policy', "default-src 'none'; style-src 'self'");
  });
  await registerAdminLogin(app, { config });
  await registerOutboxRoutes(app, { config, outbox: createOutbox(config.OUTBOX_DIR), guard: requireAdmin({ config }) });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('admin outbox in Chromium', () => {
  it('sign in, list, open a message; the email is shown but its script and handlers do not run', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const scriptErrors: string[] = [];
    page.on('pageerror', (e) => scriptErrors.push(e.message));
    await page.goto(base + '/admin/outbox');
    await expect.poll(() => page.locator('h1').first().textContent()).toBe('Admin sign in');
    await page.screenshot({ path: join(SHOTS, 'admin-login.png'), fullPage: true });
    await page.fill('#token', 'not the token');
    await page.click('button[type=submit]');
    await expect.poll(() => page.locator('[role=alert]').textContent()).toContain('not right');
    await page.fill('#token', TOKEN);
    await page.click('button[type=submit]');
    await page.waitForURL(base + '/admin/outbox');
    // the page is styled by the app's stylesheets, nothing inline (test/admin-browser.test.ts checks them applied in
    // the whole app; this bare server has only the admin routes)
    // (DOM expressions as strings: the project type-checks without the DOM lib)
    expect(await page.evaluate<string[]>("[...document.querySelectorAll('link[rel=stylesheet]')].map((l) => new URL(l.href).pathname)")).toEqual([
      '/static/style.css',
      '/static/admin.css',
    ]);
    expect(await page.evaluate<number>("document.querySelectorAll('style, [style]').length")).toBe(0);
    const rows = page.locator('table.list tbody tr');
    expect(await rows.count()).toBe(2);
    expect(await rows.nth(0).locator('td.subject a').textContent()).toBe('Today: <b>Attention</b> is all you need');
    await page.screenshot({ path: join(SHOTS, 'admin-outbox-list.png'), fullPage: true });

    await rows.nth(0).locator('td.subject a').click();
    await page.waitForURL(/\/admin\/outbox\/\d{8}T\d{9}Z-[0-9a-f]{16}$/);
    const frame = page.frameLocator('iframe.email');
    await expect.poll(() => frame.locator('#inside').textContent()).toBe('Papers for you');
    expect(await frame.locator('#script-ran').count()).toBe(0);
    expect(await frame.locator('#handler-ran').count()).toBe(0);
    expect(await page.title()).not.toBe('pwned');
    expect(await page.locator('pre').first().textContent()).toContain('Papers for you');
    await page.screenshot({ path: join(SHOTS, 'admin-outbox-message.png'), fullPage: true });

    await page.goto(base + '/admin/outbox');
    await page.locator('table.list tbody tr').nth(1).locator('td.subject a').click();
    const confirmation = page.frameLocator('iframe.email');
    await expect.poll(() => confirmation.locator('h1').textContent()).toBe('One click to go');
    // the email's inline styles apply inside the preview, as they would in an inbox
    const preview = page.frames().find((f) => /\/admin\/outbox\/[^/]+\/html$/.test(f.url()));
    expect(preview, "the email's frame").toBeDefined();
    expect(await preview!.evaluate<string>("getComputedStyle(document.querySelector('h1')).color")).toBe('rgb(255, 122, 26)');
    await page.screenshot({ path: join(SHOTS, 'admin-outbox-confirmation.png'), fullPage: true });

    await page.click('text=Sign out');
    await page.waitForURL(base + '/admin/login');
    await page.goto(base + '/admin/outbox');
    await expect.poll(() => page.locator('h1').first().textContent()).toBe('Admin sign in');
    expect(scriptErrors).toEqual([]);
    await page.close();
  });

  it('reads well on a phone', async () => {
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true });
    await ctx.setExtraHTTPHeaders({ authorization: `Bearer ${TOKEN}` });
    const page = await ctx.newPage();
    await page.goto(base + '/admin/outbox');
    // nothing wider than the screen
    const overflow = 'document.documentElement.scrollWidth - window.innerWidth';
    expect(await page.evaluate<number>(overflow)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(SHOTS, 'admin-outbox-list-phone.png'), fullPage: true });
    await page.locator('td.subject a').first().click();
    await page.waitForURL(/\/admin\/outbox\/.+/);
    expect(await page.evaluate<number>(overflow)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(SHOTS, 'admin-outbox-message-phone.png'), fullPage: true });
    await ctx.close();
  });
});
