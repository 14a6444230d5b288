// The pooled SMTP messenger against a real smtp-server: messages arrive intact, failures are classified.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { SendError, type Messenger, type RawMessage } from '../../src/mail/messenger.js';
import { createSmtpMessenger } from '../../src/mail/smtp-messenger.js';
import { startSmtpReceiver, type SmtpReceiver } from '../helpers/smtp-receiver.js';
import { verifyDkim } from './dkim-verify.js';

let server: SmtpReceiver;
let messenger: Messenger;

function config(extra: Record<string, string> = {}) {
  return loadConfig({ SMTP_URL: server.url, SMTP_POOL_SIZE: '2', MAIL_FROM: 'paperboy <digest@paperboy.test>', ...extra });
}

async function failureOf(p: Promise<unknown>): Promise<SendError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SendError);
  return err as SendError;
}

beforeAll(async () => {
  server = await startSmtpReceiver();
  messenger = createSmtpMessenger(config(), silentLogger);
});
afterAll(async () => {
  await messenger.close();
  await server.close();
});
beforeEach(() => {
  server.received.length = 0;
  server.rcpt = () => null;
  server.data = () => 'accept';
});

describe('smtp messenger', () => {
  it('sends a message composed from parts, intact', async () => {
    const result = await messenger.send({
      to: 'reader@example.org',
      subject: 'Today in papers: Schrödinger & friends',
      html: '<p>Hello <b>reader</b></p>',
      text: 'Hello reader',
      headers: { 'List-Unsubscribe': '<https://p.test/u/abc>, <mailto:unsubscribe+abc@p.test>', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
      messageId: '<d1.e2@paperboy.test>',
    });
    expect(result.accepted).toEqual(['reader@example.org']);
    expect(result.rejected).toEqual([]);
    expect(result.response).toMatch(/^250 /);
    expect(result.messageId).toBe('<d1.e2@paperboy.test>');
    expect(server.received).toHaveLength(1);
    expect(server.received[0]!.from).toBe('digest@paperboy.test');
    expect(server.received[0]!.to).toEqual(['reader@example.org']);
    const mail = await server.parsed(0);
    expect(mail.subject).toBe('Today in papers: Schrödinger & friends');
    expect(mail.html).toContain('<p>Hello <b>reader</b></p>');
    expect(mail.text?.trim()).toBe('Hello reader');
    expect(mail.messageId).toBe('<d1.e2@paperboy.test>');
    expect(mail.headerLines.find((l) => l.key === 'list-unsubscribe-post')?.line).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    const raw = server.received[0]!.raw.toString('latin1');
    expect(raw).toMatch(/^List-Unsubscribe: <https:\/\/p\.test\/u\/abc>, <mailto:unsubscribe\+abc@p\.test>\r$/m);
  });

  it('cannot be made to add a header through the subject or a header value', async () => {
    await messenger.send({
      to: 'reader@example.org',
      subject: 'Hi\r\nBcc: evil@example.com',
      html: '<p>x</p>',
      text: 'x',
      headers: { 'List-Id': 'papers\r\nBcc: evil@example.com', 'X-Evil\r\nBcc': 'evil@example.com' },
    });
    const raw = server.received[0]!.raw.toString('latin1');
    expect(raw).not.toMatch(/^Bcc:/im);
    expect(raw).toMatch(/^List-ID: papers Bcc: evil@example\.com\r$/m);
    expect(server.received[0]!.to).toEqual(['reader@example.org']);
  });

  it('refuses smuggled envelope addresses and extra recipients before talking to the server', async () => {
    const bad = [
      messenger.sendRaw({
        envelope: { from: 'b@paperboy.test', to: ['x@example.org\r\nRCPT TO:<evil@example.com>'] },
        raw: 'Subject: x\r\n\r\nx',
        messageId: '<i1@x>',
      }),
      messenger.sendRaw({
        envelope: { from: 'b@paperboy.test', to: ['x@example.org>\r\nRCPT TO:<evil@example.com'] },
        raw: 'Subject: x\r\n\r\nx',
        messageId: '<i2@x>',
      }),
      messenger.sendRaw({ envelope: { from: 'b@p.test> SIZE=1', to: ['x@example.org'] }, raw: 'Subject: x\r\n\r\nx', messageId: '<i3@x>' }),
      messenger.send({ to: 'x@example.org, evil@example.com', subject: 's', html: 'h', text: 't' }),
      messenger.send({ to: 'Eve <x@example.org>\r\nBcc: evil@example.com', subject: 's', html: 'h', text: 't' }),
    ];
    for (const p of bad) {
      const err = await failureOf(p);
      expect(err.failure).toBe('permanent');
    }
    expect(server.received).toHaveLength(0);
    // a display name is fine
    await messenger.send({ to: '"Ada, Countess" <ada@example.org>', subject: 's', html: 'h', text: 't' });
    expect(server.received[0]!.to).toEqual(['ada@example.org']);
  });

  it('sends a prebuilt raw message byte for byte, to the envelope recipients', async () => {
    const raw =
      'From: paperboy <digest@paperboy.test>\r\nTo: someone@example.org\r\nSubject: raw one\r\n' +
      'Message-ID: <raw.1@paperboy.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n' +
      'line one\r\n.starts with a dot\r\n';
    const result = await messenger.sendRaw({
      envelope: { from: 'bounces@paperboy.test', to: ['someone@example.org'] },
      raw: Buffer.from(raw),
      messageId: '<raw.1@paperboy.test>',
    });
    expect(result.accepted).toEqual(['someone@example.org']);
    expect(result.messageId).toBe('<raw.1@paperboy.test>');
    expect(server.received[0]!.from).toBe('bounces@paperboy.test');
    expect(server.received[0]!.raw.toString()).toBe(raw);
    const mail = await server.parsed(0);
    expect(mail.subject).toBe('raw one');
    expect(mail.text).toContain('.starts with a dot');
  });

  it('undoes up-front dot-stuffing (RawMessage.dotStuffed) so lines are not doubled on the wire', async () => {
    const plain = 'Subject: dots\r\n\r\n.one dot\r\n..two dots\r\nno dot\r\n';
    const stuffed = 'Subject: dots\r\n\r\n..one dot\r\n...two dots\r\nno dot\r\n';
    await messenger.sendRaw({ envelope: { from: 'b@paperboy.test', to: ['r@example.org'] }, raw: stuffed, messageId: '<d@x>', dotStuffed: true } as RawMessage);
    expect(server.received[0]!.raw.toString()).toBe(plain);
  });

  it('keeps to SMTP_POOL_SIZE connections and reuses them', async () => {
    const pooled = createSmtpMessenger(config({ SMTP_POOL_SIZE: '3' }), silentLogger);
    const before = server.connections.total;
    const sends = Array.from({ length: 30 }, (_, i) => pooled.send({ to: `r${i}@example.org`, subject: `m${i}`, html: 'h', text: 't' }));
    await Promise.all(sends);
    await pooled.close();
    expect(server.received).toHaveLength(30);
    // 30 messages over at most 3 connections: pooled, capped, reused
    const opened = server.connections.total - before;
    expect(opened).toBeGreaterThanOrEqual(1);
    expect(opened).toBeLessThanOrEqual(3);
  });

  it('reports 451 on the recipient as temporary with its codes', async () => {
    server.rcpt = () => ({ code: 451, message: '4.3.0 <x>: try again later' });
    const err = await failureOf(messenger.send({ to: 'x@example.org', subject: 's', html: 'h', text: 't' }));
    expect(err.failure).toBe('temporary');
    expect(err.responseCode).toBe(451);
    expect(err.enhancedCode).toBe('4.3.0');
    expect(err.hardBounce).toBe(false);
  });

  it('reports 550 5.1.1 as a permanent hard bounce', async () => {
    server.rcpt = (a) => ({ code: 550, message: `5.1.1 <${a}>: Recipient address rejected` });
    const err = await failureOf(
      messenger.sendRaw({ envelope: { from: 'b@paperboy.test', to: ['gone@example.org'] }, raw: 'Subject: x\r\n\r\nx\r\n', messageId: '<m@x>' }),
    );
    expect(err.failure).toBe('permanent');
    expect(err.responseCode).toBe(550);
    expect(err.enhancedCode).toBe('5.1.1');
    expect(err.hardBounce).toBe(true);
    expect(err.response).toContain('Recipient address rejected');
  });

  it('reports a 554 after DATA as permanent but not a hard bounce', async () => {
    server.data = () => ({ code: 554, message: '5.7.1 message refused as spam' });
    const err = await failureOf(messenger.send({ to: 'x@example.org', subject: 's', html: 'h', text: 't' }));
    expect(err.failure).toBe('permanent');
    expect(err.enhancedCode).toBe('5.7.1');
    expect(err.hardBounce).toBe(false);
  });

  it('reports a connection dropped after DATA as temporary, and does not resend on its own', async () => {
    server.data = () => 'drop';
    const err = await failureOf(messenger.send({ to: 'x@example.org', subject: 's', html: 'h', text: 't' }));
    expect(err.failure).toBe('temporary');
    expect(err.responseCode).toBeUndefined();
    // the pool's own requeue is off: nothing was delivered twice behind the caller's back
    server.data = () => 'accept';
    await messenger.send({ to: 'y@example.org', subject: 'after', html: 'h', text: 't' });
    expect(server.received.map((r) => r.to[0])).toEqual(['y@example.org']);
  });

  it('reports a partially rejected multi-recipient send in the result', async () => {
    server.rcpt = (a) =>
      a.startsWith('gone')
        ? { code: 550, message: `5.1.1 <${a}>: Recipient address rejected` }
        : a.startsWith('full')
          ? { code: 452, message: '4.2.2 mailbox full' }
          : null;
    const result = await messenger.sendRaw({
      envelope: { from: 'b@paperboy.test', to: ['ok@example.org', 'gone@example.org', 'full@example.org'] },
      raw: 'Subject: many\r\n\r\nbody\r\n',
      messageId: '<many@x>',
    });
    expect(result.accepted).toEqual(['ok@example.org']);
    expect(result.rejected).toEqual(['gone@example.org', 'full@example.org']);
    const byRecipient = new Map(result.rejectedErrors!.map((r) => [r.recipient, r.error]));
    expect(byRecipient.get('gone@example.org')!.hardBounce).toBe(true);
    expect(byRecipient.get('full@example.org')!.failure).toBe('temporary');
    expect(byRecipient.get('full@example.org')!.enhancedCode).toBe('4.2.2');
    expect(server.received[0]!.to).toEqual(['ok@example.org']);
  });

  it('signs composed mail with DKIM over both List-Unsubscribe headers, and sends raw bytes as given (signed by their builder)', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pemKey = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const signed = createSmtpMessenger(
      config({ DKIM_DOMAIN: 'paperboy.test', DKIM_SELECTOR: 'pb1', DKIM_PRIVATE_KEY: pemKey.replace(/\n/g, '\\n') }),
      silentLogger,
    );
    try {
      const headers = {
        'List-Unsubscribe': '<https://p.test/u/t>',
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
        'List-Id': 'papers <daily.paperboy.test>',
      };
      await signed.send({ to: 'r@example.org', subject: 'signed', html: '<p>x</p>', text: 'x', headers });
      const raw =
        'From: paperboy <digest@paperboy.test>\r\nTo: r@example.org\r\nSubject: raw signed\r\n' +
        Object.entries(headers)
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('') +
        '\r\nbody\r\n';
      await signed.sendRaw({ envelope: { from: 'b@paperboy.test', to: ['r@example.org'] }, raw, messageId: '<rs@x>' });
      expect(server.received).toHaveLength(2);
      // Raw bytes are not signed again: a digest comes signed from src/delivery/mime.ts, and two signatures would differ.
      expect(server.received[1]!.raw.toString('latin1')).not.toMatch(/^DKIM-Signature:/im);
      for (const received of server.received.slice(0, 1)) {
        const check = verifyDkim(received.raw.toString('latin1'), publicKey);
        expect(check.ok, 'signature verifies with the public key').toBe(true);
        expect(check.bodyHashOk, 'body hash matches').toBe(true);
        expect([check.domain, check.selector]).toEqual(['paperboy.test', 'pb1']);
        expect(check.signedHeaders).toEqual(expect.arrayContaining(['from', 'subject', 'list-unsubscribe', 'list-unsubscribe-post', 'list-id']));
        // and a tampered List-Unsubscribe-Post no longer verifies: the header really is under the signature
        const tampered = received.raw.toString('latin1').replace('List-Unsubscribe=One-Click', 'List-Unsubscribe=Two-Click');
        expect(verifyDkim(tampered, publicKey).ok).toBe(false);
      }
    } finally {
      await signed.close();
    }
  });
});
