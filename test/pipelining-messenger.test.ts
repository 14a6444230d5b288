// Tests the pipelining SMTP messenger against a real smtp-server: bytes, pipelining, errors, AUTH and TLS.
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { createHash, generateKeyPairSync, verify } from 'node:crypto';
import type { SMTPServerOptions } from 'smtp-server';
import { simpleParser } from 'mailparser';
import { PipeliningMessenger, pipeliningMessengerFromConfig } from '../src/mail/pipelining-messenger.js';
import { loadConfig } from '../src/config.js';
import { SendError, type SendResult } from '../src/mail/messenger.js';
import { dotStuff } from '../src/mail/smtp-wire.js';
import { startSmtpReceiver, type Reply } from './helpers/smtp-receiver.js';

const key = readFileSync(new URL('./fixtures/smtp-test.key', import.meta.url));
const cert = readFileSync(new URL('./fixtures/smtp-test.crt', import.meta.url));

function reply(code: number, message: string): Reply {
  return { code, message };
}

/**
 * A receiving server that answers by address and subject: RCPT bounce@ -> 550 5.1.1, later@ -> 451, closing@ -> 421;
 * Subject DROP -> connection dropped after DATA, REJECT -> 554 5.7.1, TEMPFAIL -> 451 4.3.0, else 250.
 * STARTTLS and AUTH stay on (with the test certificate) for the TLS and AUTH tests.
 */
async function startServer(options: Partial<SMTPServerOptions> = {}) {
  const server = await startSmtpReceiver({ server: { key, cert, disabledCommands: [], ...options } });
  server.rcpt = (address) => {
    if (address.startsWith('bounce@')) return reply(550, `5.1.1 <${address}>: Recipient address rejected: User unknown`);
    if (address.startsWith('later@')) return reply(451, '4.3.0 Try again later');
    // smtp-server closes the connection after a 421, as a server going away does.
    if (address.startsWith('closing@')) return reply(421, '4.7.0 Busy, closing');
    return null;
  };
  server.data = (m) => {
    if (m.subject.includes('DROP')) return 'drop';
    if (m.subject.includes('REJECT')) return reply(554, '5.7.1 Message content rejected');
    if (m.subject.includes('TEMPFAIL')) return reply(451, '4.3.0 Temporary local problem');
    return 'accept';
  };
  return server;
}

/** A TCP relay that records what the client writes in each chunk, to see commands travel together. */
async function startRecorder(targetPort: number) {
  const chunks: string[] = [];
  const sockets = new Set<net.Socket>();
  const proxy = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('data', (c: Buffer) => {
      chunks.push(c.toString('latin1'));
      upstream.write(c);
    });
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    port: (proxy.address() as net.AddressInfo).port,
    chunks,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function setup(
  serverOpts: Partial<SMTPServerOptions>,
  url: (port: number) => string,
  extra: Partial<ConstructorParameters<typeof PipeliningMessenger>[0]> = {},
) {
  const server = await startServer(serverOpts);
  cleanups.push(server.close);
  const messenger = new PipeliningMessenger({ url: url(server.port), poolSize: 2, timeoutMs: 5000, ...extra });
  cleanups.push(() => messenger.close());
  return { server, messenger };
}

/** A message whose body is full of what SMTP transparency breaks: leading dots, bare LF, long lines, UTF-8. */
function tricky(i: number, subject = `Digest ${i}`): Buffer {
  const long = 'L'.repeat(1500);
  return Buffer.from(
    [
      `From: paperboy <digest@example.org>`,
      `To: reader${i}@example.org`,
      `Subject: ${subject}`,
      `Message-ID: <m${i}@example.org>`,
      `MIME-Version: 1.0`,
      `Content-Type: text/plain; charset=utf-8`,
      `Content-Transfer-Encoding: 8bit`,
      ``,
      `.leading dot ${i}`,
      `..two dots`,
      `.`,
      `Schrödinger équation 量子 ✓`,
      long,
      `bare-lf-line\nnext line`,
      `last line without newline`,
    ].join('\r\n'),
    'utf8',
  );
}

function expectedText(i: number): string {
  return [
    `.leading dot ${i}`,
    `..two dots`,
    `.`,
    `Schrödinger équation 量子 ✓`,
    'L'.repeat(1500),
    `bare-lf-line`,
    `next line`,
    `last line without newline`,
  ].join('\n');
}

async function raw(m: PipeliningMessenger, i: number, to: string[], opts: { subject?: string; stuffed?: boolean } = {}): Promise<SendResult> {
  const body = tricky(i, opts.subject);
  return m.sendRaw({
    envelope: { from: 'bounces@example.org', to },
    raw: opts.stuffed ? dotStuff(body) : body,
    messageId: `<m${i}@example.org>`,
    dotStuffed: opts.stuffed,
  });
}

async function rejection(p: Promise<unknown>): Promise<SendError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(SendError);
    return err as SendError;
  }
  throw new Error('expected the send to fail');
}

