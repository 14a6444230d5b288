// Issue 17 in system Chromium at 390 and 1280 px: an admin signs in, finds a subscriber by search, opens them,
// suppresses them, then erases them; every page fits the viewport, is styled by the app's stylesheet, and the
// browser reports no CSP violation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './helpers/chromium.js';
import { startTestService, type RunningService } from './helpers/running-service.js';
import { seedAdminSubscribers, type SeededSubscribers } from './helpers/subscriber-fixtures.js';
import { tempDir } from './helpers/tmp.js';

const TOKEN = 'admin-token-browser-subscribers-01';

// The browser's globals, for the callbacks that run in the page (the project's tsconfig has no DOM lib).
declare const document: { documentElement: { scrollWidth: number }; querySelector(selector: string): unknown };
declare const window: { innerWidth: number };
declare function getComputedStyle(el: unknown): { borderTopLeftRadius: string; backgroundColor: string; color: string };

let svc: RunningService;
let seeded: SeededSubscribers;
let browser: Browser;

beforeAll(async () => {
  svc = await startTestService(tempDir(), { ADMIN_TOKEN: TOKEN, SECRET_KEY: 'b'.repeat(40) });
  seeded = seedAdminSubscribers(svc.app.store);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await svc?.stop();
});

/** The page is no wider than the viewport, and the subscriber stylesheet is what styles it (not the browser's defaults). */
async function checkLayout(page: Page, where: string): Promise<void> {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
  expect(scrollWidth, `${where}: page wider than the viewport`).toBeLessThanOrEqual(innerWidth);
  const card = await page.evaluate(() => {
    const el = document.querySelector('.subs-card');
    if (!el) return null;
    const s = getComputedStyle(el);
    return { radius: s.borderTopLeftRadius, background: s.backgroundColor };
  });
  expect(card, `${where}: a .subs-card`).toEqual({ radius: '12px', background: 'rgb(255, 255, 255)' });
}

const CASES = [
  { width: 390, search: 'LOVELACE', email: () => seeded.ada.email },
  { width: 1280, search: 'alan.1@', email: () => 'alan.1@example.org' },
] as const;

describe.each(CASES)('an admin at $width px', ({ width, search, email }) => {
  it('signs in, finds a subscriber, suppresses and erases them', async () => {
    const context = await browser.newContext({ viewport: { width, height: 900 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    // A blocked stylesheet or script is logged as a console error naming the Content Security Policy.
    page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && problems.push(m.text()));
    try {
      await page.goto(`${svc.base}/admin/subscribers`);
      await page.fill('#token', TOKEN);
      await Promise.all([page.waitForURL('**/admin/subscribers'), page.click('button[type=submit]')]);
      await checkLayout(page, 'list');
      const activeBadge = await page
        .locator('.subs-status.active')
        .first()
        .evaluate((el) => getComputedStyle(el).color);
      expect(activeBadge).toBe('rgb(21, 128, 61)');

      await page.fill('#subs-q', search);
      await Promise.all([page.waitForURL(/q=/), page.click('.subs-search button[type=submit]')]);
      const rows = page.locator('.subs-list td.subs-email a');
      expect(await rows.allTextContents()).toEqual([email()]);
      await Promise.all([page.waitForURL(/\/admin\/subscribers\/\d+$/), rows.first().click()]);
      expect(await page.locator('h1').textContent()).toBe(email());
      await checkLayout(page, 'subscriber');

      await page.fill('#subs-note', 'asked to stop by phone');
      await Promise.all([page.waitForURL(/done=suppressed/), page.click('button:has-text("Suppress")')]);
      expect(await page.locator('.subs-alert.ok').textContent()).toContain('is suppressed');
      expect(await page.locator('.subs-who .subs-status').first().textContent()).toBe('suppressed');
      const row = svc.app.store.db.prepare('SELECT id, status, bounce_reason FROM subscribers WHERE email = ?').get(email()) as {
        id: number;
        status: string;
        bounce_reason: string;
      };
      expect(row).toMatchObject({ status: 'bounced', bounce_reason: 'suppressed by an admin: asked to stop by phone' });
      await checkLayout(page, 'suppressed');

      await Promise.all([page.waitForURL(/\/erase$/), page.click('a:has-text("Erase…")')]);
      await checkLayout(page, 'erase');
      await page.fill('#subs-confirm', email());
      await Promise.all([page.waitForURL(/done=erased/), page.click('button:has-text("Erase permanently")')]);
      expect(await page.locator('.subs-alert.ok').textContent()).toContain('erased');
      await checkLayout(page, 'after erase');
      expect(svc.app.store.db.prepare('SELECT COUNT(*) AS n FROM subscribers WHERE id = ?').get(row.id)).toEqual({ n: 0 });
      expect(svc.app.store.db.prepare('SELECT COUNT(*) AS n FROM deliveries WHERE subscriber_id = ?').get(row.id)).toEqual({ n: 0 });

      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 30_000);
});
