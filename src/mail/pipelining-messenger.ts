// Owns the fast SMTP path: a pool of persistent connections, each running one transaction after another
// (smtp-transaction.ts) and pipelining (RFC 2920) bodies dot-stuffed once; composed mail is built and signed here.
import type tls from 'node:tls';
import type { Config } from '../config.js';
import MailComposer from 'nodemailer/lib/mail-composer';
import { createSigner, dkimKey, type DkimKey, type Signer } from './dkim.js';
import { SendError, mailOptions, type Messenger, type OutgoingMessage, type RawMessage, type SendResult } from './messenger.js';
import { checkEnvelope } from './envelope.js';
import { dotStuff, parseSmtpUrl, type SmtpTarget } from './smtp-wire.js';
import { type SessionError, SmtpSession } from './smtp-session.js';
import { endsWithCrlf, pipelined, sequential, sessionError, type Connection, type Envelope, type Job } from './smtp-transaction.js';

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
    if (taker) {
      taker(job);
      return;
    }
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

  private readonly connection: Connection = { lost: (job, err) => this.lostBeforeBody(job, err), next: () => this.tryTake() };

  /** The connection died before the body went out: nothing was accepted, so another connection may try once. */
  private lostBeforeBody(job: Job, err: SessionError): void {
    if (!job.requeued && !this.closing) {
      job.requeued = true;
      this.enqueue(job, true);
    } else {
      job.reject(sessionError(err, 'connection lost before the message was sent'));
    }
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
        const r = await pipelined(session!, job, env, this.connection);
        carried = r.carried;
        lastFinal = r.final;
      } else {
        await sequential(session!, job, this.connection);
      }
    }
    await lastFinal;
    if (session) await session.quit();
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
