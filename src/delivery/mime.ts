// Owns the digest message bytes: one MIME body built per rendered variant, then per recipient only strings filled in (and DKIM after).
import MailComposer from 'nodemailer/lib/mail-composer';
import * as qp from 'nodemailer/lib/qp';
import { createSigner, type DkimKey } from '../mail/dkim.js';
import { isMailbox } from '../mail/envelope.js';
import type { DigestMessage, RecipientLinks } from './ports.js';
import { SLOT_NAMES, SLOT_TOKENS, type SlotName } from '../render/placeholders.js';

export interface MessageHeadersConfig {
  from: string;
  mailDomain: string;
  /** `List-Id` value, e.g. `paperboy digest <digest.example.org>`. */
  listId: string;
  dkim?: DkimKey;
  /**
   * Gmail's feedback loop groups complaints by this header (`campaign:kind:type:sender`): one edition per campaign,
   * so a spam rate shows per edition and per kind of digest.
   */
  feedbackId?: string;
  /**
   * `false` for a message to someone who is no subscriber (`send --test-address`): no `List-Unsubscribe` and no
   * one-click `List-Unsubscribe-Post`, which would point at a link that unsubscribes nobody. Default true.
   */
  listUnsubscribe?: boolean;
}

export interface Recipient {
  email: string;
  messageId: string;
  links: RecipientLinks;
  date: Date;
}

type Slot = { slot: SlotName; encoding: 'qp' | 'raw'; html: boolean; lineStart: boolean };
type Segment = Buffer | Slot;

/** A prebuilt digest: the bytes around every placeholder, ready to be filled in per recipient. */
export interface MessageTemplate {
  /** CRLF line endings throughout, not dot-stuffed: what DKIM signs. */
  segments: Segment[];
  /** The same, dot-stuffed for SMTP DATA (RFC 5321 4.5.2) once here, so a recipient costs only the substitutions. */
  wire: Segment[];
  /** How many placeholders the renderer actually placed, per link. */
  found: Record<SlotName, number>;
  sign: ((raw: Buffer) => Promise<Buffer>) | null;
  /** Whether each recipient's message carries `List-Unsubscribe` (the template then carries `List-Unsubscribe-Post`). */
  listUnsubscribe: boolean;
}

export class TemplateError extends Error {}

// Headers written per recipient, so they are stripped from the built template.
const PER_RECIPIENT = new Set(['to', 'message-id', 'date', 'list-unsubscribe']);

