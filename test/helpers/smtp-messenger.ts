// The messenger tests send through: paperboy's own default SMTP client (the pipelining pool), pointed at a local server.
import { createPipeliningMessenger, type PipeliningMessenger } from '../../src/mail/pipelining-messenger.js';

/** The real client, not a stand-in: what `MAIL_TRANSPORT=smtp` ships, plain SMTP to 127.0.0.1:port. */
export function createSmtpTestMessenger(port: number, opts: { pool?: number } = {}): PipeliningMessenger {
  return createPipeliningMessenger({
    url: `smtp://127.0.0.1:${port}?starttls=never`,
    poolSize: opts.pool ?? 3,
    defaultFrom: 'paperboy <digest@localhost>',
    timeoutMs: 10_000,
  });
}
