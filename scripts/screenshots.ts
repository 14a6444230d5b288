// Owns the README screenshots: seeds a temporary instance (seed corpus, a few subscribers, one send to the outbox)
// and photographs its pages in Chromium into docs/screenshots/. Run with `npm run screenshots`.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { simpleParser } from 'mailparser';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { loadConfig } from '../src/config.js';
import { createApp } from '../src/app.js';
import { startService } from '../src/service-runner.js';
import { silentLogger } from '../src/log.js';

const OUT = join(process.cwd(), 'docs', 'screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const TOKEN = 'screenshots-admin-token-0123456789';
/** Above this a shot is cut shorter: the README's images stay small. */
const MAX_BYTES = 300 * 1024;

interface Shot {
  /** File name without .png. */
  name: string;
  /** A path on the instance, or a function of what was seeded. */
  path: string | ((seeded: Seeded) => string);
  width: number;
  /** Only this much of the page's height (px); the whole page when absent. */
  height?: number;
  admin?: boolean;
}

interface Seeded {
  subscriberId: number;
  today: string;
}

// The admin shots are taken when the page exists (a 404 skips it): add a line here for each new admin page.
const SHOTS: Shot[] = [
  { name: 'home', path: '/', width: 1280, height: 1100 },
  { name: 'home-390', path: '/', width: 390, height: 1400 },
  { name: 'digest-page', path: (s) => `/digest/${s.today}`, width: 1280, height: 1100 },
  { name: 'admin-dashboard', path: '/admin', width: 1280, height: 1100, admin: true },
  { name: 'admin-send', path: '/admin/send', width: 1280, height: 1000, admin: true },
  { name: 'admin-subscriber', path: (s) => `/admin/subscribers/${s.subscriberId}`, width: 1280, height: 1000, admin: true },
  { name: 'admin-runs', path: '/admin/runs', width: 1280, height: 900, admin: true },
];

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const SUBSCRIBERS = [
  { email: 'ada@example.org', status: 'active', frequency: 'daily', kind: 'trending', topics: '["diffusion"]', zone: 'Europe/London' },
  { email: 'alan@example.org', status: 'active', frequency: 'weekly', kind: 'both', topics: '[]', zone: 'Asia/Kolkata' },
  { email: 'grace@example.org', status: 'active', frequency: 'daily', kind: 'new', topics: '["reasoning","agents"]', zone: 'America/New_York' },
  { email: 'edsger@example.org', status: 'pending', frequency: 'daily', kind: 'trending', topics: '[]', zone: 'Europe/Amsterdam' },
  { email: 'barbara@example.org', status: 'unsubscribed', frequency: 'weekly', kind: 'trending', topics: '[]', zone: 'America/Los_Angeles' },
];

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'paperboy-shots-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const config = loadConfig({
    DATA_DIR: dir,
    PORT: String(port),
    PUBLIC_URL: base,
    ADMIN_TOKEN: TOKEN,
    SENDER_ADDRESS_LINE: 'Paperboy Labs, 1 Example Street, Springfield',
    INBOUND_SMTP_ENABLED: 'false',
    SCHEDULER_ENABLED: 'false',
    FETCH_ENABLED: 'false',
    LOG_LEVEL: 'silent',
  });
  // The service ingests the seed pages at start.
  const app = createApp(config, { log: silentLogger });
  const service = await startService(app);
  let browser: Browser | null = null;
  try {
    const now = new Date().toISOString();
    const insert = app.store.db.prepare(
      `INSERT INTO subscribers (email, status, frequency, weekday, kind, topics, digest_size, delivery_hour, time_zone, created_at, updated_at, confirmed_at)
       VALUES (?, ?, ?, 1, ?, ?, 5, 8, ?, ?, ?, ?)`,
    );
    const ids = SUBSCRIBERS.map((s) =>
      Number(insert.run(s.email, s.status, s.frequency, s.kind, s.topics, s.zone, now, now, s.status === 'pending' ? null : now).lastInsertRowid),
    );
    await send(base);
    const seeded: Seeded = { subscriberId: ids[0]!, today: now.slice(0, 10) };

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run'] });
    const contexts = new Map<string, BrowserContext>();
    const contextFor = async (width: number, admin: boolean) => {
      const key = `${width}:${admin}`;
      if (!contexts.has(key)) {
        contexts.set(
          key,
          await browser!.newContext({
            viewport: { width, height: 900 },
            deviceScaleFactor: 1,
            ...(admin ? { extraHTTPHeaders: { authorization: `Bearer ${TOKEN}` } } : {}),
          }),
        );
      }
      return contexts.get(key)!;
    };

    for (const shot of SHOTS) {
      const page = await (await contextFor(shot.width, !!shot.admin)).newPage();
      const path = typeof shot.path === 'function' ? shot.path(seeded) : shot.path;
      const res = await page.goto(base + path);
      if (res?.status() !== 200) {
        console.log(`skip ${shot.name}: ${path} answered ${res?.status() ?? 'nothing'}`);
        await page.close();
        continue;
      }
      await save(page, shot.name, shot.height);
      await page.close();
    }

    // The digest email as a mail client shows it: its HTML part, rendered on its own.
    const html = await digestHtmlFor(config.OUTBOX_DIR, SUBSCRIBERS[0]!.email);
    for (const [width, name, height] of [
      [1280, 'digest-email', 1300],
      [390, 'digest-email-390', 1500],
    ] as const) {
      const page = await (await contextFor(width, false)).newPage();
      await page.setContent(html, { waitUntil: 'load' });
      await save(page, name, height);
      await page.close();
    }
  } finally {
    await browser?.close();
    await service.stop();
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One forced send to everyone active, through the admin API, to its end. */
async function send(base: string): Promise<void> {
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'idempotency-key': `shots-${Date.now()}` };
  const res = await fetch(`${base}/admin/send`, { method: 'POST', headers, body: JSON.stringify({ mode: 'force' }) });
  if (!res.ok) throw new Error(`POST /admin/send answered ${res.status}: ${await res.text()}`);
  const { runId } = (await res.json()) as { runId: string };
  for (let i = 0; i < 600; i++) {
    const run = (await (await fetch(`${base}/admin/send/${runId}`, { headers })).json()) as { status?: string; run?: { status?: string } };
    const status = run.status ?? run.run?.status;
    if (status && status !== 'running') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`run ${runId} did not finish`);
}

