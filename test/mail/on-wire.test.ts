// The wire journal's hook: each SMTP client calls onWire after DATA is answered 354 and before any body byte leaves,
// never for a message refused before it, and a connection that cannot be made is marked unreachable.
import { afterEach, describe, expect, it } from 'vitest';
import { createPipeliningMessenger } from '../../src/mail/pipelining-messenger.js';
import { createSmtpMessenger } from '../../src/mail/smtp-messenger.js';
import { SendError, type Messenger } from '../../src/mail/messenger.js';
import { silentLogger } from '../../src/log.js';
import { freePort } from '../helpers/free-port.js';
import { startSmtpReceiver, type SmtpReceiver } from '../helpers/smtp-receiver.js';

/** The receiver, refusing RCPT for refused@ addresses; its `events` hold data:/end: per body, and the test's wire: marks. */
async function startServer(): Promise<SmtpReceiver> {
  const server = await startSmtpReceiver();
  server.rcpt = (address) => (address.startsWith('refused') ? { code: 550, message: '5.1.1 no such user' } : null);
  return server;
}

const raw = (to: string) => `From: a@example.test\r\nTo: ${to}\r\nSubject: hi\r\nMessage-ID: <${to}>\r\n\r\nhello ${to}\r\n`;

let server: SmtpReceiver | undefined;
let messenger: Messenger | undefined;
afterEach(async () => {
  await messenger?.close();
  await server?.close();
  messenger = server = undefined;
});

describe.each([
  ['pipelining', (port: number) => createPipeliningMessenger({ url: `smtp://127.0.0.1:${port}?starttls=never`, poolSize: 2, timeoutMs: 5000 })],
  [
    'nodemailer',
    (port: number) =>
      createSmtpMessenger({ SMTP_URL: `smtp://127.0.0.1:${port}`, SMTP_POOL_SIZE: 2, MAIL_FROM: 'a@example.test' }, silentLogger, {
        transport: { ignoreTLS: true },
      }),
  ],
] as const)('%s client', (name, make) => {
  it('calls onWire once per message, before the server sees any of its body', async () => {
    server = await startServer();
    messenger = make(server.port);
    const to = ['r1@example.test', 'r2@example.test', 'r3@example.test', 'r4@example.test'];
    await Promise.all(
      to.map((t) =>
        messenger!.sendRaw({ envelope: { from: 'a@example.test', to: [t] }, raw: raw(t), messageId: `<${t}>`, onWire: () => server!.events.push(`wire:${t}`) }),
      ),
    );
    for (const t of to) {
      const e = server.events;
      expect(e.filter((x) => x === `wire:${t}`)).toHaveLength(1);
      expect(e.indexOf(`wire:${t}`)).toBeLessThan(e.indexOf(`data:${t}`));
    }
  });

  it('a connection that cannot be made is unreachable, and nothing went on the wire', async () => {
    const port = await freePort();
    messenger = make(port);
    let wired = 0;
    const err = await messenger
      .sendRaw({ envelope: { from: 'a@example.test', to: ['r@example.test'] }, raw: raw('r@example.test'), messageId: '<x>', onWire: () => wired++ })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SendError);
    expect((err as SendError).unreachable).toBe(true);
    expect((err as SendError).failure).toBe('temporary');
    // nodemailer does not say when DATA was answered, so its messenger counts the hand-over as on the wire.
    expect(wired).toBe(name === 'pipelining' ? 0 : 1);
  });

  if (name === 'pipelining') {
    it('never calls onWire for a recipient refused at RCPT', async () => {
      server = await startServer();
      messenger = make(server.port);
      let wired = 0;
      const err = await messenger
        .sendRaw({
          envelope: { from: 'a@example.test', to: ['refused@example.test'] },
          raw: raw('refused@example.test'),
          messageId: '<y>',
          onWire: () => wired++,
        })
        .catch((e: unknown) => e);
      expect((err as SendError).hardBounce).toBe(true);
      expect((err as SendError).unreachable).toBe(false);
      expect(wired).toBe(0);
    });

    it('when onWire throws, the body is not sent and the message is not accepted', async () => {
      server = await startServer();
      messenger = make(server.port);
      const err = await messenger
        .sendRaw({
          envelope: { from: 'a@example.test', to: ['r@example.test'] },
          raw: raw('r@example.test'),
          messageId: '<z>',
          onWire: () => {
            throw new Error('database is locked');
          },
        })
        .catch((e: unknown) => e);
      expect((err as SendError).message).toMatch(/not sent.*database is locked/);
      expect((err as SendError).unreachable).toBe(false);
      // The next message goes out on a new connection; the abandoned one never reached the server's end.
      await messenger.sendRaw({ envelope: { from: 'a@example.test', to: ['next@example.test'] }, raw: raw('next@example.test'), messageId: '<n>' });
      expect(server.events).not.toContain('end:r@example.test');
      expect(server.events).toContain('end:next@example.test');
    });
  }
});
