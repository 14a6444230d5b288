// Owns a real SMTP server for mail tests: port 0, answers per recipient and per message as the test tells it.
import { SMTPServer } from 'smtp-server';
import type { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';

export interface Reply {
  code: number;
  message: string;
}

/** What the server does once the message body is in: accept it, refuse it, or cut the line. */
export type DataBehaviour = { kind: 'accept' } | { kind: 'reply'; reply: Reply } | { kind: 'drop' };

export interface Received {
  from: string;
  to: string[];
  raw: Buffer;
}

export interface TestSmtpServer {
  port: number;
  url: string;
  received: Received[];
  /** Per recipient: null accepts, a reply refuses. */
  rcpt: (address: string) => Reply | null;
  data: DataBehaviour;
  /** Connections opened so far, and the most that were open at once (all clients together). */
  connections: { total: number; maxOpen: number };
  parsed(i: number): Promise<ParsedMail>;
  close(): Promise<void>;
}

function smtpError(reply: Reply): Error & { responseCode: number } {
  const err = new Error(reply.message) as Error & { responseCode: number };
  err.responseCode = reply.code;
  return err;
}

export async function startTestSmtpServer(): Promise<TestSmtpServer> {
  const sockets = new Map<number, Socket>();
  const state: TestSmtpServer = {
    port: 0,
    url: '',
    received: [],
    rcpt: () => null,
    data: { kind: 'accept' },
    connections: { total: 0, maxOpen: 0 },
    parsed: (i) => simpleParser(state.received[i]!.raw),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets.values()) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(address, _session, cb) {
      const reply = state.rcpt(address.address);
      cb(reply ? smtpError(reply) : null);
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const behaviour = state.data;
        if (behaviour.kind === 'drop') {
          // The body arrived whole but the client never hears back: the "outcome unknown" case.
          sockets.get(session.remotePort)?.destroy();
          return;
        }
        if (behaviour.kind === 'reply') return cb(smtpError(behaviour.reply));
        state.received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks),
        });
        cb(null, 'Ok: queued as TEST' + state.received.length);
      });
    },
  });
  // smtp-server keeps its sockets to itself; the net server underneath lets a test cut one.
  server.server.on('connection', (socket: Socket) => {
    const port = socket.remotePort ?? 0;
    sockets.set(port, socket);
    state.connections.total++;
    state.connections.maxOpen = Math.max(state.connections.maxOpen, sockets.size);
    socket.on('close', () => sockets.delete(port));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  state.port = (server.server.address() as AddressInfo).port;
  state.url = `smtp://127.0.0.1:${state.port}`;
  return state;
}
