// Screenshots of the admin subscriber pages (the list and one subscriber, 390 and 1280 px wide) from a seeded instance.
// Usage: npx tsx scripts/admin-subscribers-screenshots.ts [OUT_DIR]   (default test-output/screenshots; PNGs are never committed)
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchChromium } from '../test/helpers/chromium.js';
import { startTestService } from '../test/helpers/running-service.js';
import { seedAdminSubscribers } from '../test/helpers/subscriber-fixtures.js';

const out = process.argv[2] ?? 'test-output/screenshots';
const token = 'screenshot-admin-token-0123456789';

async function main(): Promise<void> {
  mkdirSync(out, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'paperboy-shots-'));
  const svc = await startTestService(dir, { ADMIN_TOKEN: token, SECRET_KEY: 'x'.repeat(40) });
  const browser = await launchChromium();
  try {
    const seeded = seedAdminSubscribers(svc.app.store);
    for (const width of [390, 1280]) {
      const context = await browser.newContext({ viewport: { width, height: 900 }, deviceScaleFactor: 1 });
      const page = await context.newPage();
      await page.goto(`${svc.base}/admin/login?next=/admin/subscribers`);
      await page.fill('#token', token);
      await Promise.all([page.waitForURL('**/admin/subscribers'), page.click('button[type=submit]')]);
      await page.screenshot({ path: join(out, `admin-subscribers-${width}.png`), fullPage: true });
      await page.goto(`${svc.base}/admin/subscribers/${seeded.ada.id}`);
      await page.screenshot({ path: join(out, `admin-subscriber-${width}.png`), fullPage: true });
      await page.goto(`${svc.base}/admin/subscribers/import`);
      await page.screenshot({ path: join(out, `admin-subscribers-import-${width}.png`), fullPage: true });
      // The result of an import with a row of each kind.
      const csv = `email,frequency\r\nnew.${width}@example.net,weekly\r\nnot-an-address,daily\r\n${seeded.ada.email},daily\r\nother.${width}@example.net,hourly\r\n`;
      await page.setInputFiles('#subs-file', { name: 'list.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
      await Promise.all([page.waitForLoadState('load'), page.click('button:has-text("Import")')]);
      await page.locator('.subs-result').waitFor();
      await page.screenshot({ path: join(out, `admin-subscribers-imported-${width}.png`), fullPage: true });
      await page.goto(`${svc.base}/admin/subscribers/${seeded.ada.id}/erase`);
      await page.screenshot({ path: join(out, `admin-subscriber-erase-${width}.png`), fullPage: true });
      await context.close();
    }
    process.stdout.write(`screenshots in ${out}\n`);
  } finally {
    await browser.close();
    await svc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
