// Owns reading the embedded outbox: newest first, paginated, each .eml parsed with mailparser.
import { open, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressObject } from 'mailparser';
import { simpleParser } from './parse-mail.js';
import { OUTBOX_FILE } from './outbox-messenger.js';

export interface OutboxEntry {
  /** The file name without `.eml`; safe in a URL and checked before any file is opened. */
  id: string;
  /** When the outbox stored it (from the file name). */
  storedAt: Date;
  /** The Date: header, when the message has a valid one. */
  date: Date | null;
  subject: string;
  from: string;
  to: string;
  size: number;
}

export interface OutboxMessage extends OutboxEntry {
  messageId: string;
  headers: { key: string; line: string }[];
  html: string | null;
  text: string | null;
  raw: Buffer;
}

export interface OutboxPage {
  entries: OutboxEntry[];
  total: number;
  page: number;
  pages: number;
  perPage: number;
}

export interface Outbox {
  readonly dir: string;
  list(opts?: { page?: number; perPage?: number }): Promise<OutboxPage>;
  /** null when there is no such message (or the id is not one the outbox could have made). */
  read(id: string): Promise<OutboxMessage | null>;
  /** GDPR erase: removes every stored message delivered to `email` (any case); resolves with how many. */
  eraseRecipient(email: string): Promise<number>;
}

/** The outbox messenger's trace lines come first in every file (outbox-messenger.ts); a few KB always hold them. */
const TRACE_BYTES = 4096;

/** The envelope recipients of a stored message, from its Delivered-To trace line (lower case). */
async function deliveredTo(file: string): Promise<string[]> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(TRACE_BYTES);
    const { bytesRead } = await fh.read(buf, 0, TRACE_BYTES, 0);
    const text = buf.subarray(0, bytesRead).toString('latin1');
    const end = text.indexOf('\r\n\r\n');
    const line = /^Delivered-To: ([^\r\n]*)\r?$/m.exec(end === -1 ? text : text.slice(0, end));
    return line ? line[1]!.split(',').map((a) => a.trim().toLowerCase()) : [];
  } finally {
    await fh.close();
  }
}

const ID = /^\d{8}T\d{9}Z-[0-9a-f]{16}$/;

function storedAtOf(id: string): Date {
  const s = id.slice(0, 19); // 20261123T103000123Z
  return new Date(`${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13, 15)}.${s.slice(15, 18)}Z`);
}

function addresses(a: AddressObject | AddressObject[] | undefined): string {
  if (!a) return '';
  return (Array.isArray(a) ? a : [a]).map((x) => x.text).join(', ');
}

async function parse(dir: string, id: string): Promise<OutboxMessage | null> {
  if (!ID.test(id)) return null;
  let raw: Buffer;
  try {
    raw = await readFile(join(dir, `${id}.eml`));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const mail = await simpleParser(raw, { skipImageLinks: true });
  const date = mail.date && !Number.isNaN(mail.date.getTime()) ? mail.date : null;
  return {
    id,
    storedAt: storedAtOf(id),
    date,
    subject: mail.subject ?? '',
    from: addresses(mail.from),
    to: addresses(mail.to),
    size: raw.length,
    messageId: mail.messageId ?? '',
    headers: mail.headerLines.map((h) => ({ key: h.key, line: h.line })),
    html: typeof mail.html === 'string' ? mail.html : null,
    text: mail.text ?? null,
    raw,
  };
}

export function createOutbox(dir: string): Outbox {
  return {
    dir,
    async list({ page = 1, perPage = 25 } = {}) {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') names = [];
        else throw err;
      }
      // Temp files (dot names) and anything else lying around are not messages.
      const ids = names
        .filter((n) => OUTBOX_FILE.test(n))
        .sort()
        .reverse()
        .map((n) => n.slice(0, -4));
      const pages = Math.max(1, Math.ceil(ids.length / perPage));
      const p = Math.min(Math.max(1, Math.floor(page)), pages);
      const slice = ids.slice((p - 1) * perPage, p * perPage);
      const entries: OutboxEntry[] = [];
      for (const id of slice) {
        const m = await parse(dir, id);
        if (!m) continue; // removed between readdir and read
        const { id: i, storedAt, date, subject, from, to, size } = m;
        entries.push({ id: i, storedAt, date, subject, from, to, size });
      }
      return { entries, total: ids.length, page: p, pages, perPage };
    },
    read: (id) => parse(dir, id),
    async eraseRecipient(email) {
      const wanted = email.trim().toLowerCase();
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
        throw err;
      }
      let removed = 0;
      for (const name of names) {
        if (!OUTBOX_FILE.test(name)) continue;
        const file = join(dir, name);
        try {
          if (!(await deliveredTo(file)).includes(wanted)) continue;
          await unlink(file);
          removed++;
        } catch (err) {
          // Removed meanwhile (someone emptied the outbox): nothing left to erase there.
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
      return removed;
    },
  };
}