describe.each([
  { label: 'with PIPELINING', hidePIPELINING: false },
  { label: 'without PIPELINING', hidePIPELINING: true },
])('PipeliningMessenger $label', ({ hidePIPELINING }) => {
  it('delivers many messages over at most poolSize connections with every byte intact', async () => {
    const { server, messenger } = await setup({ hidePIPELINING }, (p) => `smtp://127.0.0.1:${p}?starttls=never`);
    const results = await Promise.all(Array.from({ length: 24 }, (_, i) => raw(messenger, i, [`reader${i}@example.org`], { stuffed: i % 2 === 0 })));
    expect(results.map((r) => r.accepted)).toEqual(Array.from({ length: 24 }, (_, i) => [`reader${i}@example.org`]));
    expect(results[0]!.response).toMatch(/^250 .*Ok: queued/);
    expect(results[3]!.messageId).toBe('<m3@example.org>');
    expect(server.received).toHaveLength(24);
    expect(server.sessions.size).toBeLessThanOrEqual(2);
    for (const got of server.received) {
      const i = Number(/reader(\d+)@/.exec(got.to[0]!)![1]);
      expect(got.from).toBe('bounces@example.org');
      const mail = await simpleParser(got.raw);
      expect(mail.subject).toBe(`Digest ${i}`);
      expect(mail.messageId).toBe(`<m${i}@example.org>`);
      expect(mail.text?.replace(/\n$/, '')).toBe(expectedText(i));
    }
  });

  it('writes a stuffed message given as chunks in order, whatever the chunk boundaries', async () => {
    const { server, messenger } = await setup({ hidePIPELINING }, (p) => `smtp://127.0.0.1:${p}?starttls=never`);
    const cuts = [[1, 7, 300], [2, 40, 41, 2000], [5]];
    await Promise.all(
      cuts.map((at, i) => {
        // Without its final CRLF, so the messenger adds one; some cuts split a CRLF, one chunk is empty.
        const body = dotStuff(tricky(i)).subarray(0, -2);
        const chunks = [...at, body.length].map((end, k, all) => body.subarray(k === 0 ? 0 : all[k - 1]!, end));
        chunks.splice(1, 0, Buffer.alloc(0));
        return messenger.sendRaw({
          envelope: { from: 'bounces@example.org', to: [`reader${i}@example.org`] },
          raw: chunks,
          messageId: `<m${i}@example.org>`,
          dotStuffed: true,
        });
      }),
    );
    expect(server.received).toHaveLength(cuts.length);
    for (const got of server.received) {
      const i = Number(/reader(\d+)@/.exec(got.to[0]!)![1]);
      expect(got.raw.toString('utf8')).toBe(tricky(i).toString('utf8').replace(/\r?\n/g, '\r\n') + '\r\n');
      const mail = await simpleParser(got.raw);
      expect(mail.text?.replace(/\n$/, '')).toBe(expectedText(i));
    }
  });

  it('maps refusals: 550 5.1.1 is a permanent hard bounce, 451 temporary, partial rejects reported', async () => {
    const { server, messenger } = await setup({ hidePIPELINING }, (p) => `smtp://127.0.0.1:${p}?starttls=never`);
    const [bounce, later, partial, ok] = await Promise.allSettled([
      raw(messenger, 1, ['bounce@example.org']),
      raw(messenger, 2, ['later@example.org']),
      raw(messenger, 3, ['bounce@example.org', 'reader3@example.org']),
      raw(messenger, 4, ['reader4@example.org']),
    ]);
    const b = (bounce as PromiseRejectedResult).reason as SendError;
    expect(b).toBeInstanceOf(SendError);
    expect(b).toMatchObject({ failure: 'permanent', responseCode: 550, enhancedCode: '5.1.1' });
    expect(b.hardBounce).toBe(true);
    const l = (later as PromiseRejectedResult).reason as SendError;
    expect(l).toMatchObject({ failure: 'temporary', responseCode: 451, enhancedCode: '4.3.0' });
    expect(l.hardBounce).toBe(false);
    expect((partial as PromiseFulfilledResult<SendResult>).value).toMatchObject({ accepted: ['reader3@example.org'], rejected: ['bounce@example.org'] });
    expect((ok as PromiseFulfilledResult<SendResult>).value.accepted).toEqual(['reader4@example.org']);
    // The refused transactions were reset, so the messages after them went through on the same connections.
    expect(server.received.map((r) => r.to).sort()).toEqual([['reader3@example.org'], ['reader4@example.org']]);
  });

  it('reports a 421 (the server going away) as a temporary failure with its code and words, then sends on', async () => {
    const { server, messenger } = await setup({ hidePIPELINING }, (p) => `smtp://127.0.0.1:${p}?starttls=never`);
    const e = await rejection(raw(messenger, 1, ['closing@example.org']));
    expect(e).toMatchObject({ failure: 'temporary', responseCode: 421, enhancedCode: '4.7.0' });
    expect(e.response).toContain('Busy, closing');
    expect(e.hardBounce).toBe(false);
    expect((await raw(messenger, 2, ['reader2@example.org'])).accepted).toEqual(['reader2@example.org']);
    expect(server.received.map((r) => r.to)).toEqual([['reader2@example.org']]);
  });

  it('maps a refused message (554 permanent, 451 temporary) and a drop after DATA (temporary), then carries on', async () => {
    const { server, messenger } = await setup({ hidePIPELINING }, (p) => `smtp://127.0.0.1:${p}?starttls=never`, { poolSize: 1 });
    const reject = rejection(raw(messenger, 1, ['reader1@example.org'], { subject: 'REJECT me' }));
    const temp = rejection(raw(messenger, 2, ['reader2@example.org'], { subject: 'TEMPFAIL me' }));
    const r = await reject;
    expect(r).toMatchObject({ failure: 'permanent', responseCode: 554, enhancedCode: '5.7.1' });
    expect(r.hardBounce).toBe(false);
    expect(await temp).toMatchObject({ failure: 'temporary', responseCode: 451 });
    const dropped = await rejection(raw(messenger, 3, ['reader3@example.org'], { subject: 'DROP me' }));
    expect(dropped.failure).toBe('temporary');
    expect(dropped.responseCode).toBeUndefined();
    expect(dropped.message).toMatch(/after the message was sent/);
    // A fresh connection takes over.
    const after = await raw(messenger, 4, ['reader4@example.org']);
    expect(after.accepted).toEqual(['reader4@example.org']);
    expect(server.received.map((m) => m.to[0])).toEqual(['reader4@example.org']);
    expect(server.sessions.size).toBe(2);
  });
});

