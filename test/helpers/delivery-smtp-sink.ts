// A real smtp-server on port 0 that answers per recipient as a test tells it: 250, 451, 550 5.1.1, or a dropped connection after DATA.
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import type { AddressInfo } from 'node:net';

export type Answer = 'accept' | 'tempfail' | 'hardbounce' | 'reject' | 'drop';

export interface Received {
  to: string[];
  raw: Buffer;
  messageId: string | null;
}

export interface SmtpSink {
  port: number;
  received: Received[];
  /** How many DATA commands each recipient reached (accepted or not). */
  attempts: Map<string, number>;
  answer: (rcpt: string, attempt: number) => Answer;
  close(): Promise<void>;
}

export async function startSmtpSink(answer: (rcpt: string, attempt: number) => Answer = () => 'accept'): Promise<SmtpSink> {
  const sink: SmtpSink = { port: 0, received: [], attempts: new Map(), answer, close: async () => {} };
  const server: SMTPServer = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    size: 10 * 1024 * 1024,
    onRcptTo(address, _session, cb) {
      // Unknown users are refused at RCPT the way a real server does.
      if (sink.answer(address.address, (sink.attempts.get(address.address) ?? 0) + 1) === 'hardbounce') {
        sink.attempts.set(address.address, (sink.attempts.get(address.address) ?? 0) + 1);
        const err = new Error('5.1.1 <' + address.address + '>: Recipient address rejected: User unknown') as Error & { responseCode: number };
        err.responseCode = 550;
        return cb(err);
      }
      cb();
    },
    onData(stream, session: SMTPServerSession, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const to = session.envelope.rcptTo.map((r) => r.address);
        const rcpt = to[0] ?? '';
        const n = (sink.attempts.get(rcpt) ?? 0) + 1;
        sink.attempts.set(rcpt, n);
        const what = sink.answer(rcpt, n);
        if (what === 'drop') {
          for (const c of (server as unknown as { connections: Set<{ session: SMTPServerSession; _socket: { destroy(): void } }> }).connections) {
            if (c.session === session) c._socket.destroy();
          }
          return;
        }
        if (what === 'tempfail') {
          const err = new Error('4.3.0 Try again later') as Error & { responseCode: number };
          err.responseCode = 451;
          return cb(err);
        }
        if (what === 'reject') {
          const err = new Error('5.7.1 Message refused') as Error & { responseCode: number };
          err.responseCode = 554;
          return cb(err);
        }
        const raw = Buffer.concat(chunks);
        const messageId = /^Message-ID:\s*(<[^>]+>)/im.exec(raw.subarray(0, 4096).toString('latin1'))?.[1] ?? null;
        sink.received.push({ to, raw, messageId });
        cb(null, 'Ok: queued');
      });
    },
  });
  // Clients killed mid-session reset their connections; that is the point of some tests, not a failure.
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  sink.port = (server.server.address() as AddressInfo).port;
  sink.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return sink;
}
