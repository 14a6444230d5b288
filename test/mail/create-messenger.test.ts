// Transport choice follows the config: outbox with nothing set, SMTP once SMTP_URL is there.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { createMessenger } from '../../src/mail/create-messenger.js';
import { startSmtpReceiver, type SmtpReceiver } from '../helpers/smtp-receiver.js';

let server: SmtpReceiver;
let dir: string;
beforeAll(async () => {
  server = await startSmtpReceiver();
  dir = mkdtempSync(join(tmpdir(), 'paperboy-cm-'));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const msg = { to: 'r@example.org', subject: 'pick', html: '<p>x</p>', text: 'x' };

describe('createMessenger', () => {
  it('defaults to the outbox under DATA_DIR', async () => {
    const m = createMessenger(loadConfig({ DATA_DIR: dir }), silentLogger);
    expect(m.name).toBe('outbox');
    await m.send(msg);
    await m.close();
    expect(readdirSync(join(dir, 'outbox'))).toHaveLength(1);
    expect(server.received).toHaveLength(0);
  });

  it.each([
    ['pipelining', 'smtp-pipelining'],
    ['nodemailer', 'smtp'],
  ])('uses SMTP when SMTP_URL is set (SMTP_CLIENT=%s)', async (client, name) => {
    const before = server.received.length;
    const m = createMessenger(loadConfig({ DATA_DIR: dir, SMTP_URL: server.url, SMTP_CLIENT: client }), silentLogger);
    expect(m.name).toBe(name);
    await m.send(msg);
    await m.close();
    expect(server.received).toHaveLength(before + 1);
    expect((await server.parsed(before)).subject).toBe('pick');
  });

  it.each(['pipelining', 'nodemailer'])('SMTP_RATE_PER_SEC paces every message, composed and raw alike (SMTP_CLIENT=%s)', async (client) => {
    const before = server.received.length;
    const m = createMessenger(
      loadConfig({ DATA_DIR: dir, SMTP_URL: server.url, SMTP_CLIENT: client, SMTP_RATE_PER_SEC: '10', SMTP_POOL_SIZE: '4' }),
      silentLogger,
    );
    const raw = (i: number) => ({ envelope: { from: 'b@example.org', to: [`d${i}@example.org`] }, raw: `Subject: d${i}\r\n\r\nx\r\n`, messageId: `<d${i}@x>` });
    const started = performance.now();
    // A confirmation and digests at once: 7 messages at 10 a second take at least 6 intervals of 100 ms.
    await Promise.all([m.send(msg), ...[1, 2, 3, 4, 5, 6].map((i) => m.sendRaw(raw(i)))]);
    const took = performance.now() - started;
    await m.close();
    expect(server.received.length - before).toBe(7);
    expect(took).toBeGreaterThanOrEqual(600 - 5);
  });

  it('MAIL_TRANSPORT=outbox wins over a set SMTP_URL', () => {
    const m = createMessenger(loadConfig({ DATA_DIR: dir, SMTP_URL: server.url, MAIL_TRANSPORT: 'outbox' }), silentLogger);
    expect(m.name).toBe('outbox');
  });
});
