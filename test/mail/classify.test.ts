// Error classification on the errors nodemailer really produces against a real smtp-server and dead sockets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { classifySendError, enhancedCodeOf, resultOfInfo } from '../../src/mail/classify.js';
import { SendError } from '../../src/mail/messenger.js';
import { startSmtpReceiver, type SmtpReceiver } from '../helpers/smtp-receiver.js';

let server: SmtpReceiver;
beforeAll(async () => {
  server = await startSmtpReceiver();
});
afterAll(async () => {
  await server.close();
});

const mail = { from: 'a@paperboy.test', to: 'r@example.org', subject: 's', text: 't' };

/** The raw nodemailer error for one send to `port`, or null when it went through. */
async function rawError(port: number, extra: Record<string, unknown> = {}, to: string | string[] = mail.to): Promise<unknown> {
  const t = nodemailer.createTransport({ host: '127.0.0.1', port, ...extra });
  try {
    await t.sendMail({ ...mail, to });
    return null;
  } catch (err) {
    return err;
  } finally {
    t.close();
  }
}

async function listen(onConnection: (s: import('node:net').Socket) => void): Promise<Server> {
  const s = createServer(onConnection);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return s;
}

describe('classifySendError on real failures', () => {
  it('4xx on RCPT: temporary, codes kept', async () => {
    server.rcpt = () => ({ code: 450, message: '4.2.1 mailbox busy' });
    const e = classifySendError(await rawError(server.port));
    expect([e.failure, e.responseCode, e.enhancedCode, e.hardBounce]).toEqual(['temporary', 450, '4.2.1', false]);
    server.rcpt = () => null;
  });

  it('550 5.1.1 on RCPT: permanent hard bounce', async () => {
    server.rcpt = (a) => ({ code: 550, message: `5.1.1 <${a}>: Recipient address rejected` });
    const e = classifySendError(await rawError(server.port));
    expect([e.failure, e.responseCode, e.enhancedCode, e.hardBounce]).toEqual(['permanent', 550, '5.1.1', true]);
    expect(e.response).toBe('550 5.1.1 <r@example.org>: Recipient address rejected');
    server.rcpt = () => null;
  });

  it('a 5xx with no enhanced code is permanent but not a hard bounce', async () => {
    server.data = () => ({ code: 552, message: 'too big for this mailbox' });
    const e = classifySendError(await rawError(server.port));
    expect([e.failure, e.responseCode, e.enhancedCode, e.hardBounce]).toEqual(['permanent', 552, undefined, false]);
    server.data = () => 'accept';
  });

  it('connection dropped after DATA: temporary', async () => {
    server.data = () => 'drop';
    const e = classifySendError(await rawError(server.port));
    expect(e.failure).toBe('temporary');
    expect(e.code).toBe('ECONNECTION');
    server.data = () => 'accept';
  });

  it('connection refused: temporary', async () => {
    const s = await listen(() => {});
    const port = (s.address() as AddressInfo).port;
    await new Promise((r) => s.close(r));
    const e = classifySendError(await rawError(port));
    expect(e.failure).toBe('temporary');
    expect(e.code).toBe('ECONNREFUSED');
  });

  it('connection reset: temporary', async () => {
    const s = await listen((sock) => sock.resetAndDestroy());
    const e = classifySendError(await rawError((s.address() as AddressInfo).port));
    s.close();
    expect(e.failure).toBe('temporary');
  });

  it('greeting never came: temporary', async () => {
    const held: import('node:net').Socket[] = [];
    const s = await listen((sock) => held.push(sock));
    const e = classifySendError(await rawError((s.address() as AddressInfo).port, { greetingTimeout: 200 }));
    for (const h of held) h.destroy();
    s.close();
    expect(e.failure).toBe('temporary');
    expect(e.code).toBe('ETIMEDOUT');
    expect(e.message).toMatch(/greeting/i);
  });

  it('a partial reject after a successful send is reported per recipient', async () => {
    server.rcpt = (a) => (a.startsWith('gone') ? { code: 550, message: '5.1.1 no such user' } : null);
    const t = nodemailer.createTransport({ host: '127.0.0.1', port: server.port });
    const info = await t.sendMail({ ...mail, to: ['ok@example.org', 'gone@example.org'] });
    t.close();
    const result = resultOfInfo(info, '<m@x>');
    expect(result.accepted).toEqual(['ok@example.org']);
    expect(result.rejected).toEqual(['gone@example.org']);
    expect(result.rejectedErrors).toHaveLength(1);
    expect(result.rejectedErrors![0]!.recipient).toBe('gone@example.org');
    expect(result.rejectedErrors![0]!.error.hardBounce).toBe(true);
    server.rcpt = () => null;
  });
});

describe('classification rules', () => {
  it('reads enhanced codes, also on a multi-line reply, and ignores look-alikes', () => {
    expect(enhancedCodeOf('550 5.1.1 <x>: Recipient address rejected')).toBe('5.1.1');
    expect(enhancedCodeOf('550-5.7.26 Unauthenticated email\r\n550 5.7.26 is not accepted')).toBe('5.7.26');
    expect(enhancedCodeOf('451 4.7.1 Greylisted')).toBe('4.7.1');
    expect(enhancedCodeOf('550 Requested action not taken: version 5.1.1 of nothing')).toBeUndefined();
    expect(enhancedCodeOf(undefined)).toBeUndefined();
  });

  it('503 is retried; a locally refused message is not; SendError passes through', () => {
    expect(classifySendError({ message: 'x', responseCode: 503, response: '503 5.5.1 bad sequence' }).failure).toBe('temporary');
    expect(classifySendError({ message: 'No recipients defined', code: 'EENVELOPE' }).failure).toBe('permanent');
    expect(classifySendError({ message: 'Invalid login', code: 'EAUTH', responseCode: undefined }).failure).toBe('temporary');
    const already = new SendError('x', 'permanent', 550, '5.1.1');
    expect(classifySendError(already)).toBe(already);
  });

  it('a send that reached nobody throws, preferring a temporary refusal', () => {
    const info = {
      accepted: [],
      rejected: ['a@x', 'b@x'],
      rejectedErrors: [
        { message: 'r', recipient: 'a@x', responseCode: 550, response: '550 5.1.1 gone' },
        { message: 'r', recipient: 'b@x', responseCode: 451, response: '451 4.3.0 later' },
      ],
    };
    expect(() => resultOfInfo(info, '<m@x>')).toThrow(SendError);
    try {
      resultOfInfo(info, '<m@x>');
    } catch (e) {
      expect((e as SendError).failure).toBe('temporary');
      expect((e as SendError).enhancedCode).toBe('4.3.0');
    }
  });
});
