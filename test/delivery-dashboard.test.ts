// The admin dashboard in the system Chromium: it renders its numbers, chart and failures; screenshot for a person to look at.
import { describe, it, expect } from 'vitest';
import { mkdirSync } from 'node:fs';
import Fastify from 'fastify';
import { FakeClock } from '../src/clock.js';
import { silentLogger } from '../src/log.js';
import { createDeliveryService } from '../src/delivery/send-runs.js';
import { registerAdminSendRoutes } from '../src/admin/send-routes.js';
import { registerAdminLogin, requireAdmin } from '../src/admin/auth.js';
import { replies, startSmtpReceiver } from './helpers/smtp-receiver.js';
import { createSmtpTestMessenger } from './helpers/smtp-messenger.js';
import { tempDir, testConfig, insertPapers, insertSubscribers, openTestStore, testDigest } from './helpers/delivery-fixtures.js';
import { launchChromium } from './helpers/chromium.js';

const TOKEN = 'admin-token-0123456789';

describe('GET /admin in Chromium', () => {
  it('shows a week of sends as bars, the runs and the failures', async () => {
    const tmp = tempDir();
    const sink = await startSmtpReceiver();
    sink.rcpt = (rcpt) => (rcpt.startsWith('gone') ? replies.userUnknown(rcpt) : null);
    sink.data = (m, attempt) => (m.to[0]!.startsWith('slow') && attempt < 9 ? replies.tryLater : 'accept');
    const config = testConfig(tmp.dir);
    const store = openTestStore(config);
    insertPapers(store, 40);
    insertSubscribers(store, 30, (i) => ({ email: i === 7 ? 'gone@example.test' : i === 9 ? 'slow@example.test' : `reader${i}@example.test`, digest_size: 2 }));
    const clock = new FakeClock(new Date('2026-11-17T09:00:00Z'));
    const messenger = createSmtpTestMessenger(sink.port);
    const service = createDeliveryService({ config, store, clock, log: silentLogger, messenger, digest: testDigest(store, config, clock) }, { pollMs: 5 });
    // A week of daily sends, with a few readers leaving along the way.
    for (let day = 0; day < 7; day++) {
      if (day === 3) store.db.prepare("UPDATE subscribers SET status = 'unsubscribed' WHERE id IN (20, 21, 22)").run();
      await service.run({ trigger: day % 2 ? 'cron' : 'cli', mode: 'due' });
      clock.advance(86_400_000);
    }
    const app = Fastify();
    const auth = { config: { ADMIN_TOKEN: TOKEN, PUBLIC_URL: 'http://localhost' } };
    await registerAdminLogin(app, auth);
    await registerAdminSendRoutes(app, { service, store, clock, config, guard: requireAdmin(auth) });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const browser = await launchChromium();
    try {
      const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
      const page = await context.newPage();
      // A browser without the cookie gets the sign-in form; signing in lands on the dashboard.
      expect((await page.goto(`${url}/admin`))?.status()).toBe(401);
      await page.fill('input[name=token]', TOKEN);
      await page.click('button[type=submit]');
      await page.waitForURL(`${url}/admin`);
      expect(await page.locator('h1').textContent()).toContain('Dashboard');
      const bars = page.locator('svg[aria-label="messages sent per day"] rect');
      // A bar for each day that sent something (a day with none draws nothing).
      const heights = await bars.evaluateAll((els) => els.map((e) => Number(e.getAttribute('height'))));
      expect(heights.filter((h) => h > 0)).toHaveLength(7);
      expect(heights).toHaveLength(7);
      // Once among the failures, once among the bounces (its 5.1.1 at RCPT is a hard bounce).
      expect(await page.locator('td', { hasText: /^gone@example\.test$/ }).count()).toBe(2);
      expect(await page.locator('tr', { hasText: 'gone@example.test' }).filter({ hasText: 'hard' }).count()).toBe(1);
      expect(await page.locator('.pill.bad', { hasText: 'bounced' }).count()).toBeGreaterThan(0);
      expect(await page.getByText(/5\.1\.1/).count()).toBeGreaterThan(0);
      mkdirSync('test-output', { recursive: true });
      await page.screenshot({ path: 'test-output/admin-dashboard.png', fullPage: true });
      const phone = await context.newPage();
      await phone.setViewportSize({ width: 375, height: 800 });
      await phone.goto(`${url}/admin`);
      await phone.screenshot({ path: 'test-output/admin-dashboard-phone.png', fullPage: true });
    } finally {
      await browser.close();
      await app.close();
      await service.close();
      await messenger.close();
      store.close();
      await sink.close();
      tmp.cleanup();
    }
  }, 60_000);
});
