// Owns the receiving end of SMTP in tests: a real smtp-server on loopback that records each message and plays the faults a test asks for.
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import type { AddressInfo, Socket } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';

export interface Reply {
  code: number;
  message: string;
}

/** What the server does once a message body is in: take it, refuse it with a reply, or cut the line before replying. */
export type DataAnswer = 'accept' | 'drop' | Reply;

/** The refusals real servers send, worded as the tests assert them. */
export const replies = {
  userUnknown: (address: string): Reply => ({ code: 550, message: `5.1.1 <${address}>: Recipient address rejected: User unknown` }),
  tryLater: { code: 451, message: '4.3.0 Try again later' } as Reply,
  refused: { code: 554, message: '5.7.1 Message refused' } as Reply,
};

export interface ReceivedMessage {
  from: string;
  to: string[];
  raw: Buffer;
  /** The Message-ID and Subject header values as they arrived (unfolded, undecoded), or '' when absent. */
  messageId: string;
  subject: string;
  secure: boolean;
  user?: string;
  sessionId: string;
}

/** A received message together with its mailparser reading. */
export type ParsedMessage = ReceivedMessage & { parsed: ParsedMail };

export interface SmtpReceiverOptions {
  /** A fixed port (e.g. from freePort(), for a child process told it in advance); 0 picks a free one. */
  port?: number;
  /** Passed through to smtp-server: TLS key/cert, hidePIPELINING, onAuth, secure, ... Defaults turn STARTTLS and AUTH off. */
  server?: Partial<SMTPServerOptions>;
}

export interface SmtpReceiver {
  port: number;
  url: string;
  /** Every message the server accepted, in order. Tests may empty it (`received.length = 0`). */
  received: ReceivedMessage[];
  /** Every message whose body arrived, with what the server answered (accepted, refused or dropped alike). */
  arrived: (ReceivedMessage & { answer: DataAnswer })[];
  /**
   * Per RCPT TO: null accepts, a reply refuses. `attempt` counts the tries for this address (see `attempts`), this
   * one included. A 421 makes smtp-server close the connection after replying, as a server going away does.
   */
  rcpt: (address: string, attempt: number) => Reply | null;
  /** Per message once its body is in. `attempt` counts the tries for its first recipient, this one included. */
  data: (message: ReceivedMessage, attempt: number) => DataAnswer;
  /** The slow server: each RCPT and DATA reply waits this long first. */
  delayMs: number;
  /**
   * What the server saw of each body, in order: `data:<first recipient>` at its first byte, `end:<first recipient>`
   * once whole (whatever the answer). Tests may push their own markers in between.
   */
  events: string[];
  /** Per address, how many transactions reached a verdict for it: a refused RCPT, or its DATA (whatever the answer). */
  attempts: Map<string, number>;
  /** Connections accepted so far, open now, and the most open at once; the ids of the SMTP sessions opened. */
  connections: { total: number; open: number; maxOpen: number };
  sessions: Set<string>;
  /** Refuses the next `n` RCPTs, whatever `rcpt` says, e.g. 451 (temporary) or 550 5.1.1 (permanent). */
  rejectNext(n: number, code: number, message: string): void;
  /** Resolves with the messages, parsed, once at least `count` arrived for `to` (any recipient when omitted). */
  waitFor(count: number, to?: string, timeoutMs?: number): Promise<ParsedMessage[]>;
  parsed(i: number): Promise<ParsedMail>;
  /** Cuts every open connection without a reply (a server dropping idle clients). */
  dropAll(): void;
  /** Stops listening and cuts open connections: the port refuses connections until start(). */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  /** Cuts open connections and closes the server for good. */
  close(): Promise<void>;
}

function smtpError(reply: Reply): Error & { responseCode: number } {
  return Object.assign(new Error(reply.message), { responseCode: reply.code });
}

function headerValue(raw: Buffer, name: string): string {
  const head = raw
    .subarray(0, 16_384)
    .toString('latin1')
    .split(/\r?\n\r?\n/)[0]!
    .replace(/\r?\n[ \t]+/g, ' ');
  return (new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(head)?.[1] ?? '').trim();
}

