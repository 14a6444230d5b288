// Issue 17: the admin console in Chromium, against the running service and a real SMTP server. Every admin page at
// 390 and 1280 px: no sideways overflow, both stylesheets applied (computed styles), no CSP violation or script error;
// the email's own inline styles apply inside its frame; and a whole send clicked through from sign-in to done.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { tempDir } from './helpers/tmp.js';
import { startTestService, type RunningService } from './helpers/running-service.js';
import { startSmtpReceiver, replies, type SmtpReceiver } from './helpers/smtp-receiver.js';
import { insertSubscribers } from './helpers/delivery-fixtures.js';
import { launchChromium } from './helpers/chromium.js';

const TOKEN = 'admin-token-for-the-browser-test';
// The site's accent (templates/web/style.css, the brand mark) and the admin's content width (templates/admin/admin.css).
const BRAND_MARK_BG = 'rgb(194, 65, 12)';
const ADMIN_MAX_WIDTH = '1120px';

let smtp: SmtpReceiver;
let running: RunningService;
let browser: Browser;
let base: string;

const DAILY = ['ada@example.org', 'grace@example.org', 'gone@example.org'];
const WEEKLY = ['weekly.reader@example.org'];

beforeAll(async () => {
  smtp = await startSmtpReceiver();
  smtp.rcpt = (address) => (address.startsWith('gone@') ? replies.userUnknown(address) : null);
  running = await startTestService(tempDir(), { ADMIN_TOKEN: TOKEN, MAIL_TRANSPORT: 'smtp', SMTP_URL: smtp.url, SEND_RETRY_BASE_SECONDS: '3600' });
  base = running.base;
  const all = [...DAILY, ...WEEKLY];
  insertSubscribers(running.app.store, all.length, (i) => ({ email: all[i - 1]!, frequency: i > DAILY.length ? 'weekly' : 'daily', kind: 'trending' }));
  browser = await launchChromium();
}, 30_000);
afterAll(async () => {
  await browser?.close();
  await running?.stop();
  await smtp?.close();
});

interface Watched {
  page: Page;
  /** Script errors, console errors and CSP violations seen so far (in the page and its frames). */
  problems: string[];
}

async function watched(context: BrowserContext): Promise<Watched> {
  // Init scripts come in through the DevTools protocol, so the page's CSP does not stop this listener.
  await context.addInitScript(
    "document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI))",
  );
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  // An error status (the 404 page, the sign-in's 401) logs "Failed to load resource"; that is the page, not a fault.
  page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && problems.push(m.text()));
  return { page, problems };
}

async function signIn(page: Page): Promise<void> {
  await page.goto(`${base}/admin/login`);
  await page.fill('input[name=token]', TOKEN);
  await page.click('button[type=submit]');
  await page.waitForURL(`${base}/admin`);
}

/** The page as laid out: no wider than the viewport, both stylesheets applied, and which nav item is current. */
async function layout(page: Page) {
  return page.evaluate(`({
    overflow: document.documentElement.scrollWidth - window.innerWidth,
    brandMark: getComputedStyle(document.querySelector('.brand-mark')).backgroundColor,
    mainMaxWidth: getComputedStyle(document.querySelector('main')).maxWidth,
    current: document.querySelector('.admin-nav [aria-current="page"]')?.textContent ?? null,
  })`) as Promise<{ overflow: number; brandMark: string; mainMaxWidth: string; current: string | null }>;
}

