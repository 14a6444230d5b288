// Owns one SMTP mail transaction on an open session: the envelope, the replies judged, the body, the outcome settled.
import { SendError, type SendResult } from './messenger.js';
import type { SmtpReply } from './smtp-wire.js';
import { SessionError, type SmtpSession, type Pending } from './smtp-session.js';

export interface Job {
  from: string;
  to: string[];
  /** Dot-stuffed, ends with CRLF; the terminating ".\r\n" is written separately. Chunks are written in order. */
  body: readonly Buffer[];
  messageId: string;
  onWire: (() => void) | undefined;
  resolve(r: SendResult): void;
  reject(e: SendError): void;
  /** A job whose connection died before its body was written goes back to the queue once. */
  requeued: boolean;
}

/** The replies to MAIL FROM, each RCPT TO and DATA, in that order. */
export type Envelope = Pending[];

const CRLF_DOT_CRLF = Buffer.from('.\r\n');

/** Whether chunks (empty ones left out) end with CRLF, the line end the terminating dot needs before it. */
export function endsWithCrlf(chunks: readonly Buffer[]): boolean {
  const last = chunks[chunks.length - 1];
  if (!last) return false;
  if (last.length >= 2) return last[last.length - 2] === 13 && last[last.length - 1] === 10;
  const prev = chunks[chunks.length - 2];
  return last[0] === 10 && prev !== undefined && prev[prev.length - 1] === 13;
}

function replyError(r: SmtpReply, step: string): SendError {
  return new SendError(`${step} refused: ${r.text}`, r.code >= 500 && r.code < 600 ? 'permanent' : 'temporary', r.code, r.enhanced, r.text);
}

/** Connection trouble and refused setup steps say nothing about the message: always worth a retry. */
export function sessionError(e: SessionError, when: string, unreachable = false): SendError {
  return new SendError(`${when}: ${e.message}`, 'temporary', e.reply?.code, e.reply?.enhanced, e.reply?.text, undefined, unreachable);
}

/** What a transaction needs from the pool its connection belongs to. */
export interface Connection {
  /** The connection died before the body went out: nothing was accepted, so the pool may try it elsewhere once. */
  lost(job: Job, err: SessionError): void;
  /** The next queued job, if any, whose envelope can ride in the same write as this body (pipelining). */
  next(): Job | null;
}

export function writeEnvelope(s: SmtpSession, job: Job): Envelope {
  const env: Envelope = [s.expect()];
  let cmds = `MAIL FROM:<${job.from}>\r\n`;
  for (const rcpt of job.to) {
    env.push(s.expect());
    cmds += `RCPT TO:<${rcpt}>\r\n`;
  }
  env.push(s.expect());
  s.write(cmds + 'DATA\r\n');
  return env;
}

/**
 * Judges MAIL FROM and RCPT TO replies. Returns the accepted recipients, or the error for the job when none
 * can take the message.
 */
export function judge(job: Job, mail: SmtpReply, rcpts: SmtpReply[]): { accepted: string[]; rejected: string[] } | SendError {
  if (mail.code !== 250) return replyError(mail, 'MAIL FROM');
  const accepted: string[] = [];
  const rejected: string[] = [];
  let firstRefusal: SmtpReply | null = null;
  rcpts.forEach((r, i) => {
    if (r.code === 250 || r.code === 251) accepted.push(job.to[i]!);
    else {
      rejected.push(job.to[i]!);
      firstRefusal ??= r;
    }
  });
  if (accepted.length === 0) return replyError(firstRefusal!, 'RCPT TO');
  return { accepted, rejected };
}

/**
 * Runs the job's wire hook before its body is written. When the hook fails the body must not go out, and DATA is
 * already open on the server: dropping the connection is the one way to abandon it (the server discards a message
 * whose terminating dot never came).
 */
function wireOk(s: SmtpSession, job: Job): boolean {
  try {
    job.onWire?.();
    return true;
  } catch (err) {
    s.fail(new SessionError(`abandoned: ${(err as Error).message}`));
    job.reject(new SendError(`not sent: recording it as on the wire failed: ${(err as Error).message}`, 'temporary'));
    return false;
  }
}

