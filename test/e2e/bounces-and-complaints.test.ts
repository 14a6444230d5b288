// Mail that comes back, through the running service: digests go out with VERP envelope senders, DSNs and ARF reports
// come back to the inbound listener (null sender), and each one changes the subscriber and shows on the dashboard.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { FakeClock } from '../../src/clock.js';
import { recordBounce } from '../../src/delivery/bounce-processing.js';
import { insertSubscribers } from '../helpers/delivery-fixtures.js';
import { startTestService, type RunningService } from '../helpers/running-service.js';
import { replies, startSmtpReceiver, type SmtpReceiver } from '../helpers/smtp-receiver.js';
import { tempDir } from '../helpers/tmp.js';

const DOMAIN = 'paperboy.test';
const TOKEN = 'admin-token-for-the-bounce-test';
const VERP = /^bounces\+(\d+)-[0-9a-f]{28}@paperboy\.test$/;

/** Hands `raw` to the inbound listener as a mail server returning a bounce would: `MAIL FROM:<>`. */
async function deliver(port: number, to: string, raw: string, from = ''): Promise<string> {
  const conn = new SMTPConnection({ host: '127.0.0.1', port, ignoreTLS: true, name: 'mta.example.net' });
  await new Promise<void>((resolve, reject) => {
    conn.once('error', reject);
    conn.connect(() => resolve());
  });
  try {
    const info = await new Promise<{ response: string }>((resolve, reject) =>
      conn.send({ from, to: [to] }, raw, (err, i) => (err ? reject(err) : resolve(i as unknown as { response: string }))),
    );
    return info.response;
  } finally {
    conn.quit();
  }
}

/** An RFC 3464 report as Postfix writes one. */
function dsn(verp: string, recipient: string, status: string, action: 'failed' | 'delayed', diagnostic: string): string {
  return [
    'From: MAILER-DAEMON@mta.example.net (Mail Delivery System)',
    `To: ${verp}`,
    'Subject: Undelivered Mail Returned to Sender',
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="B1"',
    '',
    '--B1',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'I am sorry to have to inform you that your message could not be delivered.',
    '',
    '--B1',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mta.example.net',
    'Arrival-Date: Mon, 23 Nov 2026 10:00:01 +0000',
    '',
    `Final-Recipient: rfc822; ${recipient}`,
    `Original-Recipient: rfc822;${recipient}`,
    `Action: ${action}`,
    `Status: ${status}`,
    'Remote-MTA: dns; mx.example.org',
    `Diagnostic-Code: smtp; ${diagnostic}`,
    '',
    '--B1',
    'Content-Type: text/rfc822-headers',
    '',
    `To: ${recipient}`,
    'Subject: your digest',
    '',
    '--B1--',
    '',
  ].join('\r\n');
}

/** An RFC 5965 feedback report with the original message's headers, as a mailbox provider's loop sends it. */
function arf(originalHeaders: string, recipient: string): string {
  return [
    'From: feedbackloop@isp.example',
    'To: abuse@paperboy.test',
    'Subject: FW: complaint',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=feedback-report; boundary="F1"',
    '',
    '--F1',
    'Content-Type: text/plain',
    '',
    'This is an email abuse report.',
    '',
    '--F1',
    'Content-Type: message/feedback-report',
    '',
    'Feedback-Type: abuse',
    'User-Agent: ISP-FBL/1.0',
    'Version: 1',
    `Original-Rcpt-To: ${recipient}`,
    '',
    '--F1',
    'Content-Type: message/rfc822',
    '',
    originalHeaders.trimEnd(),
    '',
    'body not included',
    '',
    '--F1--',
    '',
  ].join('\r\n');
}