export async function startSmtpReceiver(options: SmtpReceiverOptions = {}): Promise<SmtpReceiver> {
  // smtp-server keeps its connections private and close() waits up to closeTimeout for clients to leave. The sockets
  // come from its public `server` (a net.Server), so they are tracked here at accept time and cut when a test drops a
  // connection or stops the server. A session is matched to its socket by the client's address and port.
  const sockets = new Map<string, Socket>();
  const keyOf = (address: string | undefined, port: number | undefined) => `${(address ?? '').replace(/^::ffff:/, '')}:${port ?? 0}`;
  let rejects = { n: 0, reply: { code: 0, message: '' } as Reply };
  const waiters = new Set<() => void>();
  const tick = (address: string) => {
    const n = (r.attempts.get(address) ?? 0) + 1;
    r.attempts.set(address, n);
    return n;
  };
  const later = (fn: () => void) => (r.delayMs > 0 ? void setTimeout(fn, r.delayMs) : fn());
  const matching = (to?: string) => r.received.filter((m) => !to || m.to.includes(to));

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    ...options.server,
    onConnect(session, cb) {
      r.sessions.add(session.id);
      if (options.server?.onConnect) return options.server.onConnect(session, cb);
      cb();
    },
    onRcptTo(address, _session, cb) {
      let reply: Reply | null;
      if (rejects.n > 0) {
        rejects.n--;
        reply = rejects.reply;
      } else {
        reply = r.rcpt(address.address, (r.attempts.get(address.address) ?? 0) + 1);
      }
      if (reply) tick(address.address);
      later(() => cb(reply ? smtpError(reply) : null));
    },
    onData(stream, session: SMTPServerSession, cb) {
      const chunks: Buffer[] = [];
      const first = session.envelope.rcptTo[0]?.address ?? '';
      stream.once('data', () => r.events.push(`data:${first}`));
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        r.events.push(`end:${first}`);
        const raw = Buffer.concat(chunks);
        const message: ReceivedMessage = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((t) => t.address),
          raw,
          messageId: headerValue(raw, 'Message-ID'),
          subject: headerValue(raw, 'Subject'),
          secure: session.secure,
          user: session.user as string | undefined,
          sessionId: session.id,
        };
        const counts = message.to.map(tick);
        const answer = r.data(message, counts[0] ?? 1);
        r.arrived.push({ ...message, answer });
        if (answer === 'drop') {
          // The body arrived whole but the client never hears back: the "outcome unknown" case.
          sockets.get(keyOf(session.remoteAddress, session.remotePort))?.destroy();
          return;
        }
        later(() => {
          if (answer !== 'accept') return cb(smtpError(answer));
          r.received.push(message);
          for (const w of waiters) w();
          cb(null, 'Ok: queued as TEST' + r.received.length);
        });
      });
    },
  });
  // Clients killed mid-session reset their connections; that is the point of some tests, not a failure.
  server.on('error', () => {});
  server.server.on('connection', (socket: Socket) => {
    const key = keyOf(socket.remoteAddress, socket.remotePort);
    sockets.set(key, socket);
    r.connections.total++;
    r.connections.open = sockets.size;
    r.connections.maxOpen = Math.max(r.connections.maxOpen, sockets.size);
    socket.on('close', () => {
      sockets.delete(key);
      r.connections.open = sockets.size;
    });
  });
  const cutAll = () => {
    for (const s of sockets.values()) s.destroy();
  };
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.server.off('error', reject);
        resolve();
      });
    });

  const r: SmtpReceiver = {
    port: 0,
    url: '',
    received: [],
    arrived: [],
    rcpt: () => null,
    data: () => 'accept',
    delayMs: 0,
    events: [],
    attempts: new Map(),
    connections: { total: 0, open: 0, maxOpen: 0 },
    sessions: new Set(),
    rejectNext(n, code, message) {
      rejects = { n, reply: { code, message } };
    },
    waitFor(count, to, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const got = matching(to);
          if (got.length < count) return;
          waiters.delete(check);
          clearTimeout(timer);
          Promise.all(got.map(async (m) => ({ ...m, parsed: await simpleParser(m.raw) }))).then(resolve, reject);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`expected ${count} message(s)${to ? ` to ${to}` : ''}, got ${matching(to).length}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    parsed: (i) => simpleParser(r.received[i]!.raw),
    dropAll: cutAll,
    stop: () =>
      new Promise<void>((resolve) => {
        // The net.Server, not smtp-server's close(): smtp-server would wait for clients, and could not listen again.
        server.server.close(() => resolve());
        cutAll();
      }),
    start: () => listen(r.port),
    close: () =>
      new Promise<void>((resolve) => {
        // close() would wait up to closeTimeout (30 s) for connected clients; cutting them first makes it return now.
        server.close(() => resolve());
        cutAll();
      }),
  };
  await listen(options.port ?? 0);
  r.port = (server.server.address() as AddressInfo).port;
  r.url = `smtp://127.0.0.1:${r.port}`;
  return r;
}
