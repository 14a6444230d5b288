// Owns reading mail that reports on our mail: RFC 3464 delivery status notifications and the plain-text bounces MTAs
// still send, RFC 5965 (ARF) complaint reports, and the one classification of a failure as hard or soft.
import type { ParsedMail } from 'mailparser';

export type BounceSeverity = 'hard' | 'soft';

export interface BouncedRecipient {
  /** Final-Recipient (else Original-Recipient) without its address type; null when a text bounce names nobody. */
  recipient: string | null;
  action: 'failed' | 'delayed' | 'delivered' | 'relayed' | 'expanded' | null;
  /** Enhanced status code, e.g. 5.1.1 (from Status:, or found in the diagnostic or the text). */
  status: string | null;
  /** Diagnostic-Code without its type, whitespace folded; for a text bounce, the line that gives the reason. */
  diagnostic: string | null;
  remoteMta: string | null;
  /** Null when the recipient did not fail (delivered, relayed, expanded). */
  severity: BounceSeverity | null;
}

export interface BounceReport {
  format: 'dsn' | 'text';
  recipients: BouncedRecipient[];
}

export interface ComplaintReport {
  /** abuse, fraud, not-spam, ... (lower case). A report without a feedback-report part (Microsoft JMRP) is abuse. */
  feedbackType: string;
  userAgent: string | null;
  originalRecipient: string | null;
  originalMessageId: string | null;
  /** The original message's List-Unsubscribe, unfolded; its signed token names the subscriber. */
  listUnsubscribe: string | null;
}

/*
 * Hard or soft, and why:
 *   5.1.x          hard  the address or its domain does not exist (RFC 3463: bad destination mailbox or system)
 *   5.1.7, 5.1.8   soft  these are about OUR sender address, not the recipient's
 *   5.2.1          hard  mailbox disabled, not accepting messages
 *   5.4.1, 5.4.4   hard  no answer from / unroutable destination; Exchange Online also says 5.4.1 for
 *                        "Recipient address rejected: Access denied" (the address does not exist there)
 *   5.2.2          soft  mailbox full: the reader may empty it
 *   5.7.x          soft  policy (spam filters, reputation, DMARC): about the message or us, counted, not final
 *   other 5.x.x    soft  content or system trouble (message too big, 5.6.x): not the address's fault
 *   4.x.x, delayed soft  temporary; counted so an address that never recovers is dropped in the end
 *   5xx without an enhanced code: hard when the text says the user does not exist, else soft
 */
const UNKNOWN_USER =
  /\b(user unknown|unknown user|no such (user|mailbox|recipient)|does not exist|doesn't exist|mailbox (is )?unavailable|invalid (recipient|mailbox|address)|recipient (address )?rejected|address rejected|unknown (recipient|mailbox|address)|account (has been )?disabled|mailbox not found|not our customer)\b/i;

function normalStatus(status: string | null | undefined): string | null {
  const m = /\b([245])\.(\d{1,3})\.(\d{1,3})\b/.exec(status ?? '');
  return m ? `${m[1]}.${Number(m[2])}.${Number(m[3])}` : null;
}

/** The one classification used for DSNs, text bounces and synchronous 5xx replies at RCPT/DATA (src/delivery/sender.ts). */
export function bounceSeverity(
  status: string | null | undefined,
  opts: { replyCode?: number | undefined; action?: BouncedRecipient['action'] | undefined; diagnostic?: string | null | undefined } = {},
): BounceSeverity | null {
  const { action } = opts;
  if (action === 'delivered' || action === 'relayed' || action === 'expanded') return null;
  if (action === 'delayed') return 'soft';
  const code = normalStatus(status);
  if (code?.startsWith('2.')) return null;
  if (code?.startsWith('4.')) return 'soft';
  if (code && code !== '5.0.0') {
    if (code === '5.1.7' || code === '5.1.8') return 'soft';
    if (code.startsWith('5.1.') || code === '5.2.1' || code === '5.4.1' || code === '5.4.4') return 'hard';
    return 'soft';
  }
  const reply = opts.replyCode;
  if (reply !== undefined && reply >= 200 && reply < 400) return null;
  if (reply !== undefined && reply >= 400 && reply < 500) return 'soft';
  // 5.0.0, a bare 5xx, or a text bounce with no code: the words decide.
  return UNKNOWN_USER.test(opts.diagnostic ?? '') ? 'hard' : 'soft';
}

/** `Name: value` fields of one header-style block, continuation lines unfolded, names lower-cased. */
function fields(block: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const m = /^([A-Za-z][A-Za-z0-9-]*)\s*:\s*(.*)$/.exec(line);
    if (m && !out.has(m[1]!.toLowerCase())) out.set(m[1]!.toLowerCase(), m[2]!.trim());
  }
  return out;
}

