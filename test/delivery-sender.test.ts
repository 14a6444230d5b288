// The sender against a real smtp-server: headers and parts of a sent digest, retries, bounces, final counts, nothing lost.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { simpleParser } from 'mailparser';
import { FakeClock } from '../src/clock.js';
import { silentLogger } from '../src/log.js';
import type { Store } from '../src/db/open.js';
import type { Config } from '../src/config.js';
import { createDeliveryService } from '../src/delivery/send-runs.js';
import { replies, startSmtpReceiver, type SmtpReceiver } from './helpers/smtp-receiver.js';
import { createSmtpTestMessenger } from './helpers/smtp-messenger.js';
import { tempDir, testConfig, insertPapers, insertSubscribers, openTestStore, testDigest } from './helpers/delivery-fixtures.js';
import { runCli } from './helpers/cli.js';
import { digestSourceFor } from '../src/app.js';
import { subscriberLinks } from '../src/subscriptions/subscriber-links.js';

let tmp: ReturnType<typeof tempDir>;
let sink: SmtpReceiver;
let store: Store | undefined;
let clock: FakeClock;

beforeEach(async () => {
  tmp = tempDir();
  sink = await startSmtpReceiver();
  clock = new FakeClock(new Date('2026-11-23T10:00:00.000Z'));
});
afterEach(async () => {
  store?.close();
  store = undefined;
  await sink.close();
  tmp.cleanup();
});

function service(config: Config) {
  const st = (store = store ?? openTestStore(config));
  const messenger = createSmtpTestMessenger(sink.port);
  const svc = createDeliveryService({ config, store: st, clock, log: silentLogger, messenger, digest: testDigest(st, config, clock) }, { pollMs: 10 });
  return { svc, messenger };
}

function db() {
  return store!.db;
}

function statuses(): Record<string, string> {
  const rows = db().prepare('SELECT s.email, d.status FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id').all() as {
    email: string;
    status: string;
  }[];
  return Object.fromEntries(rows.map((r) => [r.email, r.status]));
}

