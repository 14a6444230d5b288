// Owns one SMTP client connection: connect, greeting, EHLO, STARTTLS, AUTH, and replies matched to commands in order.
import net from 'node:net';
import tls from 'node:tls';
import os from 'node:os';
import { ReplyParser, parseEhlo, type SmtpReply, type SmtpTarget } from './smtp-wire.js';

/** Why a session could not go on: the connection failed, closed or timed out, or setup was refused. */
export class SessionError extends Error {
  constructor(
    message: string,
    /** The server's reply when it refused a setup step (greeting, EHLO, STARTTLS, AUTH). */
    public readonly reply?: SmtpReply,
  ) {
    super(message);
    this.name = 'SessionError';
  }
}

export interface SessionOptions {
  target: SmtpTarget;
  /** Limit for connecting and for each awaited reply; an idle session is closed after `idleMs`. */
  timeoutMs: number;
  idleMs: number;
  /** Extra TLS options (a test CA, client certificates). */
  tls?: tls.ConnectionOptions;
}

/** A reply, or the error that ended the session before it came. Never rejects, so pipelined waits leak nothing. */
export type Pending = Promise<SmtpReply | SessionError>;

export class SmtpSession {
  private socket!: net.Socket;
  private parser = new ReplyParser((r) => this.onReply(r));
  private waiters: ((r: SmtpReply | SessionError) => void)[] = [];
  private waitHead = 0;
  private failure: SessionError | null = null;
  extensions = new Map<string, string>();
  private quitting = false;

  constructor(private readonly opts: SessionOptions) {}

  /** Failed, or saying QUIT: either way not to be given another transaction. */
  get closed(): boolean {
    return this.failure !== null || this.quitting;
  }
  get pipelining(): boolean {
    return this.extensions.has('PIPELINING');
  }
  get secure(): boolean {
    return this.socket instanceof tls.TLSSocket;
  }

  /** Connects and runs the greeting, EHLO, STARTTLS and AUTH; throws SessionError when any step fails. */
  async open(): Promise<void> {
    const t = this.opts.target;
    const greeting = this.expect();
    try {
      await this.connect();
    } catch (err) {
      this.fail(err as SessionError);
      throw err;
    }
    await this.need(greeting, 220, 'greeting');
    await this.ehlo();
    if (!this.secure && t.starttls !== 'never') {
      if (this.extensions.has('STARTTLS')) {
        await this.need(this.command('STARTTLS'), 220, 'STARTTLS');
        await this.upgrade();
        await this.ehlo();
      } else if (t.starttls === 'required') {
        this.fail(new SessionError('the server does not offer STARTTLS, which SMTP_URL requires (starttls=required)'));
        throw this.failure;
      }
    }
    if (t.user !== undefined) {
      // A STARTTLS stripped on the way must not turn into a password sent in clear; plain AUTH is opted into.
      if (!this.secure && t.starttls !== 'never') {
        this.fail(
          new SessionError('refusing to send credentials without TLS: the server did not offer STARTTLS (use smtps://, or ?starttls=never to allow it)'),
        );
        throw this.failure;
      }
      await this.auth(t.user, t.pass ?? '');
    }
  }

