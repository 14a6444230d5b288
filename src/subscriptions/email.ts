// Owns what counts as a subscriber's email address: one address, normalised, nothing that could break a mail header.
import { domainToASCII } from 'node:url';
import { z } from 'zod';
import { isMailbox } from '../mail/envelope.js';

export const EMAIL_MESSAGES = {
  empty: 'Enter your email address.',
  tooLong: 'That email address is too long.',
  control: 'An email address cannot contain line breaks or control characters.',
  quotes: 'An email address cannot contain quotes.',
  several: 'Enter just one email address.',
  spaces: 'An email address cannot contain spaces.',
  brackets: 'Enter just the address, like name@example.org, without a name or angle brackets.',
  shape: 'That does not look like an email address (like name@example.org).',
  domain: 'The part after @ does not look like a domain (like example.org).',
} as const;

// Dot-atom local part (RFC 5322) minus the quote and backtick, which we refuse outright.
const LOCAL = /^[A-Za-z0-9!#$%&*+/=?^_{|}~-]+(\.[A-Za-z0-9!#$%&*+/=?^_{|}~-]+)*$/;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** Trims spaces, lower-cases (and punycodes) the domain, keeps the local part's case; undefined message = valid. */
export function checkEmail(input: string): { email: string } | { error: string } {
  // Only blanks are trimmed: a trailing CR/LF is an injection attempt, not a typo.
  const raw = input.replace(/^[ \t]+|[ \t]+$/g, '');
  if (raw === '') return { error: EMAIL_MESSAGES.empty };
  if (raw.length > 254) return { error: EMAIL_MESSAGES.tooLong };
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(raw)) return { error: EMAIL_MESSAGES.control };
  if (/["'`\u2018\u2019\u201c\u201d]/.test(raw)) return { error: EMAIL_MESSAGES.quotes };
  if (/[,;]/.test(raw) || (raw.match(/@/g) ?? []).length > 1) return { error: EMAIL_MESSAGES.several };
  if (/[<>]/.test(raw)) return { error: EMAIL_MESSAGES.brackets };
  if (!raw.includes('@')) return { error: EMAIL_MESSAGES.shape };
  if (/\s/.test(raw)) return { error: EMAIL_MESSAGES.spaces };
  const at = raw.lastIndexOf('@');
  if (at <= 0 || at === raw.length - 1) return { error: EMAIL_MESSAGES.shape };
  const local = raw.slice(0, at);
  if (local.length > 64 || !LOCAL.test(local)) return { error: EMAIL_MESSAGES.shape };
  const domain = domainToASCII(raw.slice(at + 1).toLowerCase());
  const labels = domain.split('.');
  if (!domain || labels.length < 2 || !labels.every((l) => LABEL.test(l)) || !/^(xn--[a-z0-9-]+|[a-z]{2,63})$/.test(labels.at(-1)!)) {
    return { error: EMAIL_MESSAGES.domain };
  }
  const email = `${local}@${domain}`;
  // What people type is checked above with messages for them; what may reach an SMTP command is decided in one place.
  if (!isMailbox(email)) return { error: EMAIL_MESSAGES.shape };
  return { email };
}

/** The zod form of `checkEmail`, for schemas at the edges (forms, CLI, CSV, inbound mail). */
export const emailSchema = z.string({ error: EMAIL_MESSAGES.empty }).transform((v, ctx) => {
  const r = checkEmail(v);
  if ('error' in r) {
    ctx.addIssue({ code: 'custom', message: r.error });
    return z.NEVER;
  }
  return r.email;
});

/**
 * What identifies a mailbox: the address with its ASCII letters folded, as SQLite's NOCASE compares (the unique index
 * of migration 070). The local part too, as every large mailbox provider treats it; the typed spelling is still what
 * is stored and mailed.
 */
export function emailKey(email: string): string {
  return email.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

export function normaliseEmail(input: string): string {
  return emailSchema.parse(input);
}
