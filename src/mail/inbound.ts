// Owns subscribing and unsubscribing by email: a small SMTP listener for subscribe@ / unsubscribe@ MAIL_DOMAIN.
//
// Trust model (why a From line alone never unsubscribes anyone):
// - From: and the envelope sender can be forged by anyone who can reach this port. So
//   - mail to subscribe@ only *starts* a subscription: the address goes `pending` and gets a confirmation
//     email; nothing happens until its owner clicks. A forged From costs the victim one confirmation a day
//     at most (the subscribe service caps it).
//   - mail to unsubscribe+<signed token>@ unsubscribes the subscriber the token was signed for. The token is
//     in the List-Unsubscribe mailto: of every digest, so only someone who got that digest can use it.
//   - mail to the bare unsubscribe@ (or with subject "unsubscribe") and no token does nothing but log: with
//     no token there is no proof the sender owns the address. Such people use the link in any digest.
// - Junk gets no reply: unknown recipients are refused during RCPT (550 5.1.1), messages without exactly one
//   valid From, automatic mail (null sender, Auto-Submitted, Precedence: bulk/junk/list) are accepted with
//   250 and dropped, so nothing here ever sends mail back to an unverified address except the confirmation.
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';

/** What the listener needs from the subscription service (the web helper implements it). */
export interface InboundSubscriptions {
  /** Starts double opt-in for `email` (pending + confirmation email); same answer whatever its state. */
  subscribe(email: string, source: 'email'): Promise<void>;
  /** Unsubscribes the subscriber a signed token names; false when the token does not verify. */
  unsubscribeByToken(token: string): Promise<boolean>;
}

export interface InboundDeps {
  config: Pick<Config, 'INBOUND_SMTP_HOST' | 'INBOUND_SMTP_PORT' | 'INBOUND_MAX_BYTES' | 'MAIL_DOMAIN'>;
  subscriptions: InboundSubscriptions;
  log: Logger;
}

export interface InboundServer {
  /** Listens; resolves with the bound port (INBOUND_SMTP_PORT=0 picks a free one). */
  start(): Promise<number>;
  close(): Promise<void>;
}

/** Every reply text the listener sends, in one place. */
const REPLIES = {
  unknownRecipient: (domain: string) => `5.1.1 Recipient unknown: this server takes mail only for subscribe@${domain} and unsubscribe@${domain}`,
  accepted: '2.0.0 Thanks, received',
  tryLater: '4.3.0 Temporary problem, try again later',
  banner: 'paperboy subscription mail',
} as const;

type Target = { kind: 'subscribe' } | { kind: 'unsubscribe' } | { kind: 'unsubscribe-token'; token: string };

/** Tokens are URL-safe (base64url with dots); anything else in the +detail is not a token we made. */
const TOKEN = /^[A-Za-z0-9._~-]{8,512}$/;

/** Which of our addresses `address` is, or null for any other. */
export function targetOf(address: string, domain: string): Target | null {
  const at = address.lastIndexOf('@');
  if (at < 1) return null;
  const local = address.slice(0, at);
  if (address.slice(at + 1).toLowerCase() !== domain.toLowerCase()) return null;
  const lower = local.toLowerCase();
  if (lower === 'subscribe') return { kind: 'subscribe' };
  if (lower === 'unsubscribe') return { kind: 'unsubscribe' };
  // Local parts are case-sensitive (RFC 5321) and so is the token: only the fixed prefix is matched loosely.
  if (lower.startsWith('unsubscribe+')) {
    const token = local.slice('unsubscribe+'.length);
    return TOKEN.test(token) ? { kind: 'unsubscribe-token', token } : null;
  }
  return null;
}

/** "Re: Subscribe " -> "subscribe"; any other subject -> null. */
function subjectCommand(subject: string | undefined): 'subscribe' | 'unsubscribe' | null {
  const s = (subject ?? '').trim().replace(/^((re|fwd?|aw|sv)\s*:\s*)+/i, '').trim().toLowerCase();
  return s === 'subscribe' || s === 'unsubscribe' ? s : null;
}

