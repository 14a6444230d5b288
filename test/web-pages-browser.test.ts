// Every public page in Chromium at 390 and 1280 px (issue 17): no horizontal overflow, the site's stylesheet applied
// (a computed style, not only a status), no CSP violation and no script error. One browser for the file.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './helpers/chromium.js';
import { startTestService, type RunningService } from './helpers/running-service.js';
import { tempDir } from './helpers/tmp.js';
import { subscriberPaths } from '../src/subscriptions/subscriber-links.js';
import { signFeedbackToken } from '../src/subscriptions/tokens.js';

const dir = tempDir('paperboy-pages-');
let s: RunningService;
let browser: Browser;

beforeAll(async () => {
  // The service ingests the seeds at start: the home page, digests and paper pages have real papers.
  s = await startTestService(dir);
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await s?.stop();
});

/** The confirm link of the newest confirmation in the outbox (quoted-printable soft breaks removed). */
async function confirmLink(email: string): Promise<string> {
  const outbox = join(dir, 'outbox');
  for (let i = 0; i < 200; i++) {
    // The outbox folder appears with the first message the worker writes.
    for (const f of (existsSync(outbox) ? readdirSync(outbox, { withFileTypes: true }) : []).filter((e) => e.isFile() && e.name.endsWith('.eml'))) {
      const text = readFileSync(join(outbox, f.name), 'utf8').replace(/=\r?\n/g, '');
      if (!text.includes(email)) continue;
      const m = /\/confirm\/([A-Za-z0-9_-]{43})/.exec(text);
      if (m) return `${s.base}/confirm/${m[1]}`;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no confirmation for ${email} in ${outbox}`);
}

interface Check {
  problems: string[];
}

/** A page with listeners for CSP violations (the DOM event and the console message) and script errors. */
async function openPage(width: number): Promise<{ page: Page; check: Check }> {
  const context = await browser.newContext({ viewport: { width, height: 900 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const check: Check = { problems: [] };
  await page.exposeFunction('__cspViolation', (what: string) => check.problems.push(`CSP: ${what}`));
  await page.addInitScript(`document.addEventListener('securitypolicyviolation', (e) => window.__cspViolation(e.violatedDirective + ' ' + e.blockedURI));`);
  page.on('pageerror', (e) => check.problems.push(`script: ${e.message}`));
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) check.problems.push(`console: ${m.text()}`);
  });
  return { page, check };
}

/** The checks every page must pass, at the width it is open at. */
async function assertPage(page: Page, check: Check, label: string): Promise<void> {
  // Strings, not functions: the tests are type-checked without the DOM's types.
  const { scrollWidth, innerWidth, background, headerBorder, font, sheet } = (await page.evaluate(`({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    background: getComputedStyle(document.body).backgroundColor,
    headerBorder: getComputedStyle(document.querySelector('.site-header')).borderBottomStyle,
    font: getComputedStyle(document.body).fontFamily,
    sheet: [...document.styleSheets].some((x) => (x.href || '').includes('/static/style.css') && x.cssRules.length > 20),
  })`)) as { scrollWidth: number; innerWidth: number; background: string; headerBorder: string; font: string; sheet: boolean };
  expect(scrollWidth, `${label}: page wider than the viewport`).toBeLessThanOrEqual(innerWidth);
  expect(sheet, `${label}: stylesheet loaded`).toBe(true);
  expect(background, `${label}: site background`).toBe('rgb(246, 245, 242)');
  expect(headerBorder, `${label}: site header`).toBe('solid');
  expect(font, label).toMatch(/system-ui|-apple-system|Segoe UI|Roboto/);
  // No element sticks out of the page either (a card overflowing its column shows even when the body clips it).
  const wide = await page.evaluate(`[...document.querySelectorAll('main *')]
    .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5 && !el.closest('.table-wrap'))
    .slice(0, 3)
    .map((el) => el.tagName.toLowerCase() + '.' + el.className)`);
  expect(wide, `${label}: elements past the right edge`).toEqual([]);
  expect(check.problems, label).toEqual([]);
}

describe.each([390, 1280])('every public page at %i px', (width) => {
  it('home, the subscribe flow, preferences, unsubscribe (and again), archive, paper, editions, 404', async () => {
    const { page, check } = await openPage(width);
    const email = `reader-${width}@example.org`;
    const visit = async (path: string, label: string, status = 200) => {
      const res = await page.goto(s.base + path);
      expect(res?.status(), label).toBe(status);
      await assertPage(page, check, `${label} @${width}`);
    };

    await visit('/', 'home');
    expect(await page.locator('.paper').count()).toBeGreaterThan(0);
    await page.fill('#email', email);
    await page.check('input[name=frequency][value=weekly]');
    await page.click('button[type=submit]');
    await page.waitForURL('**/check-inbox');
    await assertPage(page, check, `check-inbox @${width}`);

    await visit(new URL(await confirmLink(email)).pathname, 'confirm');
    await page.click('button[type=submit]');
    await page.locator('h1', { hasText: "You're subscribed" }).waitFor();
    await assertPage(page, check, `confirmed @${width}`);

    const sub = s.app.store.db.prepare('SELECT id FROM subscribers WHERE email = ?').get(email) as { id: number };
    const { managePath, unsubscribePath } = subscriberPaths(s.app.config.SECRET_KEY, sub.id);
    await visit(managePath, 'preferences');
    // Issue 16's pages: a feedback link as the email has it (one button), its answer (with undo), the paper page
    // opened with the reader's token (the two buttons).
    const liked = s.app.store.db.prepare('SELECT id FROM papers ORDER BY LENGTH(title) DESC LIMIT 1').get() as { id: number };
    const fb = signFeedbackToken(sub.id, liked.id, s.app.config.SECRET_KEY);
    await visit(`/feedback/${fb}/more`, 'feedback');
    expect(await page.locator('main form button[type=submit]').count()).toBe(1);
    await Promise.all([page.waitForNavigation(), page.click('main form button[type=submit]')]);
    await assertPage(page, check, `feedback recorded @${width}`);
    expect(s.app.store.db.prepare('SELECT signal FROM feedback WHERE subscriber_id = ? AND paper_id = ?').get(sub.id, liked.id)).toEqual({ signal: 1 });
    await visit(`/papers/${liked.id}?fb=${fb}`, 'paper with feedback');
    expect(await page.locator('#feedback button').count()).toBe(2);
    await visit(unsubscribePath, 'unsubscribe');
    await page.click('button:has-text("Unsubscribe")');
    await page.locator('h1', { hasText: "You're unsubscribed" }).waitFor();
    await assertPage(page, check, `unsubscribed @${width}`);
    await visit(unsubscribePath, 'already unsubscribed');
    expect(await page.locator('h1').textContent()).toBe("You're already unsubscribed");

    await visit('/digest', 'editions');
    const edition = await page.locator('.edition-list a').nth(1).getAttribute('href');
    await visit(edition!, 'digest');
    expect(await page.locator('a[rel=prev], a[rel=next]').count()).toBeGreaterThan(0);
    // The paper with the longest title and most listings: the page most likely to overflow.
    const paper = s.app.store.db
      .prepare('SELECT p.id FROM papers p JOIN paper_sources s ON s.paper_id = p.id GROUP BY p.id ORDER BY COUNT(*) DESC, LENGTH(p.title) DESC LIMIT 1')
      .get() as { id: number };
    await visit(`/papers/${paper.id}`, 'paper');
    await visit('/no/such/page', '404', 404);
    await page.context().close();
  }, 60_000);
});
