// Screenshots of the admin console from a seeded instance (the seeds, subscribers over a month, a real send to a
// local SMTP server): dashboard, send page, dry run and run page, at 390 and 1280 px. `npx tsx scripts/admin-screenshots.ts [outdir]`.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { createApp } from '../src/app.js';
import { startService } from '../src/service-runner.js';
import { silentLogger } from '../src/log.js';
import { freePort } from '../test/helpers/free-port.js';
import { startSmtpReceiver, replies } from '../test/helpers/smtp-receiver.js';
import { launchChromium } from '../test/helpers/chromium.js';
import type { Page } from 'playwright-core';

const args = process.argv.slice(2);
// --tiles: phone pages also in 1000 px slices, to read them at full size.
const tiles = args.includes('--tiles');
const out = args.find((a) => !a.startsWith('--')) ?? 'test-output/screenshots/admin';
const TOKEN = 'admin-token-for-screenshots';
const DAY = 86_400_000;

mkdirSync(out, { recursive: true });
const dir = mkdtempSync(join(tmpdir(), 'paperboy-shots-'));
const smtp = await startSmtpReceiver();
smtp.rcpt = (a) => (a.startsWith('gone') ? replies.userUnknown(a) : null);
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const config = loadConfig({
  DATA_DIR: dir,
  PORT: String(port),
  PUBLIC_URL: base,
  ADMIN_TOKEN: TOKEN,
  MAIL_TRANSPORT: 'smtp',
  SMTP_URL: smtp.url,
  INBOUND_SMTP_ENABLED: 'false',
  SCHEDULER_ENABLED: 'false',
  FETCH_ENABLED: 'false',
});
const app = createApp(config, { log: silentLogger });
const service = await startService(app);
try {
  const db = app.store.db;
  const now = Date.now();
  const iso = (ms: number) => new Date(ms).toISOString();
  const ins = db.prepare(
    `INSERT INTO subscribers (email, status, frequency, kind, digest_size, delivery_hour, time_zone, created_at, updated_at, confirmed_at, unsubscribed_at, bounced_at)
     VALUES (?, ?, ?, ?, 5, 8, 'UTC', ?, ?, ?, ?, ?)`,
  );
  const names = ['ada', 'grace', 'alan', 'edsger', 'barbara', 'donald', 'frances', 'ken', 'margaret', 'john', 'radia', 'tim', 'leslie', 'hedy', 'claude'];
  for (let i = 0; i < 48; i++) {
    const created = now - (29 - (i % 30)) * DAY - (i % 5) * 3_600_000;
    const status = i % 11 === 0 ? 'unsubscribed' : i % 13 === 0 ? 'pending' : 'active';
    const email = `${names[i % names.length]}.${i}@example.org`;
    ins.run(
      email,
      status,
      i % 3 === 0 ? 'weekly' : 'daily',
      ['trending', 'new', 'both'][i % 3],
      iso(created),
      iso(created),
      status === 'pending' ? null : iso(created + 3_600_000),
      status === 'unsubscribed' ? iso(created + 5 * DAY) : null,
      null,
    );
  }
  ins.run('gone@example.net', 'active', 'daily', 'trending', iso(now - 20 * DAY), iso(now - 20 * DAY), iso(now - 20 * DAY), null, null);
  // Returns over the month, and the live sources' last fetches.
  const b = db.prepare(`INSERT INTO bounces (email, severity, status, diagnostic, source, received_at) VALUES (?, ?, '5.1.1', 'User unknown', 'dsn', ?)`);
  for (let i = 0; i < 9; i++) b.run(`old${i}@example.net`, i % 3 ? 'soft' : 'hard', iso(now - (i * 3 + 1) * DAY));
  const f = db.prepare('INSERT INTO fetch_runs (source, trigger, dates, started_at) VALUES (?, ?, ?, ?)');
  const fin = db.prepare(
    `UPDATE fetch_runs SET status = ?, requests = 3, received = ?, skipped = 0, added = ?, updated = 4, error = ?, finished_at = ? WHERE id = ?`,
  );
  const day = iso(now).slice(0, 10);
  fin.run('ok', 42, 12, null, iso(now - 3_600_000), Number(f.run('daily-papers', 'cron', day, iso(now - 3_700_000)).lastInsertRowid));
  fin.run(
    'failed',
    0,
    0,
    'unreachable (connect ECONNREFUSED 127.0.0.1:9)',
    iso(now - 3_600_000),
    Number(f.run('arxiv', 'cron', day, iso(now - 3_700_000)).lastInsertRowid),
  );

  const snap = async (page: Page, name: string, width: number) => {
    await page.screenshot({ path: join(out, `${name}-${width}.png`), fullPage: true });
    if (!tiles || width > 400) return;
    const height = (await page.evaluate('document.documentElement.scrollHeight')) as number;
    for (let y = 0, i = 1; y < height; y += 1000, i++)
      await page.screenshot({ path: join(out, `${name}-${width}-part${i}.png`), fullPage: true, clip: { x: 0, y, width, height: Math.min(1000, height - y) } });
  };
  const browser = await launchChromium();
  try {
    const pages = new Map<number, Page>();
    for (const width of [390, 1280]) {
      const context = await browser.newContext({ viewport: { width, height: 900 }, deviceScaleFactor: 1 });
      const page = await context.newPage();
      await page.goto(`${base}/admin/login`);
      await snap(page, 'admin-login', width);
      await page.fill('input[name=token]', TOKEN);
      await page.click('button[type=submit]');
      await page.waitForURL(`${base}/admin`);
      await page.goto(`${base}/admin/send`);
      await snap(page, 'admin-send', width);
      await page.click('button:has-text("Dry run")');
      await snap(page, 'admin-dry-run', width);
      pages.set(width, page);
    }
    // One real send, confirmed from the desktop's dry run; both then show its run, the runs and the dashboard.
    const desk = pages.get(1280)!;
    // A slow server, so the run page is caught while it follows the run.
    smtp.delayMs = 120;
    await desk.click('button:has-text("Confirm")');
    await desk.waitForURL(/\/admin\/runs\//);
    await desk.waitForTimeout(900);
    await snap(desk, 'admin-run-live', 1280);
    await desk.waitForSelector('[data-status="done"], [data-status="failed"]', { timeout: 30_000 });
    const runUrl = desk.url();
    for (const [width, page] of pages) {
      await page.goto(runUrl);
      await snap(page, 'admin-run', width);
      await page.goto(`${base}/admin/runs`);
      await snap(page, 'admin-runs', width);
      await page.goto(`${base}/admin`);
      await snap(page, 'admin-dashboard', width);
      await page.goto(`${base}/admin/preview?as=ada.0@example.org`);
      await snap(page, 'admin-preview', width);
      await page.context().close();
    }
  } finally {
    await browser.close();
  }
  console.log(`screenshots in ${out}`);
} finally {
  await service.stop();
  await app.close();
  await smtp.close();
  rmSync(dir, { recursive: true, force: true });
}
