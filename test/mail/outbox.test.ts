// The embedded outbox: real .eml files on disk, parseable, newest first, never half-written.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { FakeClock } from '../../src/clock.js';
import { silentLogger } from '../../src/log.js';
import { createOutboxMessenger, OUTBOX_FILE } from '../../src/mail/outbox-messenger.js';
import { createOutbox } from '../../src/mail/outbox.js';
import { SendError, type RawMessage } from '../../src/mail/messenger.js';

let dir: string;
const clock = new FakeClock(new Date('2026-11-23T08:00:00.000Z'));
const config = () => ({ OUTBOX_DIR: join(dir, 'outbox'), MAIL_FROM: 'paperboy <digest@paperboy.test>' });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'paperboy-outbox-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('outbox messenger', () => {
  it('writes a real RFC 5322 message that mailparser reads back', async () => {
    const m = createOutboxMessenger(config(), silentLogger, clock);
    const result = await m.send({
      to: 'Reader <reader@example.org>',
      subject: 'Your digest: «Attention» is all you need',
      html: '<h1>Papers</h1><p>Schrödinger</p>',
      text: 'Papers\nSchrödinger',
      headers: { 'List-Unsubscribe': '<https://p.test/u/1>', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
      messageId: '<one@paperboy.test>',
    });
    expect(result.accepted).toEqual(['reader@example.org']);
    expect(result.messageId).toBe('<one@paperboy.test>');
    const files = readdirSync(config().OUTBOX_DIR);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(OUTBOX_FILE);
    expect(files[0]!.startsWith('20261123T080000000Z-')).toBe(true);
    const raw = readFileSync(join(config().OUTBOX_DIR, files[0]!));
    expect(raw.toString()).toMatch(/^Return-Path: <digest@paperboy\.test>\r\nDelivered-To: reader@example\.org\r\n/);
    expect(raw.toString()).toContain('\r\nMIME-Version: 1.0\r\n');
    const mail = await simpleParser(raw);
    expect(mail.subject).toBe('Your digest: «Attention» is all you need');
    expect(mail.html).toContain('<p>Schrödinger</p>');
    expect(mail.text).toContain('Schrödinger');
    expect(mail.messageId).toBe('<one@paperboy.test>');
    expect(mail.date?.toISOString()).toBe('2026-11-23T08:00:00.000Z');
    expect(mail.headerLines.some((l) => l.line === 'List-Unsubscribe-Post: List-Unsubscribe=One-Click')).toBe(true);
    await m.close();
  });

  it('stores a raw message as given, with the envelope in front', async () => {
    const m = createOutboxMessenger(config(), silentLogger, clock);
    const raw = 'From: a@paperboy.test\r\nTo: list@paperboy.test\r\nSubject: raw\r\n\r\nhello\r\n';
    await m.sendRaw({ envelope: { from: 'bounce@paperboy.test', to: ['x@example.org'] }, raw, messageId: '<r@x>' });
    const [file] = readdirSync(config().OUTBOX_DIR);
    expect(readFileSync(join(config().OUTBOX_DIR, file!), 'utf8')).toBe('Return-Path: <bounce@paperboy.test>\r\nDelivered-To: x@example.org\r\n' + raw);
  });

  it('stores a dot-stuffed raw message unstuffed', async () => {
    const m = createOutboxMessenger(config(), silentLogger, clock);
    const stuffed = '..From the top\r\nSubject: s\r\n\r\n..one\r\nx..y\r\n';
    await m.sendRaw({ envelope: { from: 'a@x.org', to: ['x@example.org'] }, raw: Buffer.from(stuffed), messageId: '<s@x>', dotStuffed: true } as RawMessage);
    const [file] = readdirSync(config().OUTBOX_DIR);
    expect(readFileSync(join(config().OUTBOX_DIR, file!), 'utf8')).toBe(
      'Return-Path: <a@x.org>\r\nDelivered-To: x@example.org\r\n.From the top\r\nSubject: s\r\n\r\n.one\r\nx..y\r\n',
    );
  });

  it('refuses an envelope address that would inject a header line', async () => {
    const m = createOutboxMessenger(config(), silentLogger, clock);
    const err = await m
      .sendRaw({ envelope: { from: 'a@x', to: ['x@example.org\r\nBcc: evil@example.com'] }, raw: 'Subject: x\r\n\r\nx', messageId: '<i@x>' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SendError);
    expect((err as SendError).failure).toBe('permanent');
    const outbox = createOutbox(config().OUTBOX_DIR);
    expect((await outbox.list()).total).toBe(0);
  });

  it('recreates a deleted outbox directory, and reports an unwritable one as temporary', async () => {
    const m = createOutboxMessenger(config(), silentLogger, clock);
    await m.send({ to: 'a@example.org', subject: 'one', html: 'h', text: 't' });
    rmSync(config().OUTBOX_DIR, { recursive: true });
    await m.send({ to: 'a@example.org', subject: 'two', html: 'h', text: 't' });
    expect(readdirSync(config().OUTBOX_DIR)).toHaveLength(1);

    writeFileSync(join(dir, 'a-file'), 'x');
    const blocked = createOutboxMessenger({ OUTBOX_DIR: join(dir, 'a-file', 'outbox'), MAIL_FROM: 'a@paperboy.test' }, silentLogger, clock);
    const err = await blocked.send({ to: 'a@example.org', subject: 's', html: 'h', text: 't' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SendError);
    expect((err as SendError).failure).toBe('temporary');
  });

  it('lists newest first, paginated, even within one millisecond', async () => {
    const m = createOutboxMessenger(config(), silentLogger, clock);
    for (let i = 1; i <= 7; i++) {
      if (i === 4) clock.advance(60_000);
      // i 1-3 share one clock reading: names still come out in send order
      await m.send({ to: `r${i}@example.org`, subject: `message ${i}`, html: `<p>${i}</p>`, text: String(i) });
    }
    const outbox = createOutbox(config().OUTBOX_DIR);
    const p1 = await outbox.list({ perPage: 3 });
    expect(p1.total).toBe(7);
    expect(p1.pages).toBe(3);
    expect(p1.entries.map((e) => e.subject)).toEqual(['message 7', 'message 6', 'message 5']);
    const p3 = await outbox.list({ perPage: 3, page: 3 });
    expect(p3.entries.map((e) => e.subject)).toEqual(['message 1']);
    expect(p3.entries[0]!.to).toBe('r1@example.org');
    const beyond = await outbox.list({ perPage: 3, page: 99 });
    expect(beyond.page).toBe(3);
    const one = await outbox.read(p1.entries[0]!.id);
    expect(one?.html).toContain('<p>7</p>');
    expect(one?.text?.trim()).toBe('7');
    expect(await outbox.read('../../etc/passwd')).toBeNull();
    expect(await outbox.read('20261123T080000000Z-0000000000000000')).toBeNull();
  });

  it('never shows a partial file: readers racing writers see whole messages only', async () => {
    const m = createOutboxMessenger(config(), silentLogger, clock);
    const outDir = config().OUTBOX_DIR;
    // A crash mid-write leaves a temp file; it must not appear as a message.
    await m.send({ to: 'seed@example.org', subject: 'seed', html: '<p>s</p>', text: 's' });
    writeFileSync(join(outDir, '.20261123T080000000Z-deadbeefdeadbeef.eml.123.abcd.tmp'), 'From: half');
    const big = 'x'.repeat(400_000);
    const tail = 'END-OF-MESSAGE';
    let writing = true;
    const writers = (async () => {
      const batch = [];
      for (let i = 0; i < 24; i++) {
        batch.push(
          m.sendRaw({ envelope: { from: 'a@x', to: [`r${i}@example.org`] }, raw: `Subject: big ${i}\r\n\r\n${big}\r\n${tail}\r\n`, messageId: `<b${i}@x>` }),
        );
      }
      await Promise.all(batch);
      writing = false;
    })();
    let checked = 0;
    const readAll = () => {
      for (const name of readdirSync(outDir).filter((n) => OUTBOX_FILE.test(n))) {
        const text = readFileSync(join(outDir, name), 'latin1');
        if (text.includes('Subject: seed')) continue;
        expect(text.endsWith(`${tail}\r\n`), `${name} complete`).toBe(true);
        checked++;
      }
    };
    while (writing) {
      readAll();
      await new Promise((r) => setImmediate(r));
    }
    await writers;
    readAll();
    const outbox = createOutbox(outDir);
    const page = await outbox.list({ perPage: 100 });
    expect(page.total).toBe(25);
    expect(checked).toBeGreaterThan(0);
  });
});
