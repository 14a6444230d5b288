// The inbound listener end to end: real mail sent with nodemailer, subscriber rows checked in real SQLite.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { loadConfig } from '../../src/config.js';
import { openStore, type Store } from '../../src/db/open.js';
import { silentLogger } from '../../src/log.js';
import { createInboundServer, targetOf, type InboundServer, type InboundSubscriptions } from '../../src/mail/inbound.js';
import { classifySendError } from '../../src/mail/classify.js';

const SECRET = 'test-secret-test-secret-test-secret';
const DOMAIN = 'paperboy.test';

/** A small real subscription service over the subscribers table: what the web helper's one does, minus email. */
function tableSubscriptions(store: Store): InboundSubscriptions & { tokenFor(email: string): string; calls: string[] } {
  // Same shape as the web side's signed tokens: `<id>-<28 hex of HMAC>`.
  const sign = (id: number) => createHmac('sha256', SECRET).update(`unsub:${id}`).digest('hex').slice(0, 32);
  const calls: string[] = [];
  return {
    calls,
    async subscribe(email, source) {
      calls.push(`subscribe ${email}`);
      const now = new Date().toISOString();
      store.db
        .prepare(
          `INSERT INTO subscribers (email, status, source, created_at, updated_at) VALUES (?, 'pending', ?, ?, ?)
           ON CONFLICT(email) DO UPDATE SET status = 'pending', updated_at = excluded.updated_at WHERE status = 'unsubscribed'`,
        )
        .run(email, source, now, now);
    },
    async unsubscribeByToken(token) {
      calls.push(`unsubscribe-token`);
      const [id, mac] = token.split('-');
      if (!id || !mac || !/^\d+$/.test(id)) return false;
      const want = Buffer.from(sign(Number(id)));
      const got = Buffer.from(mac);
      if (want.length !== got.length || !timingSafeEqual(want, got)) return false;
      const now = new Date().toISOString();
      return (
        store.db.prepare(`UPDATE subscribers SET status = 'unsubscribed', unsubscribed_at = ?, updated_at = ? WHERE id = ?`).run(now, now, Number(id))
          .changes === 1
      );
    },
    tokenFor(email) {
      const { id } = store.db.prepare('SELECT id FROM subscribers WHERE email = ?').get(email) as { id: number };
      return `${id}-${sign(id)}`;
    },
  };
}

let store: Store;
let subs: ReturnType<typeof tableSubscriptions>;
let inbound: InboundServer;
let port: number;

function statusOf(email: string): string | undefined {
  return (store.db.prepare('SELECT status FROM subscribers WHERE email = ?').get(email) as { status: string } | undefined)?.status;
}
function addActive(email: string): void {
  const now = new Date().toISOString();
  store.db.prepare(`INSERT INTO subscribers (email, status, created_at, updated_at, confirmed_at) VALUES (?, 'active', ?, ?, ?)`).run(email, now, now, now);
}
async function send(mail: Parameters<ReturnType<typeof nodemailer.createTransport>['sendMail']>[0]): Promise<unknown> {
  const t = nodemailer.createTransport({ host: '127.0.0.1', port, ignoreTLS: true });
  try {
    return await t.sendMail(mail);
  } finally {
    t.close();
  }
}
async function sendError(mail: Parameters<ReturnType<typeof nodemailer.createTransport>['sendMail']>[0]) {
  const err = await send(mail).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, 'the listener refused the message').not.toBeNull();
  return classifySendError(err);
}

beforeAll(async () => {
  store = openStore(':memory:');
  subs = tableSubscriptions(store);
  // This file is not about the per-client limits (inbound-limits.test.ts is): all its mail comes from one address.
  const config = loadConfig({ MAIL_DOMAIN: DOMAIN, INBOUND_SMTP_PORT: '0', INBOUND_MAX_BYTES: '8192', INBOUND_RATE_LIMIT_PER_MIN: '1000' });
  inbound = createInboundServer({ config, subscriptions: subs, log: silentLogger });
  port = await inbound.start();
});
afterAll(async () => {
  await inbound.close();
  store.close();
});