describe('a sent digest', () => {
  it("carries both List headers, List-Id, a text part and the recipient's own links", async () => {
    const config = testConfig(tmp.dir);
    const { svc, messenger } = service(config);
    insertPapers(store!, 5);
    const [first] = insertSubscribers(store!, 3);
    const summary = await svc.run({ trigger: 'cli', mode: 'due' });
    await messenger.close();
    expect(summary.counts.sent).toBe(3);
    expect(sink.received).toHaveLength(3);

    const msg = sink.received.find((r) => r.to[0] === 'reader1@example.test')!;
    const mail = await simpleParser(msg.raw);
    const links = subscriberLinks(config, config.SECRET_KEY!, first!);
    const head = msg.raw.toString('latin1').split('\r\n\r\n')[0]!;
    expect(head).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click$/m);
    expect(head).toMatch(/^List-ID: paperboy digest <digest\.paperboy\.example>$/im);
    // mailparser reads both List headers too.
    const list = mail.headers.get('list') as { unsubscribe?: { url?: string; mail?: string } } | undefined;
    expect(list?.unsubscribe?.url).toContain('/unsubscribe/');
    const lu = msg.raw
      .toString('latin1')
      .match(/^List-Unsubscribe: (.*(?:\r\n[ \t].*)*)/m)![1]!
      .replace(/\r\n[ \t]+/g, ' ');
    expect(lu).toBe(links.headers['List-Unsubscribe']);
    expect(lu).toMatch(/^<https:\/\/paperboy\.example\/unsubscribe\/[^>]+>, <mailto:unsubscribe\+[^>]+@paperboy\.example>$/);
    expect(mail.messageId).toMatch(/^<d\d+\.e\d+\.[0-9a-f]{16}@paperboy\.example>$/);
    expect(mail.to && 'text' in mail.to ? mail.to.text : '').toBe('reader1@example.test');
    // The text part reads on its own and holds the real links; the placeholders are gone from both parts.
    expect(mail.text).toContain('Paper 1: Schrödinger bridges & <b>diffusion</b>');
    expect(mail.text).toContain(`Unsubscribe: ${links.unsubscribeUrl}`);
    expect(mail.text!.replace(/\s+/g, ' ')).toContain('You get this because reader1@example.test subscribed');
    expect(mail.html).toContain('You get this because reader1@example.test subscribed');
    expect(mail.html).toContain(`href="${links.unsubscribeUrl}"`);
    expect(mail.html).toContain(`href="${links.manageUrl}"`);
    expect(mail.html).toContain('&lt;b&gt;diffusion&lt;/b&gt;');
    expect(`${mail.html}${mail.text}`).not.toMatch(/pbx/i);
    expect(mail.subject).toBe('“Paper 1: Schrödinger bridges & <b>diffusion</b>” + 2 more trending papers');
    // Quoted-printable lines stay within RFC 2045's 76 characters after personalisation.
    const body = msg.raw.toString('latin1').split('\r\n\r\n').slice(1).join('\r\n\r\n');
    expect(Math.max(...body.split('\r\n').map((l) => l.length))).toBeLessThanOrEqual(76);

    // Every recipient got their own links.
    const other = await simpleParser(sink.received.find((r) => r.to[0] === 'reader2@example.test')!.raw);
    expect(other.text).not.toContain(links.unsubscribeUrl);
    expect(other.text).not.toContain(links.manageUrl);
    // sent_papers written with the sent mark; a second run sends nothing (one per edition, never a paper twice).
    expect(db().prepare('SELECT COUNT(*) FROM sent_papers').pluck().get()).toBe(9);
    const again = await svc.run({ trigger: 'cli', mode: 'force' });
    expect(again.plan.queued).toBe(0);
    expect(sink.received).toHaveLength(3);
  });

  it("from the real digest source over the seeded corpus, carries each recipient's real links in headers, HTML and text", async () => {
    // The corpus a fresh install starts with, ingested by the real CLI; then the real selector, renderer and links.
    const ingest = runCli(['ingest', 'seeds'], { DATA_DIR: tmp.dir, FETCH_ENABLED: 'false', LOG_LEVEL: 'warn' });
    expect(ingest.code, ingest.stderr).toBe(0);
    const config = testConfig(tmp.dir);
    const secret = config.SECRET_KEY!;
    const st = (store = openTestStore(config));
    const ids = insertSubscribers(st, 2, { digest_size: 3 });
    const messenger = createSmtpTestMessenger(sink.port);
    const digest = digestSourceFor({ store: st, clock, config: { ...config, ADMIN_TOKEN: config.ADMIN_TOKEN!, SECRET_KEY: secret } });
    const svc = createDeliveryService({ config, store: st, clock, log: silentLogger, messenger, digest }, { pollMs: 10 });
    const summary = await svc.run({ trigger: 'cli', mode: 'due' });
    await messenger.close();
    expect(summary.counts.sent).toBe(2);
    expect(sink.received).toHaveLength(2);
    const all = ids.map((id) => subscriberLinks(config, secret, id));
    for (const i of ids.keys()) {
      const email = `reader${i + 1}@example.test`;
      const links = all[i]!;
      const msg = sink.received.find((r) => r.to[0] === email)!;
      const raw = msg.raw.toString('latin1');
      const head = raw.split('\r\n\r\n')[0]!.replace(/\r\n[ \t]+/g, ' ');
      expect(/^List-Unsubscribe: (.*)$/m.exec(head)![1]).toBe(links.headers['List-Unsubscribe']);
      expect(head).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click$/m);
      const mail = await simpleParser(msg.raw);
      expect(mail.html).toContain(`href="${links.unsubscribeUrl}"`);
      expect(mail.html).toContain(`href="${links.manageUrl}"`);
      expect(mail.html).toContain(email);
      expect(mail.text).toContain(`Unsubscribe: ${links.unsubscribeUrl}`);
      expect(mail.text).toContain(links.manageUrl);
      expect(`${mail.html}${mail.text}`).not.toMatch(/pbx/i);
      // Nobody gets another reader's links.
      const other = all[1 - i]!;
      expect(raw).not.toContain(other.unsubscribeUrl.slice(other.unsubscribeUrl.lastIndexOf('/') + 1));
      expect(`${mail.html}${mail.text}`).not.toContain(other.manageUrl);
      const body = raw.split('\r\n\r\n').slice(1).join('\r\n\r\n');
      expect(Math.max(...body.split('\r\n').map((l) => l.length))).toBeLessThanOrEqual(76);
    }
  }, 30_000);

  it('is DKIM-signed after personalisation, with both List headers in h=', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const config = testConfig(tmp.dir, {
      DKIM_DOMAIN: 'paperboy.example',
      DKIM_SELECTOR: 'pb',
      DKIM_PRIVATE_KEY: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    });
    const { svc, messenger } = service(config);
    insertPapers(store!, 2);
    insertSubscribers(store!, 2);
    await svc.run({ trigger: 'cli', mode: 'due' });
    await messenger.close();
    expect(sink.received).toHaveLength(2);
    const sigs = sink.received.map((r) => {
      const head = r.raw
        .toString('latin1')
        .split('\r\n\r\n')[0]!
        .replace(/\r\n[ \t]+/g, ' ');
      return /^DKIM-Signature: (.*)$/m.exec(head)![1]!;
    });
    for (const sig of sigs) {
      const h = /\bh=([^;]+)/.exec(sig)![1]!.replace(/\s+/g, '').toLowerCase().split(':');
      expect(h).toEqual(expect.arrayContaining(['from', 'to', 'subject', 'message-id', 'list-unsubscribe', 'list-unsubscribe-post', 'list-id']));
      expect(sig).toContain('d=paperboy.example');
      expect(sig).toContain('s=pb');
    }
    // Signed per recipient: the body hashes differ because the links differ.
    const bh = sigs.map((s) => /\bbh=([^;]+)/.exec(s)![1]);
    expect(bh[0]).not.toBe(bh[1]);
  });
});