describe('the admin console in Chromium', () => {
  it('sends from the browser: sign in, Send, dry run, confirm, live progress until done; a second confirm sends nothing', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const { page, problems } = await watched(context);
    await signIn(page);
    await page.click('.admin-nav >> text=Send');
    await page.waitForURL(`${base}/admin/send`);
    await page.click('label:has-text("Daily only")');
    await page.click('button:has-text("Dry run")');
    await page.waitForURL(`${base}/admin/send/dry-run`);
    expect(await page.locator('h1').textContent()).toBe('Dry run');
    expect(await page.getByTestId('would-send').textContent()).toBe(String(DAILY.length));
    const listed = await page.locator('table.decisions tbody td[data-label="Subscriber"]').allTextContents();
    expect(listed.sort()).toEqual([...DAILY].sort());
    expect(smtp.received).toHaveLength(0);

    // The Confirm form as the browser would post it (the key is a hidden field), for a second submit below.
    const confirmForm = (await page.evaluate(`Object.fromEntries(new FormData(document.querySelector('form[action="/admin/send/confirm"]')))`)) as Record<
      string,
      string
    >;
    expect(confirmForm.key).toMatch(/^admin-send-/);
    await page.click('button:has-text("Confirm and send")');
    await page.waitForURL(/\/admin\/runs\/[\w-]+$/);
    const runUrl = page.url();
    // admin.js follows the run and reloads the page once it is done.
    await page.locator('.run-live[data-status="done"]').waitFor({ timeout: 20_000 });
    expect(await page.locator('[data-field="sent"]').textContent()).toBe('2');
    expect(await page.locator('[data-field="failed"]').textContent()).toBe('1');
    const failure = page.locator('tr', { hasText: 'gone@example.org' });
    expect(await failure.textContent()).toMatch(/550 5\.1\.1/);
    const arrived = await smtp.waitFor(2);
    expect(arrived.flatMap((m) => m.to).sort()).toEqual(['ada@example.org', 'grace@example.org']);

    // The same Confirm posted again (a double click, a resent form): the key names the same run, and nothing more is sent.
    const again = await page.request.post(`${base}/admin/send/confirm`, { form: confirmForm, maxRedirects: 0 });
    expect(again.status()).toBe(303);
    expect(base + again.headers().location).toBe(runUrl);
    await new Promise((r) => setTimeout(r, 300));
    expect(smtp.received).toHaveLength(2);
    expect(problems).toEqual([]);

    // Put one delivered message in the outbox directory, for the outbox pages below.
    mkdirSync(running.app.config.OUTBOX_DIR, { recursive: true });
    writeFileSync(join(running.app.config.OUTBOX_DIR, '20261203T120000000Z-0123456789abcdef.eml'), arrived[0]!.raw);
    await context.close();
  }, 40_000);

  it.each([390, 1280])(
    'styles every admin page at %i px under the CSP, with no overflow',
    async (width) => {
      const context = await browser.newContext({ viewport: { width, height: 900 } });
      const { page, problems } = await watched(context);
      const seen: Record<string, unknown>[] = [];
      const check = async (name: string, current: string | null) => {
        const l = await layout(page);
        seen.push({ name, ...l });
        expect([name, l.overflow <= 0, l.brandMark, l.mainMaxWidth, l.current]).toEqual([name, true, BRAND_MARK_BG, ADMIN_MAX_WIDTH, current]);
      };

      expect((await page.goto(`${base}/admin`))?.status()).toBe(401);
      await check('sign-in', null);
      await signIn(page);
      await check('dashboard', 'Dashboard');
      // gone@ bounced in the send above: a hard bounce suppresses at once.
      expect(await page.locator('.stat', { hasText: 'active' }).locator('.value').textContent()).toBe(String(DAILY.length + WEEKLY.length - 1));
      expect(await page.locator('.stat', { hasText: 'bounced' }).locator('.value').textContent()).toBe('1');
      expect(await page.locator('svg[aria-label="subscribers by status per day"] rect').count()).toBeGreaterThan(0);
      expect(await page.locator('svg[aria-label="messages sent per day"] rect').count()).toBe(1);
      expect(await page.locator('svg[aria-label="bounces and complaints per day"] rect').count()).toBe(1);

      await page.goto(`${base}/admin/send`);
      await check('send', 'Send');
      await page.click('button:has-text("Dry run")');
      await check('dry run', 'Send');

      await page.goto(`${base}/admin/runs`);
      await check('runs', 'Runs');
      await page.click('tbody tr:not(:has-text("dry run")) a >> nth=0');
      await page.waitForURL(/\/admin\/runs\/[\w-]+$/);
      await check('run', 'Runs');
      expect(await page.locator('.run-live').getAttribute('data-status')).toBe('done');
      expect((await page.goto(`${base}/admin/runs/no-such-run`))?.status()).toBe(404);
      await check('no such run', 'Runs');

      await page.goto(`${base}/admin/preview?as=ada@example.org`);
      await check('preview', 'Preview');
      await page.goto(`${base}/admin/outbox`);
      await check('outbox', 'Outbox');
      await page.click('td.subject a');
      await page.waitForURL(/\/admin\/outbox\/\d{8}T/);
      await check('outbox message', 'Outbox');
      await page.click('text=Back to the outbox');
      await page.waitForURL(`${base}/admin/outbox`);
      await page.goBack();
      // The email's own inline styles apply inside its frame (its own URL and policy), which the admin's policy would block.
      const frame = page.frameLocator('iframe.email');
      const inlineStyled = frame.locator('[style*="background"]').first();
      await inlineStyled.waitFor({ timeout: 10_000 });
      const bg = await inlineStyled.evaluate(
        (el) => (el.ownerDocument.defaultView as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(el).backgroundColor,
      );
      expect(bg).not.toBe('rgba(0, 0, 0, 0)');

      // Sign out: back to the sign-in page, and the dashboard asks for the token again.
      await page.click('button:has-text("Sign out")');
      await page.waitForURL(`${base}/admin/login`);
      expect((await page.goto(`${base}/admin`))?.status()).toBe(401);
      expect(await page.locator('input[name=token]').count()).toBe(1);
      expect(problems).toEqual([]);
      await context.close();
    },
    30_000,
  );
});
