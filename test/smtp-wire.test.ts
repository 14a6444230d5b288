// Tests the wire helpers: dot-stuffing once, undoing it, URL parsing, reply parsing.
import { describe, expect, it } from 'vitest';
import { ReplyParser, dotStuff, parseSmtpUrl, unStuff, type SmtpReply } from '../src/mail/smtp-wire.js';

describe('dotStuff', () => {
  it('normalises every line ending to CRLF and doubles leading dots', () => {
    const out = dotStuff('.first\n..two\r\nmid.dle\rlast.\n.');
    expect(out.toString()).toBe('..first\r\n...two\r\nmid.dle\r\nlast.\r\n..\r\n');
  });

  it('adds the final CRLF once and leaves an already clean body alone', () => {
    expect(dotStuff('a\r\nb').toString()).toBe('a\r\nb\r\n');
    expect(dotStuff('a\r\nb\r\n').toString()).toBe('a\r\nb\r\n');
    expect(dotStuff('').toString()).toBe('');
  });

  it('keeps UTF-8 bytes and long lines intact', () => {
    const long = 'x'.repeat(5000);
    const src = `Schrödinger 量子 ✓\n${long}\n.${long}`;
    const out = dotStuff(Buffer.from(src, 'utf8'));
    expect(out.toString('utf8')).toBe(`Schrödinger 量子 ✓\r\n${long}\r\n..${long}\r\n`);
  });

  it('agrees with a plain reference on every path (clean CRLF, bare LF, bare CR)', () => {
    const reference = (x: string) => {
      if (x === '') return '';
      const lines = x.replace(/\r\n|\r|\n/g, '\n').split('\n');
      if (lines[lines.length - 1] === '') lines.pop();
      return lines.map((l) => (l.startsWith('.') ? '.' + l : l) + '\r\n').join('');
    };
    const alphabet = ['.', '\r\n', '\r\n.', '\n', '\r', 'a', 'é', 'xyz'];
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let k = 0; k < 500; k++) {
      const cleanOnly = k % 2 === 0;
      const pick = cleanOnly ? ['.', '\r\n', '\r\n.', 'a', 'é'] : alphabet;
      const x = Array.from({ length: Math.floor(rnd() * 20) }, () => pick[Math.floor(rnd() * pick.length)]).join('');
      expect(dotStuff(x).toString('utf8'), JSON.stringify(x)).toBe(reference(x));
    }
  });

  it('returns a clean body without a leading-dot line as is (no copy)', () => {
    const b = Buffer.from('a\r\nb.\r\n');
    expect(dotStuff(b)).toBe(b);
  });

  it('is undone by unStuff', () => {
    const src = '..a\r\n.b\r\nc\r\n...\r\n';
    expect(unStuff(dotStuff(src)).toString()).toBe(src);
    expect(unStuff(Buffer.from('plain\r\n')).toString()).toBe('plain\r\n');
  });
});

describe('parseSmtpUrl', () => {
  it('reads credentials, TLS mode and defaults', () => {
    const t = parseSmtpUrl('smtp://us%40er:p%3Ass@mail.example.org:2525?starttls=required&name=box.example.org');
    expect(t).toMatchObject({
      host: 'mail.example.org',
      port: 2525,
      implicitTls: false,
      starttls: 'required',
      user: 'us@er',
      pass: 'p:ss',
      rejectUnauthorized: true,
      name: 'box.example.org',
    });
    expect(parseSmtpUrl('smtps://h')).toMatchObject({ port: 465, implicitTls: true, starttls: 'never' });
    expect(parseSmtpUrl('smtp://h?starttls=never&tls_reject_unauthorized=false')).toMatchObject({ port: 587, starttls: 'never', rejectUnauthorized: false });
    expect(parseSmtpUrl('smtp://h:25').starttls).toBe('opportunistic');
  });
});

describe('ReplyParser', () => {
  it('joins multi-line replies, across chunk boundaries, and finds enhanced codes', () => {
    const got: SmtpReply[] = [];
    const p = new ReplyParser((r) => got.push(r));
    p.push(Buffer.from('250-hello\r\n250-PIPE'));
    p.push(Buffer.from('LINING\r\n250 8BITMIME\r\n550 5.1.1 <x@y>: user unknown\r\n'));
    p.push(Buffer.from('354 go'));
    expect(got).toHaveLength(2);
    expect(got[0]).toMatchObject({ code: 250, lines: ['hello', 'PIPELINING', '8BITMIME'] });
    expect(got[1]).toMatchObject({ code: 550, enhanced: '5.1.1' });
    p.push(Buffer.from(' ahead\r\n'));
    expect(got[2]).toMatchObject({ code: 354, enhanced: undefined, text: '354 go ahead' });
  });
});
