// Owns the translation of nodemailer results and SMTP replies into SendResult / SendError (retry or give up).
import { SendError, type SendFailure, type SendResult } from './messenger.js';

/** What nodemailer hangs on the errors it hands back (see nodemailer's NodemailerError). */
interface TransportErrorLike {
  message?: string;
  code?: string;
  originalCode?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  recipient?: string;
  rejectedErrors?: TransportErrorLike[];
}

/** What nodemailer's sendMail resolves with for SMTP (and what the outbox fakes). */
export interface TransportInfo {
  accepted?: (string | { address: string })[];
  rejected?: (string | { address: string })[];
  rejectedErrors?: TransportErrorLike[];
  response?: string;
  messageId?: string;
}

/**
 * Transport codes that mean "our side or the relay is not working right now", not "this message is bad".
 * Auth and TLS failures are in here on purpose: a wrong SMTP password is fixed by the operator and the
 * queued deliveries should then go out, not be failed for good one by one.
 */
const TEMPORARY_CODES = new Set([
  'ECONNECTION',
  'ETIMEDOUT',
  'ESOCKET',
  'EDNS',
  'ETLS',
  'EPROXY',
  'EAUTH',
  'ENOAUTH',
  'EOAUTH2',
  'EMAXLIMIT',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

/** Codes of a connection that could not be made at all: the server's state, nothing sent (SendError.unreachable). */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND', 'EDNS']);

/** `550 5.1.1 <x>: Recipient address rejected` -> `5.1.1`; also finds the code on a continuation line. */
export function enhancedCodeOf(response: string | undefined): string | undefined {
  if (!response) return undefined;
  const m = /^[245]\d\d[ -]([245]\.\d{1,3}\.\d{1,3})(?=\s|$)/m.exec(response);
  return m?.[1];
}

/** The three-digit reply code at the start of a server response, if there is one. */
export function replyCodeOf(response: string | undefined): number | undefined {
  const m = /^([2-5]\d\d)(?=[ -]|$)/.exec(response ?? '');
  return m ? Number(m[1]) : undefined;
}

/**
 * RFC 5321: 4yz is transient, 5yz permanent. 503 (bad sequence of commands) says the session was in the
 * wrong state, not that the message was refused, so it is retried (nodemailer judges it the same way).
 * An enhanced code disagreeing with the reply class (e.g. `550 4.2.0`) is rare; the reply code wins.
 */
export function failureOfReply(code: number): SendFailure {
  return code >= 500 && code < 600 && code !== 503 ? 'permanent' : 'temporary';
}

/** Any error out of nodemailer (or a socket) as a SendError; already-classified errors pass through. */
export function classifySendError(err: unknown): SendError {
  if (err instanceof SendError) return err;
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as TransportErrorLike;
  const message = e.message ?? 'send failed';
  const code = e.originalCode ?? e.code;
  const responseCode = e.responseCode ?? replyCodeOf(e.response);
  if (responseCode !== undefined) {
    return new SendError(message, failureOfReply(responseCode), responseCode, enhancedCodeOf(e.response), e.response, e.code);
  }
  // No reply from the server: the connection failed, timed out, or the greeting never came. All retried.
  // A message whose fate is unknown (cut off after DATA) also lands here; the ledger decides about those.
  if ((code && TEMPORARY_CODES.has(code)) || (e.code && TEMPORARY_CODES.has(e.code)) || e.command === 'CONN') {
    // nodemailer tags every socket error with command CONN, even mid-DATA; only the connect timeout and the
    // codes of a refused or unresolvable connection say no session was ever made.
    const unreachable = (code !== undefined && UNREACHABLE_CODES.has(code)) || (code === 'ETIMEDOUT' && e.command === 'CONN');
    return new SendError(message, 'temporary', undefined, undefined, undefined, code, unreachable);
  }
  // Anything else (a message nodemailer could not build, a bad address it refused locally) will fail the
  // same way next time.
  return new SendError(message, 'permanent', undefined, undefined, undefined, code);
}

function addressOf(a: string | { address: string }): string {
  return typeof a === 'string' ? a : a.address;
}

/**
 * A "successful" send can still have refused recipients. Nobody accepted: throw the refusal (a temporary
 * one first, so a deferred recipient is retried rather than given up). Some accepted: report the rest in
 * `rejected` / `rejectedErrors` so the caller can fail those addresses without resending to the others.
 */
export function resultOfInfo(info: TransportInfo, messageId: string): SendResult {
  const accepted = (info.accepted ?? []).map(addressOf);
  const rejected = (info.rejected ?? []).map(addressOf);
  const rejectedErrors = (info.rejectedErrors ?? []).map((e, i) => ({
    recipient: e.recipient ?? rejected[i] ?? '',
    error: classifySendError(e),
  }));
  for (const r of rejected) {
    if (!rejectedErrors.some((x) => x.recipient === r)) {
      rejectedErrors.push({ recipient: r, error: new SendError(`recipient ${r} rejected`, 'permanent') });
    }
  }
  if (accepted.length === 0) {
    const first = rejectedErrors.find((x) => x.error.failure === 'temporary') ?? rejectedErrors[0];
    throw first?.error ?? new SendError('no recipient accepted the message', 'temporary', undefined, undefined, info.response);
  }
  const result: SendResult = { accepted, rejected, response: info.response ?? '', messageId };
  if (rejectedErrors.length > 0) result.rejectedErrors = rejectedErrors;
  return result;
}
