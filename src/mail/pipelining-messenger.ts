// Owns the fast SMTP path: a pool of persistent connections that pipeline (RFC 2920) bodies dot-stuffed once.
import type tls from 'node:tls';
import type { Config } from '../config.js';
import MailComposer from 'nodemailer/lib/mail-composer';
import { createSigner, dkimKey, type DkimKey, type Signer } from './dkim.js';
import { SendError, mailOptions, type Messenger, type OutgoingMessage, type RawMessage, type SendResult } from './messenger.js';
import { checkEnvelope } from './envelope.js';
import { dotStuff, parseSmtpUrl, type SmtpReply, type SmtpTarget } from './smtp-wire.js';
import { SessionError, SmtpSession, type Pending } from './smtp-session.js';

export interface PipeliningMessengerOptions {
  /** smtp://[user:pass@]host[:port][?starttls=required|never][&tls_reject_unauthorized=false] or smtps://... */
  url: string;
  /** Connections kept open (SMTP_POOL_SIZE). */
  poolSize: number;
  /** From header for `send()` when the message has none (MAIL_FROM). */
  defaultFrom?: string;
  /** Per reply (and connect) limit; default 60 s. */
  timeoutMs?: number;
  /** An unused connection is closed (QUIT) after this long; default 30 s. */
  idleMs?: number;
  /** Extra TLS options, e.g. `{ ca }` for a private relay. */
  tls?: tls.ConnectionOptions;
  /**
   * DKIM for mail composed by `send()` (confirmations and the like). `sendRaw()` sends bytes as given: digests are
   * signed by whoever builds them, before stuffing (a signature over stuffed bytes would not verify).
   */
  dkim?: DkimKey;
}

