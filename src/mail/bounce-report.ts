// Owns reading inbound mail as delivery facts: bounces (RFC 3464 DSNs and plain-text bounces) and complaints (RFC 5965 ARF, Microsoft JMRP), and the one hard/soft classification.
//
// Pure functions over a mailparser ParsedMail: no database, no I/O. What mailparser does with the report parts
// (seen by parsing, mailparser 3.14):
// - `message/delivery-status` is *inlined into mail.text* by default (appended after the text/plain parts) and
//   becomes an attachment only with `keepDeliveryStatus: true` (or a `Content-Disposition: attachment`). Both are
//   read here: the attachment first, else the field groups found in mail.text.
// - `message/rfc822`, `text/rfc822-headers`, `message/feedback-report` are always attachments whose `content`
//   is the raw part (the parts inside an attached message are not split out, and never reach mail.text).
import type { Attachment, ParsedMail } from 'mailparser';
import { lazyRequire } from '../lazy-require.js';

const htmlToText = lazyRequire<typeof import('html-to-text')>('html-to-text');

export type BounceSeverity = 'hard' | 'soft';

export interface BouncedRecipient {
  /** Original-Recipient (the address we gave in RCPT TO) or else Final-Recipient; type stripped, domain lower-cased. */
  recipient: string | null;
  action: 'failed' | 'delayed' | 'delivered' | 'relayed' | 'expanded' | null;
  /** Enhanced status code, e.g. '5.1.1'. */
  status: string | null;
  /** Diagnostic-Code without its type, whitespace folded, at most 500 characters; for text bounces the reason line(s). */
  diagnostic: string | null;
  remoteMta: string | null;
  /** Null when the recipient did not fail (delivered, relayed, expanded) or nothing can be told. */
  severity: BounceSeverity | null;
}

export interface BounceReport {
  format: 'dsn' | 'text';
  recipients: BouncedRecipient[];
}

export interface ComplaintReport {
  /** Lower-case Feedback-Type; 'abuse' for Microsoft JMRP-style reports, which carry none. */
  feedbackType: string;
  userAgent: string | null;
  originalRecipient: string | null;
  /** RFC 5965 defines no Original-Message-ID field: this is the Message-ID of the returned original (its headers). */
  originalMessageId: string | null;
  /** The raw List-Unsubscribe value of the original; the caller pulls the signed token out of it. */
  listUnsubscribe: string | null;
}

const MAX_DIAGNOSTIC = 500;
/** html-to-text on a bigger body is not worth the CPU: no real bounce is that long before the returned copy. */
const MAX_HTML_TO_READ = 200_000;

type Action = BouncedRecipient['action'];
const ACTIONS = new Set(['failed', 'delayed', 'delivered', 'relayed', 'expanded']);

// ---------------------------------------------------------------------------------------------------------------
// Classification
//
// | what                                   | severity | why                                                          |
// |----------------------------------------|----------|--------------------------------------------------------------|
// | Action delivered / relayed / expanded  | null     | not a failure at all                                         |
// | 2.x.x                                  | null     | success                                                      |
// | Action delayed, any 4.x.x, a 4xx reply | soft     | temporary: the MTA is still trying or may succeed next time  |
// | 5.1.x (but 5.1.7, 5.1.8)               | hard     | the destination address or its domain does not exist         |
// | 5.1.7, 5.1.8                           | soft     | bad *sender* address: our setup, not the recipient's fault   |
// | 5.2.1                                  | hard     | mailbox disabled, not accepting mail                         |
// | 5.4.4                                  | hard     | unable to route: the domain has no mail host                 |
// | 5.4.1                                  | hard     | Exchange Online "Recipient address rejected: Access denied": |
// |                                        |          | its directory-based blocking for a recipient it does not know|
// | 5.2.2                                  | soft     | mailbox full: the owner may clear it                         |
// | 5.7.x                                  | soft     | policy (spam, reputation, auth): counts, may pass later      |
// | other 5.x.x (5.3.4, 5.6.0, ...)        | soft     | content or system problems, not the address's fault          |
// | 5xx / failed with no specific code     | hard if the text says the user/mailbox does not exist ("user  |
// | (none or X.0.0)                        | unknown", "no such user", ...), else soft: most servers say so |
// |                                        | in words only (qmail, Gmail's "Address not found")             |
// | Action failed, no code, no text        | soft     | a failure we cannot pin on the address                       |
// A 4xx reply code wins over a 5.x.x enhanced code (as in classify.ts: the reply class decides).
// ---------------------------------------------------------------------------------------------------------------