describe('PipeliningMessenger on the wire', () => {
  it('sends MAIL, RCPT and DATA in one write and the next envelope behind the previous body', async () => {
    const server = await startServer({});
    cleanups.push(server.close);
    const rec = await startRecorder(server.port);
    cleanups.push(rec.close);
    const messenger = new PipeliningMessenger({ url: `smtp://127.0.0.1:${rec.port}?starttls=never`, poolSize: 1, timeoutMs: 5000 });
    cleanups.push(() => messenger.close());
    await Promise.all(Array.from({ length: 5 }, (_, i) => raw(messenger, i, [`reader${i}@example.org`, `copy${i}@example.org`])));
    expect(server.received).toHaveLength(5);
    expect(
      rec.chunks.some((c) => /^MAIL FROM:<bounces@example\.org>\r\nRCPT TO:<reader\d@example\.org>\r\nRCPT TO:<copy\d@example\.org>\r\nDATA\r\n$/.test(c)),
    ).toBe(true);
    expect(
      rec.chunks.some((c) =>
        /\r\n\.\r\nMAIL FROM:<bounces@example\.org>\r\nRCPT TO:<reader\d@example\.org>\r\nRCPT TO:<copy\d@example\.org>\r\nDATA\r\n$/.test(c),
      ),
    ).toBe(true);
  });

  it('reconnects when the server dropped an idle connection', async () => {
    const { server, messenger } = await setup({}, (p) => `smtp://127.0.0.1:${p}?starttls=never`, { poolSize: 1 });
    await raw(messenger, 1, ['reader1@example.org']);
    server.dropAll();
    await new Promise((r) => setTimeout(r, 50));
    await raw(messenger, 2, ['reader2@example.org']);
    expect(server.received).toHaveLength(2);
    expect(new Set(server.received.map((m) => m.sessionId)).size).toBe(2);
  });

  it('closes an idle connection with QUIT and opens a new one for the next message', async () => {
    const { server, messenger } = await setup({}, (p) => `smtp://127.0.0.1:${p}?starttls=never`, { poolSize: 1, idleMs: 100 });
    await raw(messenger, 1, ['reader1@example.org']);
    await new Promise((r) => setTimeout(r, 400));
    await raw(messenger, 2, ['reader2@example.org']);
    expect(new Set(server.received.map((m) => m.sessionId)).size).toBe(2);
  });

  it('builds from config: SMTP_URL, SMTP_POOL_SIZE, MAIL_FROM', async () => {
    const server = await startServer({});
    cleanups.push(server.close);
    const config = loadConfig({ SMTP_URL: `smtp://127.0.0.1:${server.port}?starttls=never`, SMTP_POOL_SIZE: '3', MAIL_FROM: 'Digest <digest@example.org>' });
    const messenger = pipeliningMessengerFromConfig(config);
    cleanups.push(() => messenger.close());
    await messenger.send({ to: 'reader@example.org', subject: 'hi', html: '<p>hi</p>', text: 'hi' });
    expect(server.received[0]!.from).toBe('digest@example.org');
  });

  it('DKIM-signs composed mail over both List-Unsubscribe headers, and the signature verifies as received', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const server = await startServer({});
    cleanups.push(server.close);
    const pemKey = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const config = loadConfig({
      SMTP_URL: `smtp://127.0.0.1:${server.port}?starttls=never`,
      MAIL_FROM: 'paperboy <digest@example.org>',
      DKIM_DOMAIN: 'example.org',
      DKIM_SELECTOR: 'pb',
      DKIM_PRIVATE_KEY: pemKey.replace(/\n/g, '\\n'),
    });
    const messenger = pipeliningMessengerFromConfig(config);
    cleanups.push(() => messenger.close());
    await messenger.send({
      to: 'reader@example.org',
      subject: 'Signed',
      html: '<p>hi</p>',
      text: 'hi\n.dot line',
      headers: { 'List-Unsubscribe': '<https://example.org/u/1>', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
    });
    const raw = server.received[0]!.raw.toString('latin1');
    const [head, ...rest] = raw.split('\r\n\r\n');
    const body = rest.join('\r\n\r\n');
    const fields = head!.split(/\r\n(?![ \t])/);
    const sigField = fields.find((f) => /^dkim-signature:/i.test(f))!;
    const tags = new Map(
      sigField
        .slice(sigField.indexOf(':') + 1)
        .replace(/\s+/g, '')
        .split(';')
        .filter(Boolean)
        .map((t) => [t.slice(0, t.indexOf('=')), t.slice(t.indexOf('=') + 1)] as [string, string]),
    );
    const signed = tags.get('h')!.toLowerCase().split(':');
    expect(signed).toEqual(expect.arrayContaining(['list-unsubscribe', 'list-unsubscribe-post', 'from', 'subject']));
    expect(tags.get('c')).toBe('relaxed/relaxed');
    // Relaxed canonicalisation (RFC 6376 3.4.2, 3.4.4), then the body hash and the RSA signature.
    const canonBody =
      body
        .split('\r\n')
        .map((l) => l.replace(/[ \t]+/g, ' ').replace(/ $/, ''))
        .join('\r\n')
        .replace(/(\r\n)*$/, '') + '\r\n';
    expect(createHash('sha256').update(canonBody, 'latin1').digest('base64')).toBe(tags.get('bh'));
    const canonHeader = (f: string) => {
      const i = f.indexOf(':');
      return (
        f.slice(0, i).trim().toLowerCase() +
        ':' +
        f
          .slice(i + 1)
          .replace(/\r\n/g, '')
          .replace(/[ \t]+/g, ' ')
          .trim()
      );
    };
    let data = '';
    for (const name of signed) {
      const f = fields.find((x) => x.slice(0, x.indexOf(':')).trim().toLowerCase() === name);
      if (f) data += canonHeader(f) + '\r\n';
    }
    data += canonHeader(sigField).replace(/b=[^;]*$/, 'b=');
    expect(verify('sha256', Buffer.from(data, 'latin1'), publicKey, Buffer.from(tags.get('b')!, 'base64'))).toBe(true);
  });

  it('gives up on a server that stops answering, as a temporary failure', async () => {
    // Greets, answers EHLO, then never replies to MAIL FROM.
    const silent = net.createServer((sock) => {
      sock.write('220 silent ESMTP\r\n');
      sock.on('data', (c: Buffer) => {
        if (/^EHLO/m.test(c.toString())) sock.write('250-silent\r\n250 PIPELINING\r\n');
      });
      sock.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => silent.close(() => resolve())));
    const port = (silent.address() as net.AddressInfo).port;
    const messenger = new PipeliningMessenger({ url: `smtp://127.0.0.1:${port}?starttls=never`, poolSize: 1, timeoutMs: 300 });
    cleanups.push(() => messenger.close());
    const e = await rejection(raw(messenger, 1, ['reader1@example.org']));
    expect(e.failure).toBe('temporary');
    expect(e.message).toMatch(/no reply from the server within 300 ms/);
  });

  it('fails temporarily when nothing listens', async () => {
    const server = await startServer({});
    const port = server.port;
    await server.close();
    const messenger = new PipeliningMessenger({ url: `smtp://127.0.0.1:${port}`, poolSize: 2, timeoutMs: 2000 });
    cleanups.push(() => messenger.close());
    const e = await rejection(raw(messenger, 1, ['reader1@example.org']));
    expect(e.failure).toBe('temporary');
    expect(e.message).toMatch(/cannot connect/);
  });

  it('refuses envelope addresses that would inject commands', async () => {
    const { server, messenger } = await setup({}, (p) => `smtp://127.0.0.1:${p}`);
    const e = await rejection(raw(messenger, 1, ['a@example.org>\r\nRCPT TO:<b@example.org']));
    expect(e.failure).toBe('permanent');
    expect(server.received).toHaveLength(0);
  });

  it('composes from parts with send()', async () => {
    const { server, messenger } = await setup({}, (p) => `smtp://127.0.0.1:${p}?starttls=never`, { defaultFrom: 'paperboy <digest@example.org>' });
    const res = await messenger.send({
      to: 'Reader <reader@example.org>',
      subject: 'Confirm ✓',
      html: '<p>Hello <b>there</b></p>',
      text: 'Hello there\n.with a dot',
      headers: { 'List-Unsubscribe': '<https://example.org/u/1>' },
      messageId: '<confirm-1@example.org>',
    });
    expect(res.accepted).toEqual(['reader@example.org']);
    expect(res.messageId).toBe('<confirm-1@example.org>');
    const got = server.received[0]!;
    expect(got.from).toBe('digest@example.org');
    const mail = await simpleParser(got.raw);
    expect(mail.subject).toBe('Confirm ✓');
    expect(mail.text?.trim()).toBe('Hello there\n.with a dot');
    expect(mail.html).toContain('<b>there</b>');
    expect(got.raw.toString()).toMatch(/^List-Unsubscribe: <https:\/\/example\.org\/u\/1>\r$/m);
  });
});

