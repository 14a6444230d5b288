// A real SMTP server on a free port that keeps every message it accepts, parsed with mailparser.
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import type { AddressInfo } from 'node:net';

export interface ReceivedMail {
  envelope: { from: string; to: string[] };
  parsed: ParsedMail;
  raw: string;
}

export interface SmtpSink {
  port: number;
  mails: ReceivedMail[];
  /** Reject the next `n` recipients with this reply, e.g. 451 (temporary) or 550 5.1.1 (permanent). */
  rejectNext(n: number, code: number, message: string): void;
  /** Resolves with the mails once at least `count` arrived for `to` (any recipient when omitted). */
  waitFor(count: number, to?: string, timeoutMs?: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const mails: ReceivedMail[] = [];
  let rejects: { n: number; code: number; message: string } = { n: 0, code: 0, message: '' };
  const waiters = new Set<() => void>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(address, _session, cb) {
      if (rejects.n > 0) {
        rejects.n--;
        const err = Object.assign(new Error(rejects.message), { responseCode: rejects.code });
        return cb(err);
      }
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        simpleParser(raw)
          .then((parsed) => {
            mails.push({
              envelope: {
                from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
                to: session.envelope.rcptTo.map((r) => r.address),
              },
              parsed,
              raw: raw.toString('utf8'),
            });
            for (const w of waiters) w();
            cb();
          })
          .catch(cb);
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  const matching = (to?: string) => mails.filter((m) => !to || m.envelope.to.includes(to));
  return {
    port,
    mails,
    rejectNext(n, code, message) {
      rejects = { n, code, message };
    },
    waitFor(count, to, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const got = matching(to);
          if (got.length >= count) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(got);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`expected ${count} mail(s)${to ? ` to ${to}` : ''}, got ${matching(to).length}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