interface Job {
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
type Envelope = Pending[];

const CRLF_DOT_CRLF = Buffer.from('.\r\n');

/** Whether chunks (empty ones left out) end with CRLF, the line end the terminating dot needs before it. */
function endsWithCrlf(chunks: readonly Buffer[]): boolean {
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
function sessionError(e: SessionError, when: string, unreachable = false): SendError {
  return new SendError(`${when}: ${e.message}`, 'temporary', e.reply?.code, e.reply?.enhanced, e.reply?.text, undefined, unreachable);
}

export class PipeliningMessenger implements Messenger {
  readonly name = 'smtp-pipelining';
  private readonly target: SmtpTarget;
  private queue: Job[] = [];
  private queueHead = 0;
  private takers: ((job: Job | null) => void)[] = [];
  private workers = 0;
  private closing = false;
  private readonly done = new Set<Promise<void>>();
  private readonly signer: Signer | null;

  constructor(private readonly opts: PipeliningMessengerOptions) {
    this.target = parseSmtpUrl(opts.url);
    if (!(opts.poolSize >= 1)) throw new Error('poolSize must be at least 1');
    this.signer = opts.dkim ? createSigner(opts.dkim) : null;
  }

  async send(msg: OutgoingMessage): Promise<SendResult> {
    const node = new MailComposer(mailOptions(msg, this.opts.defaultFrom)).compile();
    const built = await node.build();
    const raw = this.signer ? await this.signer(built) : built;
    const env = node.getEnvelope();
    return this.sendRaw({
      envelope: { from: env.from || '', to: env.to },
      raw,
      messageId: node.messageId(),
    });
  }

  sendRaw(msg: RawMessage): Promise<SendResult> {
    if (this.closing) return Promise.reject(new SendError('messenger is closed', 'temporary'));
    try {
      // One plain mailbox each (no command injection), as every messenger checks: a permanent SendError otherwise.
      checkEnvelope(msg.envelope);
    } catch (err) {
      return Promise.reject(err);
    }
    const { from, to } = msg.envelope;
    let body: readonly Buffer[];
    if (msg.dotStuffed) {
      body = typeof msg.raw === 'string' ? [Buffer.from(msg.raw, 'utf8')] : Buffer.isBuffer(msg.raw) ? [msg.raw] : msg.raw.filter((b) => b.length > 0);
      if (!endsWithCrlf(body)) body = [...body, Buffer.from('\r\n')];
    } else {
      body = [dotStuff(Array.isArray(msg.raw) ? Buffer.concat(msg.raw) : (msg.raw as Buffer | string))];
    }
    return new Promise<SendResult>((resolve, reject) => {
      this.enqueue({ from, to, body, messageId: msg.messageId, onWire: msg.onWire, resolve, reject, requeued: false }, false);
    });
  }

  /** Sends what is queued, waits for every reply, then says QUIT on each connection. */
  async close(): Promise<void> {
    this.closing = true;
    for (const t of this.takers.splice(0)) t(null);
    while (this.done.size > 0) await Promise.all([...this.done]);
  }

  private get queued(): number {
    return this.queue.length - this.queueHead;
  }

  private enqueue(job: Job, front: boolean): void {
    const taker = this.takers.shift();
    if (taker) return taker(job);
    if (front) {
      if (this.queueHead > 0) this.queue[--this.queueHead] = job;
      else this.queue.unshift(job);
    } else {
      this.queue.push(job);
    }
    if (this.workers < this.opts.poolSize) this.spawn();
  }

  private tryTake(): Job | null {
    if (this.queueHead >= this.queue.length) return null;
    const job = this.queue[this.queueHead]!;
    this.queue[this.queueHead++] = undefined as never;
    if (this.queueHead === this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
    } else if (this.queueHead > 4096 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
    return job;
  }

  private take(): Promise<Job | null> | Job | null {
    const job = this.tryTake();
    if (job || this.closing) return job;
    return new Promise((resolve) => this.takers.push(resolve));
  }

  private spawn(): void {
    this.workers++;
    const p: Promise<void> = this.work()
      .catch(() => undefined)
      .finally(() => {
        this.workers--;
        this.done.delete(p);
        // A worker that gave up (connect failure) may leave work behind.
        if (this.queued > 0 && this.workers < this.opts.poolSize) this.spawn();
      });
    this.done.add(p);
  }

  private newSession(): SmtpSession {
    return new SmtpSession({
      target: this.target,
      timeoutMs: this.opts.timeoutMs ?? 60_000,
      idleMs: this.opts.idleMs ?? 30_000,
      tls: this.opts.tls,
    });
  }

  /** One connection's loop: take a job, run its transaction, keep the connection for the next. */
  private async work(): Promise<void> {
    let session: SmtpSession | null = null;
    let carried: { job: Job; env: Envelope } | null = null;
    let lastFinal: Promise<void> = Promise.resolve();
    for (;;) {
      let job: Job | null;
      let env: Envelope | null = null;
      if (carried) {
        ({ job, env } = carried);
        carried = null;
      } else {
        job = await this.take();
        if (!job) break;
      }
      // A carried envelope was written on this session; if it died, pipelined() sees that and requeues the job.
      if (!env && (!session || session.closed)) {
        session = this.newSession();
        try {
          await session.open();
        } catch (err) {
          session = null;
          job.reject(sessionError(err as SessionError, 'SMTP connection setup failed', true));
          // Stop this worker; spawn() replaces it while work is queued, so a dead server costs one job per attempt.
          return;
        }
      }
      if (env || session!.pipelining) {
        const r = await this.pipelined(session!, job, env);
        carried = r.carried;
        lastFinal = r.final;
      } else {
        await this.sequential(session!, job);
      }
    }
    await lastFinal;
    if (session) await session.quit();
  }

  private writeEnvelope(s: SmtpSession, job: Job): Envelope {
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

  /** The connection died before the body went out: nothing was accepted, so another connection may try once. */
  private lostBeforeBody(job: Job, err: SessionError): void {
    if (!job.requeued && !this.closing) {
      job.requeued = true;
      this.enqueue(job, true);
    } else {
      job.reject(sessionError(err, 'connection lost before the message was sent'));
    }
  }

  /**
   * Judges MAIL FROM and RCPT TO replies. Returns the accepted recipients, or the error for the job when none
   * can take the message.
   */
  private judge(job: Job, mail: SmtpReply, rcpts: SmtpReply[]): { accepted: string[]; rejected: string[] } | SendError {
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
  private wireOk(s: SmtpSession, job: Job): boolean {
    try {
      job.onWire?.();
      return true;
    } catch (err) {
      s.fail(new SessionError(`abandoned: ${(err as Error).message}`));
      job.reject(new SendError(`not sent: recording it as on the wire failed: ${(err as Error).message}`, 'temporary'));
      return false;
    }
  }

  private settle(job: Job, rcpt: { accepted: string[]; rejected: string[] }, r: SmtpReply | SessionError): void {
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
  private async pipelined(
    s: SmtpSession,
    job: Job,
    env: Envelope | null,
  ): Promise<{ carried: { job: Job; env: Envelope } | null; final: Promise<void> }> {
    const replies = await Promise.all(env ?? this.writeEnvelope(s, job));
    const lost = replies.find((r): r is SessionError => r instanceof SessionError);
    if (lost) {
      // A server that is going away says why first (421, RFC 5321 3.8): that reply, not the bare close, goes on record.
      const parting = replies.find((r): r is SmtpReply => !(r instanceof SessionError) && r.code === 421);
      this.lostBeforeBody(job, parting ? new SessionError(`the server is closing the connection: ${parting.text}`, parting) : lost);
      return { carried: null, final: Promise.resolve() };
    }
    const [mail, ...rest] = replies as SmtpReply[];
    const data = rest.pop()!;
    const verdict = this.judge(job, mail!, rest);
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
    if (!this.wireOk(s, job)) return { carried: null, final: Promise.resolve() };
    s.cork();
    for (const chunk of job.body) s.write(chunk);
    s.write(CRLF_DOT_CRLF);
    const final = s.expect().then((r) => this.settle(job, verdict, r));
    let carried: { job: Job; env: Envelope } | null = null;
    const next = this.tryTake();
    if (next) carried = { job: next, env: this.writeEnvelope(s, next) };
    s.uncork();
    return { carried, final };
  }

  /** Without PIPELINING every command waits for its reply. */
  private async sequential(s: SmtpSession, job: Job): Promise<void> {
    const mail = await s.command(`MAIL FROM:<${job.from}>`);
    if (mail instanceof SessionError) return this.lostBeforeBody(job, mail);
    const rcpts: SmtpReply[] = [];
    if (mail.code === 250) {
      for (const rcpt of job.to) {
        const r = await s.command(`RCPT TO:<${rcpt}>`);
        if (r instanceof SessionError) return this.lostBeforeBody(job, r);
        rcpts.push(r);
      }
    }
    const verdict = this.judge(job, mail, rcpts);
    if (verdict instanceof SendError) {
      if (mail.code === 250) void s.command('RSET');
      return job.reject(verdict);
    }
    const data = await s.command('DATA');
    if (data instanceof SessionError) return this.lostBeforeBody(job, data);
    if (data.code !== 354) {
      void s.command('RSET');
      return job.reject(replyError(data, 'DATA'));
    }
    if (!this.wireOk(s, job)) return;
    s.cork();
    for (const chunk of job.body) s.write(chunk);
    s.write(CRLF_DOT_CRLF);
    const final = s.expect();
    s.uncork();
    this.settle(job, verdict, await final);
  }
}

export function createPipeliningMessenger(opts: PipeliningMessengerOptions): PipeliningMessenger {
  return new PipeliningMessenger(opts);
}

/** The messenger for `MAIL_TRANSPORT=smtp`: SMTP_URL, SMTP_POOL_SIZE connections, MAIL_FROM and DKIM_* for composed mail. */
export function pipeliningMessengerFromConfig(
  config: Pick<Config, 'SMTP_URL' | 'SMTP_POOL_SIZE' | 'MAIL_FROM' | 'DKIM_DOMAIN' | 'DKIM_SELECTOR' | 'DKIM_PRIVATE_KEY'>,
): PipeliningMessenger {
  if (!config.SMTP_URL) throw new Error('SMTP_URL is required for the SMTP messenger');
  return new PipeliningMessenger({
    url: config.SMTP_URL,
    poolSize: config.SMTP_POOL_SIZE,
    defaultFrom: config.MAIL_FROM,
    dkim: dkimKey(config),
  });
}
