// The test SMTP receiver itself: records what arrives and plays each fault the mail and delivery tests rely on.
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import nodemailer from 'nodemailer';
import { replies, startSmtpReceiver, type SmtpReceiver } from './helpers/smtp-receiver.js';

let server: SmtpReceiver | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function send(port: number, to: string | string[], extra: Record<string, unknown> = {}, subject = 'hello') {
  const t = nodemailer.createTransport({ host: '127.0.0.1', port, ignoreTLS: true, ...extra });
  try {
    return await t.sendMail({ from: 'a@paperboy.test', to, subject, text: 'body', messageId: '<m1@paperboy.test>' });
  } finally {
    t.close();
  }
}

async function failure(p: Promise<unknown>): Promise<{ code?: string; message: string; responseCode?: number; response?: string }> {
  try {
    await p;
  } catch (err) {
    return err as { code?: string; message: string; responseCode?: number; response?: string };
  }
  throw new Error('expected the send to fail');
}

describe('SMTP receiver', () => {
  it('records envelope, raw text and headers, and hands parsed messages to waitFor', async () => {
    server = await startSmtpReceiver();
    const info = await send(server.port, ['r1@example.org', 'r2@example.org'], {}, 'Grüße');
    expect(info.response).toMatch(/^250 .*Ok: queued as TEST1/);
    expect(server.received).toHaveLength(1);
    const got = server.received[0]!;
    expect(got).toMatchObject({ from: 'a@paperboy.test', to: ['r1@example.org', 'r2@example.org'], messageId: '<m1@paperboy.test>', secure: false });
    expect(got.raw.toString('latin1')).toMatch(/\r\n\r\nbody/);
    const [parsed] = await server.waitFor(1, 'r2@example.org');
    expect(parsed!.parsed.subject).toBe('Grüße');
    expect(server.attempts.get('r1@example.org')).toBe(1);
    expect(server.events).toEqual(['data:r1@example.org', 'end:r1@example.org']);
    expect(server.url).toBe(`smtp://127.0.0.1:${server.port}`);
  });

  it('refuses RCPT per address with the code and text given, and the next n with rejectNext', async () => {
    server = await startSmtpReceiver();
    server.rcpt = (a) => (a.startsWith('gone') ? replies.userUnknown(a) : null);
    const e = await failure(send(server.port, 'gone@example.org'));
    expect(e.responseCode).toBe(550);
    expect(e.response).toBe('550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown');
    expect(server.attempts.get('gone@example.org')).toBe(1);
    server.rejectNext(1, 451, '4.3.0 Try again later');
    expect((await failure(send(server.port, 'ok@example.org'))).response).toBe('451 4.3.0 Try again later');
    await send(server.port, 'ok@example.org');
    expect(server.received.map((m) => m.to)).toEqual([['ok@example.org']]);
  });

  it('refuses at DATA with a code, counting attempts per recipient; every body is kept in arrived', async () => {
    server = await startSmtpReceiver();
    server.data = (_m, attempt) => (attempt === 1 ? replies.tryLater : 'accept');
    expect((await failure(send(server.port, 'r@example.org'))).responseCode).toBe(451);
    await send(server.port, 'r@example.org');
    expect(server.attempts.get('r@example.org')).toBe(2);
    expect(server.arrived.map((m) => m.answer)).toEqual([replies.tryLater, 'accept']);
    expect(server.received).toHaveLength(1);
  });

  it('drops the connection after DATA without replying', async () => {
    server = await startSmtpReceiver();
    server.data = () => 'drop';
    const e = await failure(send(server.port, 'r@example.org'));
    expect(e.code).toBe('ECONNECTION');
    expect(e.responseCode).toBeUndefined();
    expect(server.arrived).toHaveLength(1);
    expect(server.received).toHaveLength(0);
  });

  it('replies slowly when told to', async () => {
    server = await startSmtpReceiver();
    server.delayMs = 300;
    const started = Date.now();
    await send(server.port, 'r@example.org');
    // One RCPT and one DATA reply, each held 300 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    const e = await failure(send(server.port, 'r@example.org', { socketTimeout: 150 }));
    expect(e.code).toBe('ETIMEDOUT');
  });

  it('refuses connections while stopped, and takes mail again on the same port once started', async () => {
    server = await startSmtpReceiver();
    const port = server.port;
    await server.stop();
    expect((await failure(send(port, 'r@example.org'))).message).toMatch(/ECONNREFUSED/);
    await server.start();
    expect(server.port).toBe(port);
    await send(port, 'r@example.org');
    expect(server.received).toHaveLength(1);
  });

  it('closes at once though a client stays connected (smtp-server alone would wait 30 s)', async () => {
    server = await startSmtpReceiver();
    const idle = net.connect(server.port, '127.0.0.1');
    idle.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => idle.on('close', () => resolve()));
    await new Promise<void>((resolve) => idle.once('data', () => resolve())); // the greeting
    expect(server.connections.open).toBe(1);
    const started = Date.now();
    await server.close();
    await closed;
    expect(Date.now() - started).toBeLessThan(1000);
    server = undefined;
  });
});