/** The digest one subscriber got (the confirmation emails have no List-Unsubscribe). */
async function digestHtmlFor(outbox: string, email: string): Promise<string> {
  const files = readdirSync(outbox, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.eml'))
    .sort()
    .reverse();
  for (const f of files) {
    const raw = readFileSync(join(outbox, f));
    const head = raw.toString('latin1');
    if (!/^List-Unsubscribe:/im.test(head) || !new RegExp(`^To:.*${email.replace('.', '\\.')}`, 'im').test(head)) continue;
    const mail = await simpleParser(raw);
    if (typeof mail.html === 'string') return mail.html;
  }
  throw new Error(`no digest to ${email} in ${outbox}`);
}

/** A PNG of the page's top `height` px (the whole page without one), shortened until it is under MAX_BYTES. */
async function save(page: import('playwright-core').Page, name: string, height?: number): Promise<void> {
  const file = join(OUT, `${name}.png`);
  const full = (await page.evaluate('document.documentElement.scrollHeight')) as number;
  const width = page.viewportSize()!.width;
  let h = Math.min(full, height ?? full);
  for (;;) {
    await page.screenshot({ path: file, clip: { x: 0, y: 0, width, height: h }, fullPage: true });
    const bytes = statSync(file).size;
    if (bytes <= MAX_BYTES || h < 400) {
      console.log(`${file.slice(process.cwd().length + 1)}  ${width}x${h}  ${Math.round(bytes / 1024)} KB`);
      return;
    }
    h = Math.floor(h * 0.8);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