describe('bounces and complaints come back and are acted on', () => {
  const dir = tempDir();
  let smtp: SmtpReceiver;
  let run: RunningService;
  let inbound: number;
  const clock = new FakeClock(new Date('2026-11-23T10:00:00Z'));
  const statusOf = (email: string) => (run.app.store.db.prepare('SELECT status FROM subscribers WHERE email = ?').get(email) as { status: string }).status;
  const bouncesOf = (email: string) =>
    run.app.store.db.prepare('SELECT severity, status, action, source, delivery_id, diagnostic FROM bounces WHERE email = ? ORDER BY id').all(email) as {
      severity: string;
      status: string | null;
      action: string | null;
      source: string;
      delivery_id: number | null;
      diagnostic: string | null;
    }[];
  const verpOf = (email: string) => smtp.received.find((m) => m.to.includes(email))!.from;

  beforeAll(async () => {
    smtp = await startSmtpReceiver();
    smtp.rcpt = (address) =>
      address === 'sync-gone@example.org'
        ? replies.userUnknown(address)
        : address === 'sync-policy@example.org'
          ? { code: 550, message: '5.7.1 Message rejected by policy' }
          : null;
    run = await startTestService(
      dir,
      {
        SMTP_URL: smtp.url,
        MAIL_DOMAIN: DOMAIN,
        MAIL_FROM: 'paperboy <digest@paperboy.test>',
        INBOUND_SMTP_ENABLED: 'true',
        INBOUND_SMTP_PORT: '0',
        ADMIN_TOKEN: TOKEN,
      },
      { clock },
    );
    inbound = run.service.inboundPort!;
    insertSubscribers(run.app.store, 6, (i) => ({
      email: ['gone', 'slow', 'angry', 'sync-gone', 'sync-policy', 'fine'].map((n) => `${n}@example.org`)[i - 1]!,
      digest_size: 3,
    }));
    const summary = await run.service.delivery.service.run({ trigger: 'cli', mode: 'force' });
    expect(summary.drained.sent).toBe(4);
  });
  afterAll(async () => {
    await run?.stop();
    await smtp?.close();
  });

  it('each digest goes out from its own signed VERP address, with a Feedback-ID', () => {
    expect(smtp.received).toHaveLength(4);
    const ids = new Set<string>();
    for (const m of smtp.received) {
      const match = VERP.exec(m.from);
      expect(match, m.from).not.toBeNull();
      ids.add(match![1]!);
      expect(m.raw.toString('latin1')).toMatch(/\r\nFeedback-ID: e\d+:daily-trending:digest:paperboy\r\n/);
    }
    expect(ids.size).toBe(4);
  });

  it('a 5xx at RCPT is a bounce too: 5.1.1 suppresses, a 5.7.1 policy refusal is counted as soft', () => {
    expect(statusOf('sync-gone@example.org')).toBe('bounced');
    expect(bouncesOf('sync-gone@example.org')).toMatchObject([{ severity: 'hard', status: '5.1.1', source: 'smtp' }]);
    expect(statusOf('sync-policy@example.org')).toBe('active');
    expect(bouncesOf('sync-policy@example.org')).toMatchObject([{ severity: 'soft', status: '5.7.1', source: 'smtp' }]);
  });

  it('a DSN for a permanent failure, null sender, suppresses the subscriber its VERP token names', async () => {
    const verp = verpOf('gone@example.org');
    const reply = await deliver(
      inbound,
      verp,
      dsn(verp, 'gone@example.org', '5.1.1', 'failed', '550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown in virtual mailbox table'),
    );
    expect(reply).toMatch(/^250/);
    expect(statusOf('gone@example.org')).toBe('bounced');
    const [b] = bouncesOf('gone@example.org');
    expect(b).toMatchObject({ severity: 'hard', status: '5.1.1', action: 'failed', source: 'dsn', delivery_id: Number(VERP.exec(verp)![1]) });
    expect(b!.diagnostic).toContain('User unknown in virtual mailbox table');
  });

  it('a delayed DSN counts a soft bounce and leaves the address active; a forged token counts nothing', async () => {
    const verp = verpOf('slow@example.org');
    await deliver(inbound, verp, dsn(verp, 'slow@example.org', '4.4.1', 'delayed', '451 4.4.1 connection timed out'));
    expect(statusOf('slow@example.org')).toBe('active');
    expect(bouncesOf('slow@example.org')).toMatchObject([{ severity: 'soft', status: '4.4.1', action: 'delayed', source: 'dsn' }]);
    // The same report for the other subscriber's delivery id, with a MAC that does not verify.
    const forged = verpOf('fine@example.org').replace(/-[0-9a-f]{28}@/, `-${'0'.repeat(28)}@`);
    expect(await deliver(inbound, forged, dsn(forged, 'fine@example.org', '5.1.1', 'failed', '550 5.1.1 no such user'))).toMatch(/^250/);
    expect(statusOf('fine@example.org')).toBe('active');
    expect(bouncesOf('fine@example.org')).toEqual([]);
  });

  it('soft bounces suppress once SOFT_BOUNCE_LIMIT of them (3) come within the window; one message counts once', () => {
    const store = run.app.store;
    const config = run.app.config;
    const id = (store.db.prepare('SELECT id FROM subscribers WHERE email = ?').get('slow@example.org') as { id: number }).id;
    const fact = {
      subscriberId: id,
      editionId: null,
      email: 'slow@example.org',
      severity: 'soft' as const,
      status: '4.2.2',
      action: 'failed',
      diagnostic: 'mailbox full',
      source: 'dsn' as const,
    };
    const first = bouncesOf('slow@example.org')[0]!.delivery_id!;
    // Another report for the delivery already counted: still one.
    expect(recordBounce(store, config, { ...fact, deliveryId: first }, clock.now())).toBe(false);
    // One 31 days old is outside the window.
    expect(recordBounce(store, config, { ...fact, deliveryId: null }, new Date(clock.now().getTime() - 31 * 86_400_000))).toBe(false);
    expect(recordBounce(store, config, { ...fact, deliveryId: null }, clock.now())).toBe(false);
    expect(statusOf('slow@example.org')).toBe('active');
    expect(recordBounce(store, config, { ...fact, deliveryId: null }, clock.now())).toBe(true);
    expect(statusOf('slow@example.org')).toBe('bounced');
  });

  it('an ARF complaint unsubscribes the subscriber named by the original List-Unsubscribe token', async () => {
    const original = smtp.received.find((m) => m.to.includes('angry@example.org'))!.raw.toString('latin1');
    const headers = original.slice(0, original.indexOf('\r\n\r\n') + 2);
    expect(headers).toContain('List-Unsubscribe:');
    expect(await deliver(inbound, 'abuse@paperboy.test', arf(headers, 'angry@example.org'))).toMatch(/^250/);
    expect(statusOf('angry@example.org')).toBe('unsubscribed');
    const c = run.app.store.db.prepare('SELECT feedback_type, edition_id, delivery_id FROM complaints').all() as {
      feedback_type: string;
      edition_id: number;
    }[];
    expect(c).toHaveLength(1);
    expect(c[0]).toMatchObject({ feedback_type: 'abuse' });
    expect(c[0]!.edition_id).toBeGreaterThan(0);
  });

  it('a report naming a Message-ID of ours but another recipient, without a token, unsubscribes nobody', async () => {
    const original = smtp.received.find((m) => m.to.includes('fine@example.org'))!;
    const headers = `Message-ID: ${original.messageId}\r\nTo: fine@example.org\r\nSubject: x\r\n`;
    await deliver(inbound, 'abuse@paperboy.test', arf(headers, 'someone-else@example.org'));
    expect(statusOf('fine@example.org')).toBe('active');
  });

  it('the dashboard lists the bounces and the complaint rate of the edition', async () => {
    const res = await fetch(`${run.base}/admin`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('Bounces and complaints by edition');
    expect(html).toContain('User unknown in virtual mailbox table');
    expect(html).toContain('5.7.1');
    // 1 complaint over 4 sent.
    expect(html).toMatch(/<td[^>]* class="num bad">25\.00%<\/td>/);
  });

  it('the next edition goes to nobody who bounced or complained', async () => {
    smtp.received.length = 0;
    clock.advance(86_400_000);
    await run.service.delivery.service.run({ trigger: 'cli', mode: 'force' });
    expect(smtp.received.flatMap((m) => m.to)).toEqual(['fine@example.org']);
    // Still active, refused again: a second soft bounce, one short of the limit.
    expect(statusOf('sync-policy@example.org')).toBe('active');
    expect(bouncesOf('sync-policy@example.org')).toHaveLength(2);
  });
});