describe('failures', () => {
  it('retries 4xx and dropped connections with exponential backoff, then gives up; 5.1.1 suppresses; 5xx fails once', async () => {
    const config = testConfig(tmp.dir); // SEND_MAX_ATTEMPTS=4, SEND_RETRY_BASE_SECONDS=60
    const { svc, messenger } = service(config);
    sink.rcpt = (rcpt) => (rcpt === 'reader2@example.test' ? replies.userUnknown(rcpt) : null);
    sink.data = (m, attempt) => {
      const rcpt = m.to[0];
      if (rcpt === 'reader1@example.test') return replies.tryLater;
      if (rcpt === 'reader3@example.test') return replies.refused;
      if (rcpt === 'reader4@example.test') return attempt === 1 ? 'drop' : 'accept';
      return 'accept';
    };
    insertPapers(store!, 4);
    insertSubscribers(store!, 8);
    const start = clock.now().getTime();
    const first = await svc.run({ trigger: 'cli', mode: 'due' });
    expect(first.plan.queued).toBe(8);
    // The edition carried on past the bad addresses.
    expect(statuses()).toMatchObject({
      'reader1@example.test': 'queued',
      'reader2@example.test': 'bounced',
      'reader3@example.test': 'failed',
      'reader4@example.test': 'queued',
      'reader5@example.test': 'sent',
      'reader8@example.test': 'sent',
    });
    const row = (email: string) =>
      db().prepare('SELECT d.* FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE s.email = ?').get(email) as {
        attempts: number;
        next_attempt_at: string;
        smtp_response: string;
        status: string;
      };
    expect(row('reader1@example.test').attempts).toBe(1);
    expect(Date.parse(row('reader1@example.test').next_attempt_at) - start).toBe(60_000);
    expect(row('reader1@example.test').smtp_response).toMatch(/451/);
    expect(row('reader2@example.test').smtp_response).toMatch(/5\.1\.1/);
    expect(db().prepare("SELECT status FROM subscribers WHERE email = 'reader2@example.test'").pluck().get()).toBe('bounced');
    expect(db().prepare("SELECT status FROM subscribers WHERE email = 'reader3@example.test'").pluck().get()).toBe('active');

    // Not yet due: a drain before the backoff ends sends nothing.
    clock.advance(59_000);
    await svc.drain();
    expect(sink.attempts.get('reader1@example.test')).toBe(1);

    // The schedule: 60 s, 120 s, 240 s after each failure; the fourth attempt is the last.
    const gaps: number[] = [];
    let prev = Date.parse(row('reader1@example.test').next_attempt_at) - 60_000;
    for (let attempt = 2; attempt <= 4; attempt++) {
      const next = Date.parse(row('reader1@example.test').next_attempt_at);
      gaps.push(next - prev);
      clock.set(new Date(next));
      prev = next;
      await svc.drain();
      expect(row('reader1@example.test').attempts).toBe(attempt);
    }
    expect(gaps).toEqual([60_000, 120_000, 240_000]);
    expect(row('reader1@example.test').status).toBe('failed');
    expect(row('reader1@example.test').smtp_response).toMatch(/gave up after 4 attempts/);
    expect(sink.attempts.get('reader1@example.test')).toBe(4);
    // The dropped connection was retried and got through once; it is flagged as one that might have gone twice.
    expect(row('reader4@example.test').status).toBe('sent');
    expect((row('reader4@example.test') as unknown as { was_unknown: number }).was_unknown).toBe(1);
    expect((row('reader1@example.test') as unknown as { was_unknown: number }).was_unknown).toBe(0);
    expect(sink.received.filter((r) => r.to[0] === 'reader4@example.test')).toHaveLength(1);
    // The hard bounce and the 5xx were never retried.
    expect(sink.attempts.get('reader2@example.test')).toBe(1);
    expect(sink.attempts.get('reader3@example.test')).toBe(1);
    await messenger.close();

    // Final counts: nothing lost, nothing twice.
    expect(svc.counts(first.runId)).toMatchObject({ sent: 5, failed: 2, bounced: 1, queued: 0, sending: 0, total: 8 });
    const got = sink.received.map((r) => r.to[0]).sort();
    expect(new Set(got).size).toBe(got.length);
    expect(got).toHaveLength(5);
    // A suppressed address is not planned again.
    clock.advance(86_400_000);
    const next = await svc.run({ trigger: 'cli', mode: 'due' });
    expect(next.plan.queued).toBe(7);
  });

  it('one subscriber whose selection throws, or whose time zone is unknown, does not stop the others', async () => {
    const config = testConfig(tmp.dir);
    store = openTestStore(config);
    const st = store;
    insertPapers(st, 4);
    insertSubscribers(st, 4);
    db().prepare("UPDATE subscribers SET time_zone = 'Mars/Olympus_Mons' WHERE id = 3").run();
    const real = testDigest(st, config, clock);
    const digest = {
      ...real,
      async prepare(kind: Parameters<typeof real.prepare>[0], date: string) {
        const p = await real.prepare(kind, date);
        return {
          ...p,
          select: (sub: Parameters<typeof p.select>[0]) => {
            if (sub.id === 2) throw new Error('boom');
            return p.select(sub);
          },
        };
      },
    };
    const messenger = createSmtpTestMessenger(sink.port);
    const svc = createDeliveryService({ config, store: st, clock, log: silentLogger, messenger, digest }, { pollMs: 10 });
    const summary = await svc.run({ trigger: 'cli', mode: 'due' });
    await messenger.close();
    expect(summary.plan).toMatchObject({ queued: 3, errors: 1 });
    expect(sink.received.map((r) => r.to[0]).sort()).toEqual(['reader1@example.test', 'reader3@example.test', 'reader4@example.test']);
  });

  it('records "nothing left to send" as a skipped delivery instead of an empty digest', async () => {
    const config = testConfig(tmp.dir);
    const { svc, messenger } = service(config);
    insertPapers(store!, 3);
    insertSubscribers(store!, 2, { digest_size: 3 });
    await svc.run({ trigger: 'cli', mode: 'due' });
    clock.advance(86_400_000);
    const second = await svc.run({ trigger: 'cli', mode: 'due' });
    await messenger.close();
    expect(second.plan).toMatchObject({ queued: 0, skipped: 2 });
    expect(sink.received).toHaveLength(2);
    const reasons = db().prepare("SELECT skip_reason FROM deliveries WHERE status = 'skipped'").pluck().all();
    const reason = 'every paper on or before 2026-11-24 has already been sent to this subscriber';
    expect(reasons).toEqual([reason, reason]);
  });
});