  private connect(): Promise<void> {
    const t = this.opts.target;
    return new Promise((resolve, reject) => {
      // The timer is cleared on every outcome: a pending one keeps a CLI alive for timeoutMs after a refused connect.
      const onError = (err: Error) => {
        clearTimeout(timer);
        reject(new SessionError(`cannot connect to ${t.host}:${t.port}: ${err.message}`));
      };
      const sock = t.implicitTls
        ? tls.connect(
            { host: t.host, port: t.port, servername: net.isIP(t.host) ? undefined : t.host, rejectUnauthorized: t.rejectUnauthorized, ...this.opts.tls },
            () => done(),
          )
        : net.connect({ host: t.host, port: t.port }, () => done());
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new SessionError(`connecting to ${t.host}:${t.port} timed out`));
      }, this.opts.timeoutMs);
      sock.once('error', onError);
      const done = () => {
        clearTimeout(timer);
        sock.off('error', onError);
        this.attach(sock);
        resolve();
      };
    });
  }

  private attach(sock: net.Socket): void {
    this.socket = sock;
    sock.setNoDelay(true);
    sock.on('data', (chunk: Buffer) => {
      try {
        this.parser.push(chunk);
      } catch (err) {
        this.fail(new SessionError((err as Error).message));
      }
    });
    sock.on('error', (err) => this.fail(new SessionError(`connection error: ${err.message}`)));
    sock.on('close', () => this.fail(new SessionError('connection closed by the server')));
    this.setBusy(this.waiting > 0);
    sock.on('timeout', () => {
      if (this.waiting > 0) this.fail(new SessionError(`no reply from the server within ${this.opts.timeoutMs} ms`));
      else void this.quit();
    });
  }

  private upgrade(): Promise<void> {
    const t = this.opts.target;
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('error');
    plain.removeAllListeners('close');
    plain.removeAllListeners('timeout');
    plain.setTimeout(0);
    return new Promise((resolve, reject) => {
      const sock = tls.connect(
        { socket: plain, servername: net.isIP(t.host) ? undefined : t.host, rejectUnauthorized: t.rejectUnauthorized, ...this.opts.tls },
        () => {
          sock.off('error', onError);
          this.attach(sock);
          resolve();
        },
      );
      const onError = (err: Error) => {
        const e = new SessionError(`STARTTLS failed: ${err.message}`);
        this.fail(e);
        sock.destroy();
        reject(e);
      };
      sock.once('error', onError);
    });
  }

  private async ehlo(): Promise<void> {
    const name = (this.opts.target.name ?? os.hostname()).replace(/[^a-zA-Z0-9.\-[\]:]/g, '') || 'localhost';
    const reply = await this.need(this.command(`EHLO ${name}`), 250, 'EHLO');
    this.extensions = parseEhlo(reply);
  }

  private async auth(user: string, pass: string): Promise<void> {
    const mechs = (this.extensions.get('AUTH') ?? '').toUpperCase().split(/\s+/);
    if (mechs.includes('PLAIN') || !mechs.includes('LOGIN')) {
      const token = Buffer.from(`\0${user}\0${pass}`, 'utf8').toString('base64');
      await this.need(this.command(`AUTH PLAIN ${token}`), 235, 'AUTH PLAIN');
      return;
    }
    await this.need(this.command('AUTH LOGIN'), 334, 'AUTH LOGIN');
    await this.need(this.command(Buffer.from(user, 'utf8').toString('base64')), 334, 'AUTH LOGIN user');
    await this.need(this.command(Buffer.from(pass, 'utf8').toString('base64')), 235, 'AUTH LOGIN password');
  }

  /** Awaits a setup reply and turns anything but `code` into a SessionError (closing the session). */
  private async need(p: Pending, code: number, step: string): Promise<SmtpReply> {
    const r = await p;
    if (r instanceof SessionError) throw r;
    if (r.code !== code) {
      const e = new SessionError(`${step} refused: ${r.text}`, r);
      this.fail(e);
      throw e;
    }
    return r;
  }

  private get waiting(): number {
    return this.waiters.length - this.waitHead;
  }

  /** A promise for the next reply not yet claimed. Call in the same order as the commands are written. */
  expect(): Pending {
    if (this.failure) return Promise.resolve(this.failure);
    // Replies outstanding: keep the process alive and time the server out; none: let both go.
    if (this.waiting === 0) this.setBusy(true);
    return new Promise((resolve) => {
      this.waiters.push(resolve);
    });
  }

  /** Writes one command line and returns the promise for its reply. */
  command(line: string): Pending {
    const p = this.expect();
    this.write(line + '\r\n');
    return p;
  }

  write(data: Buffer | string): void {
    if (this.failure) return;
    this.socket.write(data);
  }

  /** Batches the writes until uncork into one syscall (writev). */
  cork(): void {
    if (!this.failure) this.socket.cork();
  }
  uncork(): void {
    if (!this.failure) this.socket.uncork();
  }

  private setBusy(busy: boolean): void {
    const sock = this.socket as net.Socket | undefined;
    if (!sock || this.failure) return;
    if (busy) {
      sock.ref();
      sock.setTimeout(this.opts.timeoutMs);
    } else {
      sock.unref();
      sock.setTimeout(this.opts.idleMs);
    }
  }

  private onReply(r: SmtpReply): void {
    const w = this.waiters[this.waitHead];
    if (!w) {
      // Unsolicited: a 421 before closing, or a broken server. Either way the session is over.
      this.fail(new SessionError(`unexpected reply from the server: ${r.text}`, r));
      return;
    }
    this.waiters[this.waitHead++] = undefined as never;
    if (this.waitHead > 1024 && this.waitHead * 2 > this.waiters.length) {
      this.waiters = this.waiters.slice(this.waitHead);
      this.waitHead = 0;
    }
    if (this.waiting === 0) this.setBusy(false);
    w(r);
  }

  /** Ends the session: every waiting command gets the error, the socket is destroyed. */
  fail(err: SessionError): void {
    if (this.failure) return;
    this.failure = err;
    const waiters = this.waiters.slice(this.waitHead);
    this.waiters = [];
    this.waitHead = 0;
    for (const w of waiters) w(err);
    this.socket?.destroy();
  }

  /** Polite close: QUIT, then drop the socket whatever the answer. */
  async quit(): Promise<void> {
    if (this.failure || this.quitting) return;
    this.quitting = true;
    this.socket.ref();
    const bye = this.command('QUIT');
    const timer = setTimeout(() => this.fail(new SessionError('closed')), 2000);
    await bye;
    clearTimeout(timer);
    this.fail(new SessionError('closed'));
  }
}