/** `rfc822; a@b.org` -> `a@b.org` (domain lower-cased); null for anything that is no address. */
function addressOf(value: string | undefined): string | null {
  if (!value) return null;
  const v = value
    .replace(/^[a-z0-9-]+\s*;\s*/i, '')
    .replace(/^<|>$/g, '')
    .trim();
  const at = v.lastIndexOf('@');
  if (at < 1 || /\s/.test(v)) return null;
  return v.slice(0, at) + v.slice(at).toLowerCase();
}

const fold = (s: string | undefined, max = 500): string | null => (s ? s.replace(/\s+/g, ' ').trim().slice(0, max) || null : null);

const ACTIONS = new Set(['failed', 'delayed', 'delivered', 'relayed', 'expanded']);

function reportType(mail: ParsedMail): string | null {
  const ct = mail.headers.get('content-type') as { value?: string; params?: Record<string, string> } | undefined;
  if (ct?.value?.toLowerCase() !== 'multipart/report') return null;
  return ct.params?.['report-type']?.toLowerCase() ?? null;
}

/**
 * The machine-readable part of a report. mailparser folds a `message/delivery-status` part into `text` but keeps a
 * `message/feedback-report` as an attachment (and versions differ), so both places are read.
 */
function reportText(mail: ParsedMail, type: string): string {
  const parts = mail.attachments.filter((a) => a.contentType === type).map((a) => a.content.toString('utf8'));
  return [...parts, mail.text ?? ''].join('\n\n');
}

/** The per-recipient field groups of RFC 3464 section 2.3: paragraphs with Final-Recipient, or Action and Status. */
function dsnRecipients(text: string): BouncedRecipient[] {
  const out: BouncedRecipient[] = [];
  for (const para of text.split(/\r?\n\s*\r?\n/)) {
    const f = fields(para);
    if (!f.has('final-recipient') && !(f.has('action') && f.has('status'))) continue;
    const rawAction = f.get('action')?.toLowerCase().split(/\s/)[0] ?? '';
    const action = ACTIONS.has(rawAction) ? (rawAction as BouncedRecipient['action']) : null;
    const diagnostic = fold(f.get('diagnostic-code')?.replace(/^[a-z0-9-]+\s*;\s*/i, ''));
    const status = normalStatus(f.get('status')) ?? normalStatus(diagnostic);
    const replyCode = /^([245]\d\d)\b/.exec(diagnostic ?? '')?.[1];
    out.push({
      recipient: addressOf(f.get('final-recipient')) ?? addressOf(f.get('original-recipient')),
      action,
      status,
      diagnostic,
      remoteMta: fold(f.get('remote-mta')?.replace(/^[a-z0-9-]+\s*;\s*/i, ''), 255),
      // A group that says nothing about failure (no action, no status) is not counted against anyone.
      severity:
        action === null && status === null ? null : bounceSeverity(status, { action, diagnostic, replyCode: replyCode ? Number(replyCode) : undefined }),
    });
  }
  return out;
}

/** What the sender and subject of a text bounce look like (Exim, qmail, Postfix without DSN, Exchange, Gmail). */
const BOUNCE_FROM = /^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)@/i;
const BOUNCE_SUBJECT =
  /(undeliver|undelivered|delivery (status notification|failure|has failed|failed)|failure notice|returned mail|mail delivery (failed|system)|could not be delivered|non-?delivery|delivery notification|warning: could not send)/i;
const DELAYED_TEXT = /\b(delayed|will (retry|keep trying)|still trying|has not yet been delivered|temporarily deferred)\b/i;

