// The Postfix relay helper end to end: a real Postfix relays one message to smtp-sink, bounces the refused one, and
// delivers its own DSN with the null sender to the VERP address's listener; nothing of it outlives stop().
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import nodemailer from 'nodemailer';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { startPostfixRelay, type PostfixRelay } from '../helpers/postfix-relay.js';

const VERP = 'bounces+abc123@bounce.test';
const GOOD = 'reader@example.test';
const GONE = 'gone@example.test';

interface Captured {
  mailFrom: string;
  rcptTo: string[];
  raw: Buffer;
}

describe('Postfix relay helper', () => {
  let relay: PostfixRelay;
  let inbound: SMTPServer;
  let inboundPort = 0;
  const captured: Captured[] = [];

  beforeAll(async () => {
    // paperboy's inbound listener in the real test; here a bare smtp-server recording the envelope as sent.
    inbound = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream, session, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const from = session.envelope.mailFrom;
          captured.push({
            mailFrom: from === false ? '(none)' : from.address,
            rcptTo: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks),
          });
          cb();
        });
      },
    });
    await new Promise<void>((resolve) => inbound.listen(0, '127.0.0.1', resolve));
    inboundPort = (inbound.server.address() as AddressInfo).port;
    relay = await startPostfixRelay({ rejectAddress: GONE, bounceDomain: 'bounce.test', bounceTo: { host: '127.0.0.1', port: inboundPort } });
  });

  afterAll(async () => {
    await relay?.stop();
    await new Promise<void>((resolve) => (inbound ? inbound.close(() => resolve()) : resolve()));
  });

  it('relays to the sink, bounces the refused address, and delivers the DSN to the VERP address with MAIL FROM:<>', async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: relay.port, ignoreTLS: true });
    for (const to of [GOOD, GONE]) {
      const info = await transport.sendMail({
        envelope: { from: VERP, to: [to] },
        from: 'Paperboy <digest@paperboy.test>',
        to,
        subject: `digest for ${to}`,
        text: 'ten papers',
      });
      // Postfix's smtpd took both: the refusal comes later, from downstream, as a DSN.
      expect(info.response, relay.log()).toMatch(/^250 /);
    }
    transport.close();

    const [delivered] = await relay.sink.waitFor(1, 15_000);
    expect(delivered!.from).toBe(VERP);
    expect(delivered!.to).toEqual([GOOD]);
    expect(delivered!.raw.toString()).toContain(`Subject: digest for ${GOOD}`);

    const until = Date.now() + 15_000;
    while (captured.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(captured, `no DSN reached the inbound listener\n${relay.log()}`).toHaveLength(1);
    const dsn = captured[0]!;
    expect(dsn.mailFrom).toBe('');
    expect(dsn.rcptTo).toEqual([VERP]);
    const text = dsn.raw.toString('latin1');
    expect(text).toMatch(/^Content-Type: multipart\/report; report-type=delivery-status;/im);
    expect(text).toMatch(/^Status: 5\.1\.1$/m);
    expect(text).toMatch(new RegExp(`^Final-Recipient: rfc822; ${GONE}$`, 'm'));
    expect(text).toMatch(/^Action: failed$/m);
    // Postfix folds the long Diagnostic-Code line; unfolded it is the sink's reply, verbatim.
    expect(text.replace(/\r?\n[ \t]+/g, ' ')).toContain(`Diagnostic-Code: smtp; ${relay.rejectSink.reply}`);
    const parsed = await simpleParser(dsn.raw);
    expect(parsed.to && !Array.isArray(parsed.to) ? parsed.to.text : '').toBe(VERP);
    // Only the good message reached the accepting sink: the refused one was not relayed there too.
    expect(relay.sink.messages()).toHaveLength(1);
  });

  it('leaves no process and no directory behind after stop()', async () => {
    const before = relay.pids();
    // master, qmgr, pickup-free set of daemons, and the two sinks at least.
    expect(before.length).toBeGreaterThanOrEqual(4);
    const dir = relay.dir;
    await relay.stop();
    expect(relay.pids()).toEqual([]);
    // ps as a second witness: none of the pids seen before is a live process now (a zombie awaiting its reaper is not).
    const ps = execFileSync('ps', ['-eo', 'pid=,stat='], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter(([pid, stat]) => pid && before.includes(Number(pid)) && !stat!.startsWith('Z'));
    expect(ps).toEqual([]);
    expect(existsSync(dir)).toBe(false);
    expect(relay.log()).toMatch(/postfix\/master\[\d+\]: daemon started/);
  });
});