export function stripHeaders(head: string, also: readonly string[] = []): string {
  const out: string[] = [];
  let dropping = false;
  for (const line of head.split('\r\n')) {
    if (/^[ \t]/.test(line)) {
      if (!dropping) out.push(line);
      continue;
    }
    const name = line.slice(0, line.indexOf(':')).trim().toLowerCase();
    dropping = PER_RECIPIENT.has(name) || also.includes(name);
    if (!dropping) out.push(line);
  }
  return out.join('\r\n');
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

// Quoted-printable may have broken a placeholder across lines with soft breaks ("=\r\n"); match through them.
export function placeholderPattern(value: string): string {
  return [...value].map(escapeRegExp).join('(?:=\\r\\n)?');
}

/** Sets quoted-printable on every text part so placeholders stay findable (base64 would hide them). */
export function forceQuotedPrintable(node: { childNodes: unknown[]; getHeader(k: string): unknown; setHeader(k: string, v: string): unknown }): void {
  const type = String(node.getHeader('Content-Type') ?? '').toLowerCase();
  if (type.startsWith('text/')) node.setHeader('Content-Transfer-Encoding', 'quoted-printable');
  for (const child of node.childNodes) forceQuotedPrintable(child as typeof node);
}

/**
 * The message built once by MailComposer, every text part quoted-printable, CRLF throughout: its head without the
 * headers written per recipient (and `also`), and its body from the blank line on.
 */
export async function buildMimeBody(
  rendered: DigestMessage,
  cfg: MessageHeadersConfig,
  also: readonly string[] = [],
): Promise<{ head: string; body: string; oneClick: boolean }> {
  const oneClick = cfg.listUnsubscribe !== false;
  const root = new MailComposer({
    from: cfg.from,
    subject: rendered.subject,
    text: rendered.text,
    html: rendered.html,
    textEncoding: 'quoted-printable',
    headers: {
      'List-Id': cfg.listId,
      ...(oneClick ? { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } : {}),
      'Auto-Submitted': 'auto-generated',
      ...(cfg.feedbackId ? { 'Feedback-ID': cfg.feedbackId } : {}),
    },
  }).compile();
  forceQuotedPrintable(root as never);
  // MailComposer leaves some bare LFs; CRLF everywhere once here keeps every message on the SMTP client's fast path.
  const built = (await root.build()).toString('latin1').replace(/\r\n|\r|\n/g, '\r\n');
  const split = built.indexOf('\r\n\r\n');
  if (split < 0) throw new TemplateError('built message has no header/body separator');
  return { head: stripHeaders(built.slice(0, split), also), body: built.slice(split), oneClick };
}

/** Builds the message once for a rendered variant. */
export async function buildTemplate(rendered: DigestMessage, cfg: MessageHeadersConfig): Promise<MessageTemplate> {
  const { head, body, oneClick } = await buildMimeBody(rendered, cfg);

  const hits: { start: number; end: number; slot: SlotName }[] = [];
  const found = { unsubscribeUrl: 0, unsubscribeMailto: 0, manageUrl: 0, email: 0 } as Record<SlotName, number>;
  for (const slot of SLOT_NAMES) {
    const re = new RegExp(placeholderPattern(SLOT_TOKENS[slot]), 'g');
    for (const m of body.matchAll(re)) {
      hits.push({ start: m.index, end: m.index + m[0].length, slot });
      found[slot]++;
    }
  }
  hits.sort((a, b) => a.start - b.start);

  const segments: Segment[] = [Buffer.from(head, 'latin1')];
  let pos = 0;
  for (const hit of hits) {
    // The part a placeholder sits in decides how the value is written: its transfer encoding and whether it is HTML.
    const partHead = body.lastIndexOf('\r\n\r\n', hit.start);
    const headerStart = body.lastIndexOf('Content-Type:', partHead);
    const partHeaders = body.slice(headerStart, partHead).toLowerCase();
    const html = /^content-type:\s*text\/html/.test(partHeaders);
    const qp = /content-transfer-encoding:\s*quoted-printable/.test(partHeaders);
    const raw = /content-transfer-encoding:\s*(7bit|8bit)/.test(partHeaders) || !/content-transfer-encoding/.test(partHeaders);
    if (!qp && !raw) throw new TemplateError('a link placeholder sits in a part that is neither quoted-printable nor 7bit');
    segments.push(Buffer.from(body.slice(pos, hit.start), 'latin1'));
    segments.push({ slot: hit.slot, encoding: qp ? 'qp' : 'raw', html, lineStart: hit.start === 0 || body.endsWith('\r\n', hit.start) });
    pos = hit.end;
  }
  segments.push(Buffer.from(body.slice(pos), 'latin1'));
  const wire = stuffSegments(segments);

  const sign = cfg.dkim ? createSigner(cfg.dkim) : null;
  return { segments, wire, found, sign, listUnsubscribe: oneClick };
}

const DOT = 0x2e;

/**
 * Dot-stuffs the bytes around the slots. A line start inside a segment is a CRLF followed by a dot. A segment's
 * first byte starts a line when it opens the message, or follows a quoted-printable value (which ends with a soft
 * break); a raw value never holds a line break, so after one the segment goes on the same line.
 */
function stuffSegments(segments: Segment[]): Segment[] {
  return segments.map((seg, i) => {
    if (!Buffer.isBuffer(seg)) return seg;
    const prev = segments[i - 1];
    const atLineStart = i === 0 || (prev !== undefined && !Buffer.isBuffer(prev) && prev.encoding === 'qp');
    let text = seg.toString('latin1').replace(/\r\n\./g, '\r\n..');
    if (atLineStart && seg[0] === DOT) text = '.' + text;
    return Buffer.from(text, 'latin1');
  });
}

export const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Quoted-printable for a value dropped mid-line: soft breaks around it (nodemailer's encoder and wrap inside). */
export function qpValue(value: string): string {
  return '=\r\n' + qp.wrap(qp.encode(Buffer.from(value, 'utf8')), 76) + '=\r\n';
}

const UNSAFE_HEADER_VALUE = /[\r\n<>]/;

export class RecipientError extends Error {}

function rfc2822Date(d: Date): string {
  return d.toUTCString().replace(/GMT$/, '+0000');
}

export function checkRecipient(r: Recipient): void {
  if (!isMailbox(r.email)) throw new RecipientError(`not a deliverable address: ${JSON.stringify(r.email)}`);
  if (!/^<[^<>\s]+@[^<>\s]+>$/.test(r.messageId)) throw new RecipientError(`not a Message-ID: ${JSON.stringify(r.messageId)}`);
  for (const v of [r.links.unsubscribeUrl, r.links.unsubscribeMailto, r.links.manageUrl]) {
    if (UNSAFE_HEADER_VALUE.test(v)) throw new RecipientError('a link holds CR, LF or angle brackets');
  }
}

/** Header lines written per recipient (none starts with a dot, so they are the same stuffed or not). */
export function recipientHeaders(r: Recipient, listUnsubscribe: boolean): string {
  return (
    `To: ${r.email}\r\n` +
    `Date: ${rfc2822Date(r.date)}\r\n` +
    `Message-ID: ${r.messageId}\r\n` +
    (listUnsubscribe ? `List-Unsubscribe: <${r.links.unsubscribeUrl}>,\r\n <${r.links.unsubscribeMailto}>\r\n` : '')
  );
}

/**
 * The segments with the recipient's values in, as chunks (the template's own buffers are shared, not copied);
 * `stuffed` also doubles a dot that a value puts at a line start.
 */
function fill(segments: Segment[], r: Recipient, stuffed: boolean, listUnsubscribe: boolean): Buffer[] {
  const parts: Buffer[] = [Buffer.from(recipientHeaders(r, listUnsubscribe), 'latin1')];
  for (const s of segments) {
    if (Buffer.isBuffer(s)) {
      parts.push(s);
      continue;
    }
    let v = s.slot === 'email' ? r.email : r.links[s.slot];
    if (s.html) v = v.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
    if (s.encoding === 'qp') {
      v = qpValue(v);
      if (stuffed) v = v.replace(/\r\n\./g, '\r\n..');
    } else if (stuffed && s.lineStart && v.charCodeAt(0) === DOT) v = '.' + v;
    parts.push(Buffer.from(v, 'utf8'));
  }
  return parts;
}

/** The message for one recipient: per-recipient headers, then the template with its placeholders filled in (and signed). */
export async function personalise(t: MessageTemplate, r: Recipient): Promise<Buffer> {
  checkRecipient(r);
  const raw = Buffer.concat(fill(t.segments, r, false, t.listUnsubscribe));
  return t.sign ? t.sign(raw) : raw;
}

/**
 * The message for one recipient as SMTP DATA wants it, in chunks. Unsigned: straight from the pre-stuffed template
 * (`dotStuffed: true`, nothing left for the SMTP client to scan, and no per-recipient copy of the whole message). Signed: DKIM needs the unstuffed bytes, so the
 * client stuffs them (CRLF-clean, its fast path).
 */
export async function personaliseForWire(t: MessageTemplate, r: Recipient): Promise<{ raw: Buffer[]; dotStuffed: boolean }> {
  if (t.sign) return { raw: [await personalise(t, r)], dotStuffed: false };
  checkRecipient(r);
  return { raw: fill(t.wire, r, true, t.listUnsubscribe), dotStuffed: true };
}
