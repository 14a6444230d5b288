// The whole service with real parts: seeds ingested, a subscriber confirmed through the web, a digest sent over SMTP
// by the real selector/renderer/sender, and the message's one-click unsubscribe POSTed back to the running server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { loadConfig } from '../../src/config.js';
import { createApp, type App } from '../../src/app.js';
import { startService, type Service } from '../../src/service-runner.js';
import { FakeClock } from '../../src/clock.js';
import { silentLogger } from '../../src/log.js';
import { startSmtpReceiver, type SmtpReceiver } from '../helpers/smtp-receiver.js';
import { freePort } from '../helpers/free-port.js';
import { tempDir } from '../helpers/tmp.js';

describe('a digest from the running service', () => {
  const dir = tempDir();
  let smtp: SmtpReceiver;
  let app: App;
  let service: Service;
  let base: string;

  beforeAll(async () => {
    smtp = await startSmtpReceiver();
    const port = await freePort();
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const config = loadConfig({
      DATA_DIR: dir,
      PORT: String(port),
      SMTP_URL: smtp.url,
      MAIL_DOMAIN: 'paperboy.test',
      INBOUND_SMTP_ENABLED: 'false',
      SCHEDULER_ENABLED: 'false',
      FETCH_ENABLED: 'false',
      DKIM_DOMAIN: 'paperboy.test',
      DKIM_SELECTOR: 'mail',
      DKIM_PRIVATE_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    });
    app = createApp(config, { log: silentLogger, clock: new FakeClock(new Date('2026-11-23T10:00:00Z')) });
    service = await startService(app);
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await service?.stop();
    await app?.close();
    await smtp?.close();
  });

  it('sends one digest with both List headers, a text part and DKIM over them; the one-click POST unsubscribes', async () => {
    // Subscribe and confirm as a person would: form, emailed link, POST.
    const sub = await fetch(`${base}/subscribe`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'email=reader%40example.org&frequency=daily&kind=trending&topics=diffusion',
    });
    expect(sub.status).toBe(303);
    const until = Date.now() + 20_000;
    while (smtp.received.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    const confirmation = await smtp.parsed(0);
    const confirmUrl = /http:\/\/localhost:\d+(\/confirm\/\S+)/.exec(confirmation.text ?? '')![1]!;
    const confirm = await fetch(`${base}${confirmUrl}`, { method: 'POST', redirect: 'manual' });
    expect([200, 303]).toContain(confirm.status);

    const summary = await service.delivery.service.run({ trigger: 'cli', mode: 'force' });
    expect(summary.counts.sent).toBe(1);
    const digest = smtp.received.at(-1)!;
    expect(digest.to).toEqual(['reader@example.org']);
    const raw = digest.raw.toString('utf8');
    const head = raw.slice(0, raw.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' ');
    const listUnsub = /^List-Unsubscribe: (.+)$/im.exec(head)![1]!;
    const https = /<(http[^>]+\/unsubscribe\/[^>]+)>/.exec(listUnsub)![1]!;
    expect(listUnsub).toMatch(/<mailto:unsubscribe\+[A-Za-z0-9._~-]+@paperboy\.test>/);
    expect(head).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click$/im);
    expect(head).toMatch(/^List-Id: /im);
    const h = /DKIM-Signature:.*?\bh=([^;]+)/is.exec(head)![1]!.toLowerCase().replace(/\s/g, '');
    expect(h.split(':')).toEqual(expect.arrayContaining(['list-unsubscribe', 'list-unsubscribe-post']));

    const parsed = await smtp.parsed(smtp.received.length - 1);
    expect(parsed.text).toContain(https.replace(/^http:\/\/localhost:\d+/, ''));
    expect(parsed.html).toBeTruthy();
    expect(parsed.subject).toMatch(/\S/);

    // A GET (what a link scanner does) changes nothing; the RFC 8058 POST unsubscribes with no cookie, 200, no redirect.
    const path = https.replace(/^http:\/\/localhost:\d+/, '');
    expect((await fetch(`${base}${path}`)).status).toBe(200);
    const status = () => app.store.db.prepare("SELECT status FROM subscribers WHERE email = 'reader@example.org'").pluck().get();
    expect(status()).toBe('active');
    const one = await fetch(`${base}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(one.status).toBe(200);
    expect(status()).toBe('unsubscribed');

    // A second forced send in the same edition sends nothing more.
    const again = await service.delivery.service.run({ trigger: 'cli', mode: 'force' });
    expect(again.counts.sent).toBe(0);
    expect(smtp.received.filter((m) => m.to.includes('reader@example.org'))).toHaveLength(2); // confirmation + digest
  });
});