/** The reason line of a text bounce: the first with an SMTP reply or enhanced code, else one with the typical words. */
function textReason(text: string): { line: string | null; status: string | null; replyCode: number | undefined } {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  const coded = lines.find((l) => /\b[45]\d\d[ -][45]\.\d{1,3}\.\d{1,3}\b/.test(l)) ?? lines.find((l) => /\b[45]\.\d{1,3}\.\d{1,3}\b/.test(l));
  const line = coded ?? lines.find((l) => /^\s*[45]\d\d[ -]/.test(l)) ?? lines.find((l) => UNKNOWN_USER.test(l) || /\b(mailbox full|quota)\b/i.test(l)) ?? null;
  const reply = /\b([45]\d\d)[ -]/.exec(line ?? '')?.[1];
  return { line: fold(line ?? undefined), status: normalStatus(line), replyCode: reply ? Number(reply) : undefined };
}

function textRecipient(text: string): string | null {
  const m = /<([^<>\s@]+@[^<>\s@]+\.[^<>\s@]+)>/.exec(text) ?? /^\s*([^\s@<>:]+@[^\s@<>]+\.[a-z]{2,})\s*:?\s*$/im.exec(text);
  return m ? addressOf(m[1]) : null;
}

/** A bounce report, or null when the message is no bounce at all (a vacation reply, a person writing back). */
export function parseBounce(mail: ParsedMail): BounceReport | null {
  const text = mail.text ?? '';
  if (reportType(mail) === 'delivery-status') {
    const recipients = dsnRecipients(reportText(mail, 'message/delivery-status'));
    if (recipients.length > 0) return { format: 'dsn', recipients };
    // A report whose status part cannot be read: fall through and read it as text.
  }
  const from = mail.from?.value?.[0]?.address ?? '';
  if (!BOUNCE_FROM.test(from) && !BOUNCE_SUBJECT.test(mail.subject ?? '')) return null;
  const reason = textReason(text);
  const delayed = DELAYED_TEXT.test(mail.subject ?? '') || (reason.status?.startsWith('4.') ?? false) || (reason.line === null && DELAYED_TEXT.test(text));
  if (!reason.line && !delayed) return null;
  const action = delayed ? 'delayed' : 'failed';
  return {
    format: 'text',
    recipients: [
      {
        recipient: textRecipient(text),
        action,
        status: reason.status,
        diagnostic: reason.line,
        remoteMta: null,
        severity: bounceSeverity(reason.status, { action, diagnostic: reason.line, replyCode: reason.replyCode }),
      },
    ],
  };
}

/** The header block of the original message: a message/rfc822 or text/rfc822-headers part. */
function originalHeaders(mail: ParsedMail): Map<string, string> | null {
  const part = mail.attachments.find((a) => a.contentType === 'message/rfc822' || a.contentType === 'text/rfc822-headers');
  if (!part) return null;
  const raw = part.content.toString('utf8');
  const end = raw.search(/\r?\n\r?\n/);
  return fields(end === -1 ? raw : raw.slice(0, end));
}

/** An ARF complaint, or null when the message is none (no report, no original message attached). */
export function parseComplaint(mail: ParsedMail): ComplaintReport | null {
  const original = originalHeaders(mail);
  let report: Map<string, string> | null = null;
  if (reportType(mail) === 'feedback-report') {
    report =
      reportText(mail, 'message/feedback-report')
        .split(/\r?\n\s*\r?\n/)
        .map(fields)
        .find((f) => f.has('feedback-type')) ?? null;
  }
  if (!report && !original) return null;
  return {
    feedbackType: (report?.get('feedback-type') ?? 'abuse').toLowerCase().split(/\s/)[0]!,
    userAgent: fold(report?.get('user-agent'), 200),
    originalRecipient: addressOf(report?.get('original-rcpt-to')) ?? addressOf(/<([^>]+)>/.exec(original?.get('to') ?? '')?.[1] ?? original?.get('to')),
    originalMessageId: /<[^<>\s]+>/.exec(original?.get('message-id') ?? '')?.[0] ?? null,
    listUnsubscribe: fold(original?.get('list-unsubscribe'), 2000),
  };
}
