// A person in system Chromium: subscribe, open the emailed link, confirm, change preferences, unsubscribe.
// Screenshots of every page, phone and desktop, go to test-output/screenshots/.
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Locator, Page } from 'playwright-core';
import { startHarness, confirmLinkFrom, type Harness } from './helpers/web-harness.js';
import { insertSamplePapers } from './helpers/papers.js';
import { launchChromium } from './helpers/chromium.js';

const SHOTS = 'test-output/screenshots';

let h: Harness;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  h = await startHarness();
  insertSamplePapers(h.store);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
});

const VIEWPORTS = [
  { name: 'phone', viewport: { width: 375, height: 812 }, email: 'phone.person@example.org', tz: 'America/New_York' },
  { name: 'desktop', viewport: { width: 1280, height: 900 }, email: 'desk.person@example.org', tz: 'Asia/Tokyo' },
] as const;

/** Waits (up to 20 s per read) for the locator's text to match, then asserts it, so a failure shows the text seen. */
async function seeText(loc: Locator, expected: string | RegExp): Promise<void> {
  const matches = (t: string) => (typeof expected === 'string' ? t.trim() === expected : expected.test(t));
  let text = '';
  for (let i = 0; i < 50; i++) {
    text =
      (await loc
        .first()
        .textContent({ timeout: 20_000 })
        .catch(() => '')) ?? '';
    if (matches(text)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (typeof expected === 'string') expect(text.trim()).toBe(expected);
  else expect(text).toMatch(expected);
}

async function shot(page: Page, device: string, step: string): Promise<void> {
  await page.screenshot({ path: `${SHOTS}/${device}-${step}.png`, fullPage: true });
}

describe.each(VIEWPORTS)('a person on a $name', ({ name, viewport, email, tz }) => {
  it('subscribes, confirms, changes preferences and unsubscribes', async () => {
    const context = await browser.newContext({ viewport, timezoneId: tz, deviceScaleFactor: 1 });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // Error statuses are expected on the error pages; script errors and CSP violations are not.
    page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && errors.push(m.text()));

    await page.goto(h.url + '/');
    await seeText(page.locator('h1'), /papers/i);
    // Corpus HTML is shown as text, never run.
    expect(await page.locator('.paper h3').nth(1).textContent()).toContain('<script>alert(1)</script>');
    expect(await page.locator('a[href^="javascript:"]').count()).toBe(0);
    await shot(page, name, '1-home');

    await page.fill('#email', 'not an email');
    await page.click('button[type=submit]');
    await page.locator('.field-error').first().waitFor({ state: 'visible', timeout: 20_000 });
    await shot(page, name, '1b-home-error');

    await page.fill('#email', email);
    await page.check('input[name=frequency][value=weekly]');
    await page.check('input[name=kind][value=both]');
    await page.fill('#topics', 'diffusion, <b>robots</b>');
    await page.click('button[type=submit]');
    await page.waitForURL('**/check-inbox');
    await seeText(page.locator('h1'), 'Check your inbox');
    await shot(page, name, '2-check-inbox');

    const [mail] = await h.sink.waitFor(1, email);
    const link = confirmLinkFrom(mail!.parsed.text!);
    const sub = h.service.repo.byEmail(email)!;
    expect(sub).toMatchObject({ status: 'pending', frequency: 'weekly', kind: 'both', time_zone: tz, topics: ['diffusion', '<b>robots</b>'] });

    await page.goto(link);
    await seeText(page.locator('h1'), 'Confirm your subscription');
    await shot(page, name, '3-confirm');
    expect(h.service.repo.byId(sub.id)!.status).toBe('pending');
    await page.click('button[type=submit]');
    await seeText(page.locator('h1'), "You're subscribed");
    expect(h.service.repo.byId(sub.id)!.status).toBe('active');
    await shot(page, name, '4-confirmed');

    await page.click('text=Choose your preferences');
    await seeText(page.locator('h1'), 'Your preferences');
    // The topic with HTML in it is shown as text.
    await seeText(page.locator('.tag').nth(1), '<b>robots</b>');
    expect(await page.locator('#time_zone').inputValue()).toBe(tz);
    await shot(page, name, '5-preferences');

    await page.fill('#digest_size', '99');
    await page.click('button:has-text("Save preferences")');
    await seeText(page.locator('.field-error'), 'Choose a number of papers from 1 to 30.');
    await shot(page, name, '5b-preferences-error');

    await page.fill('#digest_size', '5');
    await page.check('input[name=frequency][value=daily]');
    await page.check('input[name=kind][value=new]');
    await page.selectOption('#delivery_hour', '7');
    await page.fill('#topics', 'reasoning');
    await page.click('button:has-text("Save preferences")');
    await page.locator('.alert.success').waitFor({ state: 'visible', timeout: 20_000 });
    await shot(page, name, '6-preferences-saved');
    expect(h.service.repo.byId(sub.id)).toMatchObject({ digest_size: 5, frequency: 'daily', kind: 'new', delivery_hour: 7, topics: ['reasoning'] });

    await page.click('text=Unsubscribe');
    await seeText(page.locator('h1'), 'Unsubscribe');
    await shot(page, name, '7-unsubscribe');
    expect(h.service.repo.byId(sub.id)!.status).toBe('active');
    await page.click('button:has-text("Unsubscribe")');
    await seeText(page.locator('h1'), "You're unsubscribed");
    expect(h.service.repo.byId(sub.id)!.status).toBe('unsubscribed');
    await shot(page, name, '8-unsubscribed');

    await page.goto(link);
    await seeText(page.locator('h1'), 'This link has already been used');
    await shot(page, name, '9-error-used-link');
    await page.goto(h.url + '/no/such/page');
    await seeText(page.locator('h1'), 'Page not found');
    await shot(page, name, '9b-error-404');

    expect(errors).toEqual([]);
    await context.close();
  });
});