function settle(job: Job, rcpt: { accepted: string[]; rejected: string[] }, r: SmtpReply | SessionError): void {
  if (r instanceof SessionError) {
    job.reject(sessionError(r, 'connection lost after the message was sent (outcome unknown)'));
  } else if (r.code === 250) {
    job.resolve({ accepted: rcpt.accepted, rejected: rcpt.rejected, response: r.text, messageId: job.messageId });
  } else {
    job.reject(replyError(r, 'message'));
  }
}

/**
 * RFC 2920: MAIL, RCPT and DATA go in one write; once DATA is answered 354 the body, the terminating dot and
 * the NEXT queued message's envelope go in one corked write, so each message costs one round trip.
 */
export async function pipelined(
  s: SmtpSession,
  job: Job,
  env: Envelope | null,
  conn: Connection,
): Promise<{ carried: { job: Job; env: Envelope } | null; final: Promise<void> }> {
  const replies = await Promise.all(env ?? writeEnvelope(s, job));
  const lost = replies.find((r): r is SessionError => r instanceof SessionError);
  if (lost) {
    // A server that is going away says why first (421, RFC 5321 3.8): that reply, not the bare close, goes on record.
    const parting = replies.find((r): r is SmtpReply => !(r instanceof SessionError) && r.code === 421);
    conn.lost(job, parting ? new SessionError(`the server is closing the connection: ${parting.text}`, parting) : lost);
    return { carried: null, final: Promise.resolve() };
  }
  const [mail, ...rest] = replies as SmtpReply[];
  const data = rest.pop()!;
  const verdict = judge(job, mail!, rest);
  if (verdict instanceof SendError || data.code !== 354) {
    if (data.code === 354) {
      // The server opened DATA with no valid recipient: end it empty (RFC 2920 3.1).
      void s.expect();
      s.write(CRLF_DOT_CRLF);
    } else if (mail!.code === 250) {
      // The transaction is still open on the server side.
      void s.command('RSET');
    }
    job.reject(verdict instanceof SendError ? verdict : replyError(data, 'DATA'));
    return { carried: null, final: Promise.resolve() };
  }
  if (!wireOk(s, job)) return { carried: null, final: Promise.resolve() };
  s.cork();
  for (const chunk of job.body) s.write(chunk);
  s.write(CRLF_DOT_CRLF);
  const final = s.expect().then((r) => settle(job, verdict, r));
  let carried: { job: Job; env: Envelope } | null = null;
  const next = conn.next();
  if (next) carried = { job: next, env: writeEnvelope(s, next) };
  s.uncork();
  return { carried, final };
}

/** Without PIPELINING every command waits for its reply. */
export async function sequential(s: SmtpSession, job: Job, conn: Connection): Promise<void> {
  const mail = await s.command(`MAIL FROM:<${job.from}>`);
  if (mail instanceof SessionError) return conn.lost(job, mail);
  const rcpts: SmtpReply[] = [];
  if (mail.code === 250) {
    for (const rcpt of job.to) {
      const r = await s.command(`RCPT TO:<${rcpt}>`);
      if (r instanceof SessionError) return conn.lost(job, r);
      rcpts.push(r);
    }
  }
  const verdict = judge(job, mail, rcpts);
  if (verdict instanceof SendError) {
    if (mail.code === 250) void s.command('RSET');
    return job.reject(verdict);
  }
  const data = await s.command('DATA');
  if (data instanceof SessionError) return conn.lost(job, data);
  if (data.code !== 354) {
    void s.command('RSET');
    return job.reject(replyError(data, 'DATA'));
  }
  if (!wireOk(s, job)) return;
  s.cork();
  for (const chunk of job.body) s.write(chunk);
  s.write(CRLF_DOT_CRLF);
  const final = s.expect();
  s.uncork();
  settle(job, verdict, await final);
}