const USER_UNKNOWN =
  /\b(user unknown|unknown user|no such (user|mailbox|recipient|address)|(user|mailbox|address|account|recipient)( \S+)? (does not|doesn't|did not) exist|does not exist|mailbox unavailable|mailbox not found|invalid (recipient|mailbox|address)|recipient (address )?(not found|unknown)|unknown (recipient|mailbox|address)|no mailbox here|address (couldn't|could not) be found|wasn't found at)\b/i;

/** The enhanced code in a reply or text: after a reply code (`550 5.1.1`, `550-5.1.1`), qmail's `#5.1.1`, or alone. */
export function findEnhancedStatus(text: string | null | undefined): string | null {
  if (!text) return null;
  const afterReply = /(?:^|[^\d.])[245]\d\d[ -]([245]\.\d\.\d{1,3})(?![\d.])/.exec(text);
  if (afterReply) return afterReply[1]!;
  const hashed = /#([245]\.\d\.\d{1,3})(?![\d.])/.exec(text);
  if (hashed) return hashed[1]!;
  // One-digit subject: keeps version numbers such as "Exim 4.94.2" out.
  const alone = /(?:^|[\s(['";:])([245]\.\d\.\d{1,3})(?![\d.])/.exec(text);
  return alone ? alone[1]! : null;
}

/** The first SMTP reply code in a diagnostic (`550 ...`, `smtp; 550-...`). */
function findReplyCode(text: string | null | undefined): number | undefined {
  const m = /(?:^|[^\d.])([245]\d\d)(?=[ -][^\d]|[ -][245]\.\d|$)/.exec(text ?? '');
  return m ? Number(m[1]) : undefined;
}

/**
 * The one classification for DSNs, text bounces and synchronous replies (RCPT/DATA). `status` is an enhanced code;
 * a whole reply (`550 5.1.1 user unknown`) is read too. `diagnostic` is the reply or diagnostic text, used when
 * there is no specific code.
 */
export function bounceSeverity(
  status: string | null | undefined,
  opts: { replyCode?: number; action?: BouncedRecipient['action']; diagnostic?: string | null } = {},
): BounceSeverity | null {
  const { action } = opts;
  if (action === 'delivered' || action === 'relayed' || action === 'expanded') return null;
  let code = status?.trim() || null;
  let replyCode = opts.replyCode;
  let text = opts.diagnostic ?? null;
  if (code && !/^[245]\.\d{1,3}\.\d{1,3}$/.test(code)) {
    // Not a bare code: read it as a reply.
    text = text ? `${code} ${text}` : code;
    replyCode ??= findReplyCode(code);
    code = findEnhancedStatus(code);
  }
  if (action === 'delayed') return 'soft';
  if (replyCode !== undefined && replyCode >= 400 && replyCode < 500) return 'soft';
  if (replyCode !== undefined && replyCode >= 200 && replyCode < 400 && !code) return null;
  const [klass, subject, detail] = (code ?? '').split('.').map(Number);
  if (klass === 2) return null;
  if (klass === 4) return 'soft';
  const specific = klass === 5 && !(subject === 0 && detail === 0);
  if (specific) {
    if (subject === 1) return detail === 7 || detail === 8 ? 'soft' : 'hard';
    if (subject === 2 && detail === 1) return 'hard';
    if (subject === 4 && (detail === 4 || detail === 1)) return 'hard';
    return 'soft';
  }
  const permanent = klass === 5 || (replyCode !== undefined && replyCode >= 500) || action === 'failed';
  if (!permanent) return null;
  return text && USER_UNKNOWN.test(text) ? 'hard' : 'soft';
}

// ---------------------------------------------------------------------------------------------------------------
// Small readers
// ---------------------------------------------------------------------------------------------------------------

function fold(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

function clip(s: string | null): string | null {
  if (!s) return null;
  const f = fold(s);
  if (!f) return null;
  return f.length > MAX_DIAGNOSTIC ? f.slice(0, MAX_DIAGNOSTIC) : f;
}

/** `Bob@Example.COM` -> `Bob@example.com`: the local part is the receiving host's business, the domain is not. */
function normalizeAddress(raw: string | null | undefined): string | null {
  if (!raw) return null;
  const s = raw
    .trim()
    .replace(/^<|>$/g, '')
    .replace(/^mailto:/i, '')
    .trim();
  const at = s.lastIndexOf('@');
  if (at <= 0 || at === s.length - 1 || /[\s<>,;]/.test(s)) return null;
  return s.slice(0, at) + '@' + s.slice(at + 1).toLowerCase();
}

const ADDRESS = /[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+/;

/** The address in a To:-like value: `Bob <bob@x.org>`, `<bob@x.org>`, `bob@x.org`. */
function addressIn(value: string | null | undefined): string | null {
  if (!value) return null;
  const bracketed = /<([^<>\s]+@[^<>\s]+)>/.exec(value);
  if (bracketed) return normalizeAddress(bracketed[1]);
  const m = ADDRESS.exec(value);
  return m ? normalizeAddress(m[0]) : null;
}

interface Field {
  name: string;
  value: string;
}

/** Header-style lines (`Name: value`, continuation lines folded in), in order. Lines that are no field are skipped. */
function parseFields(block: string): Field[] {
  const out: Field[] = [];
  for (const line of block.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && out.length > 0) {
      out[out.length - 1]!.value += ' ' + line.trim();
      continue;
    }
    const m = /^([!-9;-~]+):[ \t]*(.*)$/.exec(line);
    if (m) out.push({ name: m[1]!.toLowerCase(), value: m[2]!.trim() });
  }
  return out;
}

/** The header section of a raw message or of a text/rfc822-headers part. */
function headerFields(raw: string): Field[] {
  const end = raw.search(/\r?\n\r?\n/);
  return parseFields(end === -1 ? raw : raw.slice(0, end));
}

function field(fields: Field[], name: string): string | null {
  return fields.find((f) => f.name === name)?.value ?? null;
}

/** `rfc822; bob@x.org` -> `bob@x.org`; a value without a type is taken as it is. */
function withoutType(value: string): { type: string | null; value: string } {
  const m = /^([A-Za-z0-9][\w.+-]*)\s*;\s*(.*)$/.exec(value);
  return m ? { type: m[1]!.toLowerCase(), value: m[2]!.trim() } : { type: null, value: value.trim() };
}

function recipientOf(value: string | null): string | null {
  if (!value) return null;
  const { type, value: v } = withoutType(value);
  // x400 and other address types name no mailbox we could have sent to.
  if (type !== null && type !== 'rfc822' && type !== 'utf-8') return null;
  return normalizeAddress(v.replace(/\s*\(.*\)\s*$/, ''));
}

function contentTypeOf(mail: ParsedMail): { value: string; reportType: string | null } {
  const ct = mail.headers?.get('content-type') as { value?: string; params?: Record<string, string> } | string | undefined;
  if (!ct) return { value: '', reportType: null };
  if (typeof ct === 'string') return { value: ct.toLowerCase(), reportType: null };
  return { value: (ct.value ?? '').toLowerCase(), reportType: ct.params?.['report-type']?.toLowerCase() ?? null };
}

function attachmentsOf(mail: ParsedMail, ...types: string[]): Attachment[] {
  return (mail.attachments ?? []).filter((a) => types.includes((a.contentType ?? '').toLowerCase()));
}

function contentText(a: Attachment): string {
  const c = a.content as Buffer | string | undefined;
  if (!c) return '';
  return typeof c === 'string' ? c : c.toString('utf8');
}

/** The readable body: text, else the HTML as text (inbound parses with skipHtmlToText, and some NDRs are HTML only). */
function bodyText(mail: ParsedMail): string {
  if (mail.text?.trim()) return mail.text;
  if (typeof mail.html === 'string' && mail.html.length > 0) {
    return htmlToText().convert(mail.html.slice(0, MAX_HTML_TO_READ), { wordwrap: false, selectors: [{ selector: 'a', options: { ignoreHref: true } }] });
  }
  return '';
}

// ---------------------------------------------------------------------------------------------------------------
// RFC 3464 delivery-status
// ---------------------------------------------------------------------------------------------------------------

const DSN_FIELDS = new Set([
  'reporting-mta',
  'dsn-gateway',
  'received-from-mta',
  'arrival-date',
  'original-envelope-id',
  'original-recipient',
  'final-recipient',
  'action',
  'status',
  'remote-mta',
  'diagnostic-code',
  'last-attempt-date',
  'final-log-id',
  'will-retry-until',
]);

function recipientFromGroup(fields: Field[]): BouncedRecipient {
  const actionWord =
    field(fields, 'action')
      ?.toLowerCase()
      .split(/[\s(;]/)[0] ?? '';
  const action = (ACTIONS.has(actionWord) ? actionWord : null) as Action;
  const diagnosticRaw = field(fields, 'diagnostic-code');
  const diagnostic = diagnosticRaw ? clip(withoutType(diagnosticRaw).value) : null;
  const statusField = field(fields, 'status');
  let status = statusField?.match(/(?<![\d.])[245]\.\d{1,3}\.\d{1,3}(?![\d.])/)?.[0] ?? null;
  const fromDiagnostic = findEnhancedStatus(diagnostic);
  // A generic X.0.0 (Exchange, some gateways) says less than the code in the server's own reply of the same class.
  if (!status || (status.endsWith('.0.0') && fromDiagnostic?.[0] === status[0])) status = fromDiagnostic ?? status;
  const remote = field(fields, 'remote-mta');
  const recipient = recipientOf(field(fields, 'original-recipient')) ?? recipientOf(field(fields, 'final-recipient'));
  return {
    recipient,
    action,
    status,
    diagnostic,
    remoteMta: remote ? withoutType(remote).value || null : null,
    severity: bounceSeverity(status, { action, replyCode: findReplyCode(diagnostic), diagnostic }),
  };
}

/** Per-recipient groups of a delivery-status body. A recipient field seen twice in one group starts a new recipient
 * (some MTAs leave out the blank line between them). */
function parseDeliveryStatus(body: string): BouncedRecipient[] {
  const out: BouncedRecipient[] = [];
  for (const block of body.split(/\r?\n[ \t]*\r?\n/)) {
    const fields = parseFields(block).filter((f) => DSN_FIELDS.has(f.name) || f.name.startsWith('x-'));
    let current: Field[] = [];
    const flush = () => {
      if (current.some((f) => f.name === 'final-recipient' || f.name === 'original-recipient' || f.name === 'action')) out.push(recipientFromGroup(current));
      current = [];
    };
    for (const f of fields) {
      if (f.name === 'final-recipient' && current.some((c) => c.name === 'final-recipient')) flush();
      if (f.name === 'original-recipient' && current.some((c) => c.name === 'original-recipient')) flush();
      current.push(f);
    }
    flush();
  }
  return out;
}

/** The delivery-status text mailparser inlined into mail.text: the blank-line groups made only of fields, one DSN field at least. */
function deliveryStatusInText(text: string): string {
  const groups = text.split(/\r?\n[ \t]*\r?\n/).filter((block) => {
    const lines = block.split(/\r?\n/).filter((l) => l.trim() !== '');
    if (lines.length === 0) return false;
    const allFields = lines.every((l) => /^[ \t]/.test(l) || /^[!-9;-~]+:/.test(l));
    return allFields && parseFields(block).some((f) => DSN_FIELDS.has(f.name));
  });
  return groups.join('\n\n');
}

// ---------------------------------------------------------------------------------------------------------------
// Plain-text bounces
// ---------------------------------------------------------------------------------------------------------------

/** Phrases that only bounce generators write. */
const BOUNCE_MARKERS = [
  /This message was created automatically by mail delivery software/i, // Exim
  /This is the qmail-send program/i,
  /This is the mail system at host/i, // Postfix
  /I'm sorry to have to inform you that your message could not\s+be delivered/i, // Postfix
  /Delivery has failed to these recipients or groups/i, // Exchange
  /Your message to \S+ couldn't be delivered/i, // Office 365
  /Your message wasn't delivered to/i, // Gmail
  /Delivery to the following recipients? (failed permanently|has been delayed)/i, // Gmail, older
  /There was a temporary problem delivering your message to/i, // Gmail
  /\*\* (Address not found|Message not delivered|Delivery incomplete|Message blocked) \*\*/i, // Gmail
  /The following addresses had permanent fatal errors/i, // sendmail
  /could not be delivered to one or more (of its )?recipients/i,
  /Delivery to the following recipients? failed/i,
];

const DELAY_MARKERS = [
  /THIS IS A WARNING ONLY/i, // Postfix
  /has not yet been delivered to one or more of its/i, // Exim
  /There was a temporary problem delivering/i, // Gmail
  /\*\* Delivery incomplete \*\*/i,
  /has been delayed/i,
  /will (retry|continue to try|keep trying)/i,
  /Delivery attempts will continue/i,
];

/** Where the returned copy of our own message starts: its addresses and text are not the bounce's. */
const COPY_MARKERS = [
  /^-+ ?This is a copy of the message/im, // Exim
  /^-+ ?Below this line is a copy of the message/im, // qmail
  /^-+ ?(Original|Returned) message/im,
  /^Original message headers:/im, // Exchange
  /^-+ ?The header of the original message/im,
  /^-+ ?Message header follows/im,
];

const DAEMON_LOCAL = /^(mailer-daemon|mailer_daemon|mailerdaemon|mail-daemon|postmaster|mdaemon|mail\.delivery\.system)$/i;
const BOUNCE_SUBJECT =
  /(undeliver|returned mail|returned to sender|delivery (status notification|failure|failed|has failed|incomplete|notification)|mail delivery (failed|failure|subsystem)|failure notice|could not be delivered|non-?delivery|not delivered|delayed mail|warning: could not send)/i;

function fromOf(mail: ParsedMail): { address: string; name: string } {
  const v = mail.from?.value?.[0];
  return { address: v?.address ?? '', name: v?.name ?? '' };
}

function looksLikeDaemon(mail: ParsedMail): boolean {
  const { address, name } = fromOf(mail);
  const local = address.slice(0, address.lastIndexOf('@') === -1 ? address.length : address.lastIndexOf('@'));
  return DAEMON_LOCAL.test(local) || /mail delivery (system|subsystem)/i.test(name);
}

function cutCopy(text: string): string {
  let end = text.length;
  for (const m of COPY_MARKERS) {
    const i = text.search(m);
    if (i !== -1 && i < end) end = i;
  }
  return text.slice(0, end);
}

interface TextHit {
  recipient: string;
  diagnostic: string | null;
  remoteMta: string | null;
}

/** `host mx.example.com[192.0.2.25] said:` (Postfix), `host mx.example.com [192.0.2.25]` (Exim), `192.0.2.25 does not like recipient` (qmail). */
function remoteMtaIn(text: string | null): string | null {
  if (!text) return null;
  const host = /\bhost ([A-Za-z0-9.-]+\.[A-Za-z]{2,})\s?\[/.exec(text);
  if (host) return host[1]!.toLowerCase();
  const qmail = /\b(\d{1,3}(?:\.\d{1,3}){3}) does not like recipient/.exec(text);
  return qmail ? qmail[1]! : null;
}

/** The lines after `start` up to the next blank line. */
function paragraphAfter(lines: string[], start: number): string[] {
  const out: string[] = [];
  for (let i = start; i < lines.length && lines[i]!.trim() !== ''; i++) out.push(lines[i]!);
  return out;
}

/** The text of a `The response was:` style block: the next paragraph (after one blank line at most). */
function responseBlock(text: string, label: RegExp): string | null {
  const m = label.exec(text);
  if (!m) return null;
  const lines = text.slice(m.index + m[0].length).split(/\r?\n/);
  let i = 0;
  if (lines[0]?.trim() === '') i++;
  if (lines[i]?.trim() === '') i++;
  const para = paragraphAfter(lines, i).join(' ');
  return clip(para);
}

function textHits(body: string): TextHit[] {
  const lines = body.split(/\r?\n/);
  const hits: TextHit[] = [];
  const seen = new Map<string, TextHit>();
  const add = (addr: string | null, diagnostic: string | null, remoteMta: string | null = remoteMtaIn(diagnostic)) => {
    if (!addr) return;
    const prev = seen.get(addr.toLowerCase());
    if (prev) {
      prev.diagnostic ??= diagnostic;
      prev.remoteMta ??= remoteMta;
      return;
    }
    const hit = { recipient: addr, diagnostic, remoteMta };
    seen.set(addr.toLowerCase(), hit);
    hits.push(hit);
  };

  // Exchange / Office 365: "Remote Server returned '550 5.1.1 ...'" under the address it is about.
  for (let i = 0; i < lines.length; i++) {
    const m = /Remote Server returned '([^']*)'?/i.exec(lines[i]!);
    if (!m) continue;
    for (let j = i - 1; j >= 0 && j >= i - 3; j--) {
      const a = addressIn(lines[j]!.trim().split(/\s/)[0]);
      if (a) {
        add(a, clip(m[1]!.replace(/^#/, '').replace(/##.*$/, '')), null);
        break;
      }
    }
  }
  // Gmail: "Your message wasn't delivered to x because ...", then "The response (from the remote server) was:".
  const gmail =
    /(?:Your message wasn't delivered to|There was a temporary problem delivering your message to|Your message to) (\S+?@\S+?)[.,]?\s(?:because|couldn't|Gmail)/i.exec(
      body,
    );
  if (gmail) {
    const response = responseBlock(body, /^The (?:response(?: from the remote server)?|error that the other server returned) was:[ \t]*$/im);
    add(addressIn(gmail[1]), response, remoteMtaIn(body));
  }
  // Postfix and qmail: "<x@y>: reason" / "<x@y>:" and the reason on the lines that follow, up to a blank line.
  for (let i = 0; i < lines.length; i++) {
    const m = /^<([^<>\s]+@[^<>\s]+)>:\s*(.*)$/.exec(lines[i]!);
    if (!m) continue;
    const rest = [m[2]!, ...paragraphAfter(lines, i + 1)].join(' ');
    add(normalizeAddress(m[1]), clip(rest));
  }
  // Exim, sendmail, older Gmail and Exchange: an address alone on an indented (or bare) line; the reason is the
  // more deeply indented lines under it (Exim, sendmail's "(reason: ...)").
  if (hits.length === 0) {
    for (let i = 0; i < lines.length; i++) {
      const m = /^([ \t]*)<?([^<>\s:]+@[^<>\s:]+?)>?(?:<mailto:[^>]*>|\s+\([^)]*\))?:?\s*$/.exec(lines[i]!);
      if (!m) continue;
      const indent = m[1]!.length;
      const under: string[] = [];
      for (let j = i + 1; j < lines.length; j++) {
        const l = lines[j]!;
        if (l.trim() === '' || (l.match(/^[ \t]*/)![0].length <= indent && indent > 0) || (indent === 0 && !/^[ \t]/.test(l))) break;
        under.push(l);
      }
      add(normalizeAddress(m[2]), clip(under.join(' ').replace(/^\s*\(reason:\s*(.*)\)\s*$/i, '$1')));
    }
  }
  // One recipient with no reason of its own: a "The response was:" style block anywhere is about it.
  if (hits.length === 1 && !hits[0]!.diagnostic) {
    hits[0]!.diagnostic =
      responseBlock(
        body,
        /^(?:The (?:response(?: from the remote server)?|error that the other server returned) was:|Technical details of (?:permanent|temporary) failure:)[ \t]*$/im,
      ) ?? null;
  }
  return hits;
}

function parseTextBounce(mail: ParsedMail, text: string, force: boolean): BounceReport | null {
  const marked = BOUNCE_MARKERS.some((m) => m.test(text));
  if (!marked && !force && !(looksLikeDaemon(mail) && BOUNCE_SUBJECT.test(mail.subject ?? ''))) return null;
  const body = cutCopy(text);
  const action: Action = DELAY_MARKERS.some((m) => m.test(body)) ? 'delayed' : 'failed';
  const own = new Set([
    fromOf(mail).address.toLowerCase(),
    ...(mail.to ? [mail.to].flat().flatMap((t) => t.value.map((v) => (v.address ?? '').toLowerCase())) : []),
  ]);
  const recipients = textHits(body)
    .filter((h) => !own.has(h.recipient.toLowerCase()) && !DAEMON_LOCAL.test(h.recipient.slice(0, h.recipient.lastIndexOf('@'))))
    .map((h): BouncedRecipient => {
      const status = findEnhancedStatus(h.diagnostic);
      return {
        recipient: h.recipient,
        action,
        status,
        diagnostic: h.diagnostic,
        remoteMta: h.remoteMta,
        severity: bounceSeverity(status, { action, replyCode: findReplyCode(h.diagnostic), diagnostic: h.diagnostic }),
      };
    });
  return { format: 'text', recipients };
}

/**
 * RFC 3464 multipart/report; report-type=delivery-status, else a plain-text bounce (Exim, qmail, Postfix without
 * DSN, Exchange/Office 365 NDR text, Gmail's text). Null when the message is no bounce at all. A report whose
 * delivery-status part cannot be read falls back to its human-readable text, and at worst reports no recipient.
 */
export function parseBounce(mail: ParsedMail): BounceReport | null {
  const { value, reportType } = contentTypeOf(mail);
  const isReport = value === 'multipart/report';
  if (isReport && reportType !== null && reportType !== 'delivery-status') return null; // ARF, read receipts
  const dsAttachments = attachmentsOf(mail, 'message/delivery-status', 'message/global-delivery-status');
  const text = bodyText(mail);
  const dsBody = dsAttachments.length > 0 ? dsAttachments.map(contentText).join('\n\n') : isReport ? deliveryStatusInText(text) : '';
  if (isReport || dsAttachments.length > 0) {
    const recipients = parseDeliveryStatus(dsBody);
    if (recipients.length > 0) return { format: 'dsn', recipients };
    const fallback = parseTextBounce(mail, text, true);
    if (fallback && fallback.recipients.length > 0) return fallback;
    return { format: 'dsn', recipients: [] };
  }
  return parseTextBounce(mail, text, false);
}

// ---------------------------------------------------------------------------------------------------------------
// Complaints: RFC 5965 ARF, Microsoft JMRP
// ---------------------------------------------------------------------------------------------------------------

/** The original message's header fields: from the message/rfc822 part, else text/rfc822-headers. */
function originalHeaders(mail: ParsedMail): Field[] | null {
  const part = attachmentsOf(mail, 'message/rfc822', 'message/global')[0] ?? attachmentsOf(mail, 'text/rfc822-headers', 'message/global-headers')[0];
  return part ? headerFields(contentText(part)) : null;
}

function messageIdIn(value: string | null): string | null {
  if (!value) return null;
  const m = /<[^<>\s]+>/.exec(value);
  if (m) return m[0];
  const bare = value.trim();
  return bare && !/\s/.test(bare) ? `<${bare}>` : null;
}

function complaintFrom(fields: Field[] | null, report: Field[], feedbackType: string): ComplaintReport {
  const original = fields ?? [];
  return {
    feedbackType,
    userAgent: field(report, 'user-agent'),
    originalRecipient:
      addressIn(field(report, 'original-rcpt-to')) ?? addressIn(field(original, 'x-hmxmroriginalrecipient')) ?? addressIn(field(original, 'to')),
    originalMessageId: messageIdIn(field(original, 'message-id')),
    listUnsubscribe: field(original, 'list-unsubscribe'),
  };
}

/**
 * The original's headers read from the raw report: mailparser inlines a `message/rfc822` part marked
 * `Content-Disposition: inline` (as Yahoo's ARF does) into mail.text and drops its headers, Message-ID and
 * List-Unsubscribe among them. Only an unencoded part is read (ARF sends the original as 7bit/8bit text).
 */
function originalHeadersInRaw(raw: Buffer | string): Field[] | null {
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  const m = /^Content-Type:[ \t]*(?:message\/rfc822|text\/rfc822-headers)\b[\s\S]*?\r?\n\r?\n/im.exec(text);
  if (!m) return null;
  const fields = headerFields(text.slice(m.index + m[0].length));
  return fields.length > 0 ? fields : null;
}

/**
 * RFC 5965 ARF (multipart/report; report-type=feedback-report), or a Microsoft JMRP report. Null when not a complaint.
 * Pass `raw` (the message as received) to get the original's Message-ID and List-Unsubscribe also when the
 * original is an inline message/rfc822 part, which mailparser does not keep as an attachment.
 */
export function parseComplaint(mail: ParsedMail, raw?: Buffer | string): ComplaintReport | null {
  const { value, reportType } = contentTypeOf(mail);
  const feedback = attachmentsOf(mail, 'message/feedback-report')[0];
  if (feedback || (value === 'multipart/report' && reportType === 'feedback-report')) {
    const report = feedback ? parseFields(contentText(feedback)) : [];
    // A report without its (required) type is still a report about our mail; providers send abuse reports.
    const feedbackType =
      field(report, 'feedback-type')
        ?.toLowerCase()
        .split(/[\s;(]/)[0] || 'abuse';
    return complaintFrom(originalHeaders(mail) ?? (raw !== undefined ? originalHeadersInRaw(raw) : null), report, feedbackType);
  }
  // JMRP: multipart/mixed with only the original attached; the marker keeps forwarded mail out.
  const original = originalHeaders(mail);
  if (!original || attachmentsOf(mail, 'message/rfc822').length === 0) return null;
  const jmrp =
    field(original, 'x-hmxmroriginalrecipient') !== null ||
    /^complaint about message from/i.test(mail.subject ?? '') ||
    /This is an (e-?mail )?abuse report for an e-?mail message/i.test(mail.text ?? '');
  return jmrp ? complaintFrom(original, [], 'abuse') : null;
}