const EMAIL = /^[^\s@"<>(),;:\\[\]\x00-\x1f\x7f]{1,64}@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i;

/** The one sender address of a message, or null when there is none, several, or it looks wrong. */
function senderOf(mail: ParsedMail): string | null {
  const from = mail.from?.value ?? [];
  if (from.length !== 1 || from[0]!.group) return null;
  const address = (from[0]!.address ?? '').trim();
  return address.length <= 254 && EMAIL.test(address) ? address : null;
}

/** Mail no person typed: bounces, vacation replies, list traffic. Answering it is how loops start. */
function isAutomatic(mail: ParsedMail, session: SMTPServerSession): boolean {
  if (!session.envelope.mailFrom || !session.envelope.mailFrom.address) return true;
  const auto = String(mail.headers.get('auto-submitted') ?? 'no').trim().toLowerCase();
  if (auto !== 'no') return true;
  const precedence = String(mail.headers.get('precedence') ?? '').trim().toLowerCase();
  return ['bulk', 'junk', 'list', 'auto_reply'].includes(precedence);
}

export function createInboundServer(deps: InboundDeps): InboundServer {
  const { config, subscriptions } = deps;
  const log = deps.log.child({ component: 'inbound-smtp' });
  const domain = config.MAIL_DOMAIN;

  function smtpError(code: number, message: string): Error {
    return Object.assign(new Error(message), { responseCode: code });
  }

  /** Acts on one accepted message. Throws only when the sender should retry (our database hiccuped). */
  async function handle(mail: ParsedMail, session: SMTPServerSession): Promise<void> {
    const targets = session.envelope.rcptTo.map((r) => targetOf(r.address, domain)).filter((t): t is Target => t !== null);
    // A token proves who is leaving; it is honoured whatever the subject or sender says.
    const tokens = [...new Set(targets.flatMap((t) => (t.kind === 'unsubscribe-token' ? [t.token] : [])))];
    for (const token of tokens) {
      const ok = await subscriptions.unsubscribeByToken(token);
      log.info({ ok }, ok ? 'unsubscribed by mail' : 'unsubscribe mail with a token that does not verify');
    }
    if (tokens.length > 0) return;
    if (isAutomatic(mail, session)) {
      log.info('ignored automatic mail');
      return;
    }
    const sender = senderOf(mail);
    if (!sender) {
      log.info('ignored mail without exactly one valid From address');
      return;
    }
    const command = subjectCommand(mail.subject) ?? (targets.some((t) => t.kind === 'subscribe') ? 'subscribe' : 'unsubscribe');
    if (command === 'subscribe') {
      try {
        await subscriptions.subscribe(sender, 'email');
        log.info('subscription by mail started (pending confirmation)');
      } catch (err) {
        // An address the subscribe service refuses (bad syntax, blocked) is junk to us, not a retry.
        if ((err as { name?: string }).name === 'ZodError' || (err as { statusCode?: number }).statusCode === 400) {
          log.info({ err: (err as Error).message }, 'subscription by mail refused');
          return;
        }
        throw err;
      }
      return;
    }
    // No token: From can be forged, so a bare "unsubscribe" changes nothing (see the top of this file).
    log.info('unsubscribe mail without a token ignored; the List-Unsubscribe link or address carries one');
  }

  const server = new SMTPServer({
    name: domain,
    banner: REPLIES.banner,
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    disableReverseLookup: true,
    size: config.INBOUND_MAX_BYTES,
    rejectOversized: true,
    maxClients: 100,
    socketTimeout: 30_000,
    logger: false,
    onRcptTo(address: SMTPServerAddress, _session, cb) {
      if (!targetOf(address.address, domain)) return cb(smtpError(550, REPLIES.unknownRecipient(domain)));
      cb();
    },
    onData(stream: SMTPServerDataStream, session, cb) {
      simpleParser(stream, { skipHtmlToText: true, skipImageLinks: true, skipTextLinks: true, maxHtmlLengthToParse: config.INBOUND_MAX_BYTES })
        .then(async (mail) => {
          // Over the cap: smtp-server answers 552 itself; the truncated message is not acted on.
          if (stream.sizeExceeded) return cb();
          await handle(mail, session);
          cb(null, REPLIES.accepted);
        })
        .catch((err: unknown) => {
          log.error({ err }, 'inbound mail failed');
          if (stream.sizeExceeded) return cb();
          // Drain what is left so the reply lines up with the end of DATA.
          stream.resume();
          stream.once('end', () => cb(smtpError(451, REPLIES.tryLater)));
          if (stream.readableEnded) cb(smtpError(451, REPLIES.tryLater));
        });
    },
  });
  server.on('error', (err) => log.warn({ err }, 'inbound smtp error'));

  return {
    start() {
      return new Promise<number>((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        server.server.once('error', onError);
        server.listen(config.INBOUND_SMTP_PORT, config.INBOUND_SMTP_HOST, () => {
          server.server.off('error', onError);
          const port = (server.server.address() as AddressInfo).port;
          log.info({ host: config.INBOUND_SMTP_HOST, port }, 'inbound SMTP listening');
          resolve(port);
        });
      });
    },
    close() {
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