describe('PipeliningMessenger security', () => {
  const auth: Partial<SMTPServerOptions> = {
    authOptional: false,
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    onAuth(a, _s, cb) {
      if (a.username === 'paper boy' && a.password === 's3cr:t') return cb(null, { user: a.username });
      cb(Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 }));
    },
  };

  it.each(['PLAIN', 'LOGIN'])('authenticates with AUTH %s', async (method) => {
    const { server, messenger } = await setup({ ...auth, authMethods: [method] }, (p) => `smtp://paper%20boy:s3cr%3At@127.0.0.1:${p}?starttls=never`);
    await raw(messenger, 1, ['reader1@example.org']);
    expect(server.received[0]!.user).toBe('paper boy');
  });

  it('reports bad credentials as a temporary failure (the message is not at fault) with the code', async () => {
    const { server, messenger } = await setup(auth, (p) => `smtp://paper%20boy:wrong@127.0.0.1:${p}?starttls=never`);
    const e = await rejection(raw(messenger, 1, ['reader1@example.org']));
    expect(e).toMatchObject({ failure: 'temporary', responseCode: 535 });
    expect(e.hardBounce).toBe(false);
    expect(server.received).toHaveLength(0);
  });

  it('does not send credentials in clear when STARTTLS is missing, unless the URL says starttls=never', async () => {
    const { server, messenger } = await setup({ ...auth, hideSTARTTLS: true }, (p) => `smtp://paper%20boy:s3cr%3At@127.0.0.1:${p}`);
    const e = await rejection(raw(messenger, 1, ['reader1@example.org']));
    expect(e.failure).toBe('temporary');
    expect(e.message).toMatch(/refusing to send credentials without TLS/);
    expect(server.received).toHaveLength(0);
  });

  it('upgrades with STARTTLS, verifying the certificate, before AUTH', async () => {
    const { server, messenger } = await setup({ ...auth, allowInsecureAuth: false }, (p) => `smtp://paper%20boy:s3cr%3At@localhost:${p}?starttls=required`, {
      tls: { ca: cert },
    });
    await raw(messenger, 1, ['reader1@example.org']);
    expect(server.received[0]).toMatchObject({ secure: true, user: 'paper boy' });
  });

  it('refuses an unverifiable certificate, and a server without STARTTLS when it is required', async () => {
    const a = await setup({}, (p) => `smtp://localhost:${p}?starttls=required`);
    const e = await rejection(raw(a.messenger, 1, ['reader1@example.org']));
    expect(e.failure).toBe('temporary');
    expect(e.message).toMatch(/STARTTLS failed/);
    const b = await setup({ hideSTARTTLS: true }, (p) => `smtp://localhost:${p}?starttls=required`);
    const e2 = await rejection(raw(b.messenger, 1, ['reader1@example.org']));
    expect(e2.message).toMatch(/does not offer STARTTLS/);
    expect(a.server.received.length + b.server.received.length).toBe(0);
  });

  it('speaks implicit TLS for smtps://', async () => {
    const { server, messenger } = await setup({ secure: true }, (p) => `smtps://localhost:${p}`, { tls: { ca: cert } });
    await raw(messenger, 1, ['reader1@example.org']);
    expect(server.received[0]!.secure).toBe(true);
  });
});