describe('inbound SMTP listener', () => {
  it('binds the port it was given (0 picks one)', () => {
    expect(port).toBeGreaterThan(0);
  });

  it('a mail to subscribe@ makes the sender a pending subscriber', async () => {
    await send({ from: 'Alice Example <alice@example.org>', to: `subscribe@${DOMAIN}`, subject: 'hello', text: 'sign me up' });
    expect(statusOf('alice@example.org')).toBe('pending');
    const row = store.db.prepare('SELECT source FROM subscribers WHERE email = ?').get('alice@example.org') as { source: string };
    expect(row.source).toBe('email');
  });

  it('subject "subscribe" works when sent to the other address', async () => {
    await send({ from: 'carol@example.org', to: `unsubscribe@${DOMAIN}`, subject: 'Re: Subscribe', text: '' });
    expect(statusOf('carol@example.org')).toBe('pending');
  });

  it('unsubscribe+<signed token>@ unsubscribes the subscriber the token names, whatever the From', async () => {
    addActive('bob@example.org');
    const token = subs.tokenFor('bob@example.org');
    await send({ from: 'someone-else@example.net', to: `unsubscribe+${token}@${DOMAIN}`, subject: 'unsubscribe', text: '' });
    expect(statusOf('bob@example.org')).toBe('unsubscribed');
  });

  it('a forged From to the bare unsubscribe@ does not unsubscribe anyone', async () => {
    addActive('dave@example.org');
    await send({ from: 'dave@example.org', to: `unsubscribe@${DOMAIN}`, subject: 'unsubscribe', text: 'please remove me' });
    await send({ from: 'dave@example.org', to: `subscribe@${DOMAIN}`, subject: 'unsubscribe', text: '' });
    expect(statusOf('dave@example.org')).toBe('active');
  });

  it('a forged or tampered token does nothing', async () => {
    addActive('erin@example.org');
    const token = subs.tokenFor('erin@example.org');
    const forged = token.slice(0, -2) + (token.endsWith('aa') ? 'bb' : 'aa');
    await send({ from: 'erin@example.org', to: `unsubscribe+${forged}@${DOMAIN}`, subject: 'unsubscribe', text: '' });
    expect(statusOf('erin@example.org')).toBe('active');
  });

  it('refuses an oversized message with 552 and acts on nothing', async () => {
    const err = await sendError({ from: 'frank@example.org', to: `subscribe@${DOMAIN}`, subject: 'subscribe', text: 'x'.repeat(20_000) });
    expect(err.responseCode).toBe(552);
    expect(err.failure).toBe('permanent');
    expect(statusOf('frank@example.org')).toBeUndefined();
  });

  it('refuses unknown recipients with 550 5.1.1', async () => {
    for (const to of [`postmaster@${DOMAIN}`, 'subscribe@elsewhere.test', `unsubscribe+bad token@${DOMAIN}`, `unsubscribe+x@${DOMAIN}`]) {
      const err = await sendError({ from: 'gina@example.org', to, subject: 'subscribe', text: '' });
      expect(err.responseCode, to).toBe(550);
      expect(err.enhancedCode, to).toBe('5.1.1');
    }
    expect(statusOf('gina@example.org')).toBeUndefined();
  });

  it('accepts junk quietly and does nothing with it', async () => {
    const before = subs.calls.length;
    // two From addresses
    await send({
      envelope: { from: 'a@example.org', to: [`subscribe@${DOMAIN}`] },
      raw: 'From: a@example.org, b@example.org\r\nSubject: subscribe\r\n\r\nx\r\n',
    });
    // a bounce (null sender)
    await send({ envelope: { from: '', to: [`subscribe@${DOMAIN}`] }, raw: 'From: mailer-daemon@example.org\r\nSubject: Undelivered\r\n\r\nx\r\n' });
    // an auto-reply
    await send({ from: 'h@example.org', to: `subscribe@${DOMAIN}`, subject: 'Out of office', text: '', headers: { 'Auto-Submitted': 'auto-replied' } });
    // a From that is not an address
    await send({ envelope: { from: 'x@example.org', to: [`subscribe@${DOMAIN}`] }, raw: 'From: not an address\r\nSubject: subscribe\r\n\r\nx\r\n' });
    expect(subs.calls.slice(before)).toEqual([]);
    expect(statusOf('a@example.org')).toBeUndefined();
    expect(statusOf('h@example.org')).toBeUndefined();
  });

  it('answers 451 when the subscription service fails, so the sender retries', async () => {
    const broken = createInboundServer({
      config: loadConfig({ MAIL_DOMAIN: DOMAIN, INBOUND_SMTP_PORT: '0' }),
      subscriptions: {
        subscribe: async () => {
          throw new Error('database is locked');
        },
        unsubscribeByToken: async () => false,
      },
      log: silentLogger,
    });
    const brokenPort = await broken.start();
    const t = nodemailer.createTransport({ host: '127.0.0.1', port: brokenPort, ignoreTLS: true });
    const err = await t.sendMail({ from: 'ivy@example.org', to: `subscribe@${DOMAIN}`, subject: 'subscribe', text: '' }).then(
      () => null,
      (e: unknown) => e,
    );
    t.close();
    await broken.close();
    const e = classifySendError(err);
    expect(e.responseCode).toBe(451);
    expect(e.failure).toBe('temporary');
  });

  it('knows its addresses', () => {
    expect(targetOf(`SUBSCRIBE@${DOMAIN.toUpperCase()}`, { MAIL_DOMAIN: DOMAIN })).toEqual({ kind: 'subscribe' });
    expect(targetOf(`unsubscribe+Ab.cD-_12345@${DOMAIN}`, { MAIL_DOMAIN: DOMAIN })).toEqual({ kind: 'unsubscribe-token', token: 'Ab.cD-_12345' });
    expect(targetOf(`subscribe+x@${DOMAIN}`, { MAIL_DOMAIN: DOMAIN })).toBeNull();
  });
});
