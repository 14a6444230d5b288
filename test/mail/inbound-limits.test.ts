// The inbound listener's limits against a real SMTP client: per message, per connection, per client, and a message
// it can never parse. Every confirmation it would start is counted by the subscription service it calls.
import { afterEach, describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { connect, type Socket } from 'node:net';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { createInboundServer, type InboundServer } from '../../src/mail/inbound.js';
import { classifySendError } from '../../src/mail/classify.js';

const DOMAIN = 'paperboy.test';
const running: InboundServer[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.close();
});

async function listener(env: Record<string, string> = {}) {
  const subscribed: string[] = [];
  const server = createInboundServer({
    config: loadConfig({ MAIL_DOMAIN: DOMAIN, INBOUND_SMTP_PORT: '0', ...env }),
    subscriptions: {
      async subscribe(email) {
        subscribed.push(email);
      },
      async unsubscribeByToken() {
        return false;
      },
    },
    log: silentLogger,
  });
  running.push(server);
  return { port: await server.start(), subscribed };
}

/** A raw SMTP conversation: send one line, read one full reply (multi-line replies joined). */
function rawClient(port: number) {
  const socket: Socket = connect(port, '127.0.0.1');
  let buffer = '';
  let waiting: (() => void) | null = null;
  let closed = false;
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => {
    buffer += d;
    waiting?.();
  });
  socket.on('close', () => {
    closed = true;
    waiting?.();
  });
  socket.on('error', () => {});
  async function reply(): Promise<string> {
    for (;;) {
      const m = /^(?:\d{3}-[^\r\n]*\r\n)*\d{3} [^\r\n]*\r\n/.exec(buffer);
      if (m) {
        buffer = buffer.slice(m[0].length);
        return m[0].trim();
      }
      if (closed) return '(closed)';
      await new Promise<void>((r) => (waiting = r));
      waiting = null;
    }
  }
  return {
    reply,
    async say(line: string): Promise<string> {
      socket.write(line + '\r\n');
      return reply();
    },
    get closed() {
      return closed;
    },
    end: () => socket.destroy(),
  };
}

/** One message on an open raw connection; returns the reply to each step. */
async function rawMessage(c: ReturnType<typeof rawClient>, from: string): Promise<string> {
  const mail = await c.say(`MAIL FROM:<${from}>`);
  if (!mail.startsWith('250')) return mail;
  const rcpt = await c.say(`RCPT TO:<subscribe@${DOMAIN}>`);
  if (!rcpt.startsWith('250')) return rcpt;
  const data = await c.say('DATA');
  if (!data.startsWith('354')) return data;
  return c.say(`From: ${from}\r\nSubject: subscribe\r\n\r\nplease\r\n.`);
}

describe('inbound SMTP limits', () => {
  it('60 forged From lines on one connection start at most INBOUND_MAX_MESSAGES_PER_CONNECTION confirmations', async () => {
    const { port, subscribed } = await listener({ INBOUND_MAX_MESSAGES_PER_CONNECTION: '5', INBOUND_RATE_LIMIT_PER_MIN: '1000' });
    const c = rawClient(port);
    expect(await c.reply()).toMatch(/^220 /);
    expect(await c.say('EHLO attacker.test')).toMatch(/^250/);
    const replies: string[] = [];
    for (let i = 0; i < 60; i++) {
      replies.push(await rawMessage(c, `victim${i}@example.org`));
      if (!replies.at(-1)!.startsWith('250')) break;
    }
    c.end();
    expect(replies.slice(0, 5).every((r) => r.startsWith('250'))).toBe(true);
    expect(replies[5]).toMatch(/^421 4\.7\.0 /);
    // 421 closes the connection: nothing more is read from it.
    expect(await c.say('MAIL FROM:<late@example.org>')).toBe('(closed)');
    expect(subscribed).toHaveLength(5);
  });

  it('a client address gets INBOUND_RATE_LIMIT_PER_MIN messages a minute over all its connections, then 451 4.7.1', async () => {
    const { port, subscribed } = await listener({ INBOUND_RATE_LIMIT_PER_MIN: '3' });
    const errors: unknown[] = [];
    for (let i = 0; i < 8; i++) {
      // A new connection each time: the per-connection cap does not reset the per-client one.
      const t = nodemailer.createTransport({ host: '127.0.0.1', port, ignoreTLS: true });
      const err = await t.sendMail({ from: `forged${i}@example.org`, to: `subscribe@${DOMAIN}`, subject: 'subscribe', text: '' }).then(
        () => null,
        (e: unknown) => e,
      );
      t.close();
      errors.push(err);
    }
    expect(errors.slice(0, 3)).toEqual([null, null, null]);
    for (const err of errors.slice(3)) {
      const e = classifySendError(err);
      expect(e.responseCode).toBe(451);
      expect(e.enhancedCode).toBe('4.7.1');
      expect(e.failure).toBe('temporary');
    }
    expect(subscribed).toEqual(['forged0@example.org', 'forged1@example.org', 'forged2@example.org']);
  });

  it('the default per-client limit matches the web form (10 a minute)', async () => {
    const { port, subscribed } = await listener();
    const c = rawClient(port);
    await c.reply();
    await c.say('EHLO attacker.test');
    const replies: string[] = [];
    for (let i = 0; i < 60; i++) {
      replies.push(await rawMessage(c, `v${i}@example.org`));
      if (!replies.at(-1)!.startsWith('250')) break;
    }
    c.end();
    expect(subscribed.length).toBeLessThanOrEqual(10);
    expect(replies.at(-1)).toMatch(/^4\d\d 4\.7\./);
  });

  it('takes at most INBOUND_MAX_RECIPIENTS recipients per message and answers 452 4.5.3 to the rest', async () => {
    const { port } = await listener({ INBOUND_MAX_RECIPIENTS: '10' });
    const c = rawClient(port);
    await c.reply();
    await c.say('EHLO attacker.test');
    expect(await c.say('MAIL FROM:<a@example.org>')).toMatch(/^250/);
    const replies: string[] = [];
    for (let i = 0; i < 500; i++) replies.push(await c.say(`RCPT TO:<unsubscribe+token${String(i).padStart(4, '0')}@${DOMAIN}>`));
    c.end();
    expect(replies.filter((r) => r.startsWith('250'))).toHaveLength(10);
    expect(replies[10]).toMatch(/^452 4\.5\.3 /);
    expect(replies.slice(10).every((r) => r.startsWith('452'))).toBe(true);
  });

  it('a message nested 2,000 multiparts deep gets a permanent 554 5.6.0, not 451', async () => {
    const { port, subscribed } = await listener();
    let body = 'Content-Type: text/plain\r\n\r\nsubscribe\r\n';
    for (let d = 1999; d >= 0; d--) body = `Content-Type: multipart/mixed; boundary="b${d}"\r\n\r\n--b${d}\r\n${body}\r\n--b${d}--\r\n`;
    const raw = `From: deep@example.org\r\nTo: subscribe@${DOMAIN}\r\nSubject: subscribe\r\nMIME-Version: 1.0\r\n${body}`;
    const t = nodemailer.createTransport({ host: '127.0.0.1', port, ignoreTLS: true });
    const err = await t.sendMail({ envelope: { from: 'deep@example.org', to: [`subscribe@${DOMAIN}`] }, raw }).then(
      () => null,
      (e: unknown) => e,
    );
    t.close();
    const e = classifySendError(err);
    expect(e.responseCode).toBe(554);
    expect(e.enhancedCode).toBe('5.6.0');
    expect(e.failure).toBe('permanent');
    expect(subscribed).toEqual([]);
  });
});
