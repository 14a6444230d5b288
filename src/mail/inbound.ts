// Owns mail that comes to paperboy: a small SMTP listener for subscribe@ / unsubscribe@ MAIL_DOMAIN, the VERP bounce
// addresses (bounces+TOKEN@BOUNCE_DOMAIN) and the complaints address (ARF feedback loops).
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
// - Bounces and complaints come from machines, mostly with the null sender: they are taken in, parsed and handed on,
//   never answered. A bounce counts only against the delivery its signed VERP token names; a complaint only against a
//   subscriber its original message proves (a signed unsubscribe token, see src/delivery/bounce-processing.ts). Neither
//   can cause mail, so they are outside the per-client rate limit: a relay returning a big edition's bounces must not
//   be told to wait.
// - Junk gets no reply: unknown recipients are refused during RCPT (550 5.1.1), messages without exactly one
//   valid From, automatic mail (null sender, Auto-Submitted, Precedence: bulk/junk/list) are accepted with
//   250 and dropped, so nothing here ever sends mail back to an unverified address except the confirmation.
// - Anyone can forge a new From on every message, so the confirmations a client can cause are capped where the
//   client cannot vary anything: recipients per message, messages per connection, messages per client address
//   per minute (the same budget as the web form). Over a cap the answer is a 4xx "try later": nothing is acted on.
// - A message we can never read (mailparser gives up on it, e.g. multiparts nested thousands deep) gets 554: a 4xx
//   would have the sending server retry it for days. Only a failure of ours (the database) answers 451.
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { ParsedMail } from 'mailparser';
import { simpleParser } from './parse-mail.js';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { parseBounce, parseComplaint, type BounceReport, type ComplaintReport } from './bounce-report.js';
import { complaintsAddress, verpToken } from './return-path.js';

/** What the listener needs from the subscription service (the web helper implements it). */
export interface InboundSubscriptions {
  /** Starts double opt-in for `email` (pending + confirmation email); same answer whatever its state. */
  subscribe(email: string, source: 'email'): Promise<void>;
  /** Unsubscribes the subscriber a signed token names; false when the token does not verify. */
  unsubscribeByToken(token: string): Promise<boolean>;
}

/** What the listener hands bounces and complaints to (src/delivery/bounce-processing.ts implements it). */
export interface InboundReturns {
  bounce(token: string, report: BounceReport): { kind: string };
  complaint(report: ComplaintReport): { kind: string };
}

type TargetConfig = Pick<Config, 'MAIL_DOMAIN' | 'BOUNCE_DOMAIN' | 'COMPLAINTS_ADDRESS'>;

export interface InboundDeps {
  config: Pick<
    Config,
    | 'BOUNCE_DOMAIN'
    | 'COMPLAINTS_ADDRESS'
    | 'INBOUND_SMTP_HOST'
    | 'INBOUND_SMTP_PORT'
    | 'INBOUND_MAX_BYTES'
    | 'MAIL_DOMAIN'
    | 'INBOUND_MAX_RECIPIENTS'
    | 'INBOUND_MAX_MESSAGES_PER_CONNECTION'
    | 'INBOUND_RATE_LIMIT_PER_MIN'
  >;
  subscriptions: InboundSubscriptions;
  /** Bounces and complaints; without it those addresses are refused like any other. */
  returns?: InboundReturns;
  log: Logger;
  /** Milliseconds now, for the per-client window (tests move it). */
  now?: () => number;
}

export interface InboundServer {
  /** Listens; resolves with the bound port (INBOUND_SMTP_PORT=0 picks a free one). */
  start(): Promise<number>;
  close(): Promise<void>;
}

/** Every reply text the listener sends, in one place. */
const REPLIES = {
  unknownRecipient: (domain: string) => `5.1.1 Recipient unknown: this server takes mail only for subscribe@${domain}, unsubscribe@${domain} and bounces`,
  accepted: '2.0.0 Thanks, received',
  tryLater: '4.3.0 Temporary problem, try again later',
  unreadable: '5.6.0 Message could not be parsed; it will not be accepted in this form',
  tooManyRecipients: (max: number) => `4.5.3 Too many recipients: at most ${max} per message`,
  tooManyOnConnection: (max: number) => `4.7.0 Too many messages on one connection (at most ${max}), try later on a new one`,
  rateLimited: (max: number) => `4.7.1 Too many messages from your address (at most ${max} a minute), try later`,
  banner: 'paperboy subscription mail',
} as const;

type Target =
  | { kind: 'subscribe' }
  | { kind: 'unsubscribe' }
  | { kind: 'unsubscribe-token'; token: string }
  | { kind: 'bounce'; token: string }
  | { kind: 'complaint' };

/** Targets that can make paperboy send mail (a confirmation): only these count against a client's rate limit. */
const CAUSES_MAIL = new Set<Target['kind']>(['subscribe', 'unsubscribe', 'unsubscribe-token']);

/** Tokens are URL-safe (base64url with dots); anything else in the +detail is not a token we made. */
const TOKEN = /^[A-Za-z0-9._~-]{8,512}$/;

/** Which of our addresses `address` is, or null for any other. */
export function targetOf(address: string, config: TargetConfig): Target | null {
  const domain = config.MAIL_DOMAIN;
  const bounce = verpToken(address, config);
  if (bounce) return { kind: 'bounce', token: bounce };
  if (address.toLowerCase() === complaintsAddress(config)) return { kind: 'complaint' };
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
  const s = (subject ?? '')
    .trim()
    .replace(/^((re|fwd?|aw|sv)\s*:\s*)+/i, '')
    .trim()
    .toLowerCase();
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
  const from = session.envelope.mailFrom;
  if (from === false || !from.address) return true;
  const auto = String(mail.headers.get('auto-submitted') ?? 'no')
    .trim()
    .toLowerCase();
  if (auto !== 'no') return true;
  const precedence = String(mail.headers.get('precedence') ?? '')
    .trim()
    .toLowerCase();
  return ['bulk', 'junk', 'list', 'auto_reply'].includes(precedence);
}

/** Messages per client address in the last minute: a small in-memory sliding window (one process serves inbound). */
export function clientWindow(limit: number, now: () => number, windowMs = 60_000) {
  const seen = new Map<string, number[]>();
  let sweepAt = now() + windowMs;
  return {
    /** Counts one message for `client`; false (and not counted) when it is over the limit. */
    take(client: string): boolean {
      const t = now();
      // Drop idle clients now and then so a scan from many addresses cannot grow the map without end.
      if (t >= sweepAt) {
        for (const [k, times] of seen) if (times[times.length - 1]! <= t - windowMs) seen.delete(k);
        sweepAt = t + windowMs;
      }
      const times = (seen.get(client) ?? []).filter((x) => x > t - windowMs);
      if (times.length >= limit) {
        seen.set(client, times);
        return false;
      }
      times.push(t);
      seen.set(client, times);
      return true;
    },
  };
}

export function createInboundServer(deps: InboundDeps): InboundServer {
  const { config, subscriptions } = deps;
  const log = deps.log.child({ component: 'inbound-smtp' });
  const domain = config.MAIL_DOMAIN;
  const perClient = clientWindow(config.INBOUND_RATE_LIMIT_PER_MIN, deps.now ?? Date.now);
  // The transaction (session.transaction) already counted against its client, so a message counts once.
  const counted = new WeakMap<SMTPServerSession, number>();
  const accepts = (t: Target | null): t is Target => t !== null && (deps.returns !== undefined || CAUSES_MAIL.has(t.kind));

  function smtpError(code: number, message: string): Error {
    return Object.assign(new Error(message), { responseCode: code });
  }

  /** Acts on one accepted message. Throws only when the sender should retry (our database hiccuped). */
  async function handle(mail: ParsedMail, session: SMTPServerSession, raw: Buffer): Promise<void> {
    const targets = session.envelope.rcptTo.map((r) => targetOf(r.address, config)).filter(accepts);
    // Mail from machines about our mail: handled on its own and never answered, whatever else it was sent to.
    if (deps.returns && targets.some((t) => t.kind === 'bounce' || t.kind === 'complaint')) return handleReturns(mail, raw, targets, deps.returns);
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

  function handleReturns(mail: ParsedMail, raw: Buffer, targets: Target[], returns: InboundReturns): void {
    for (const t of targets) {
      if (t.kind === 'bounce') {
        const report = parseBounce(mail);
        // Vacation replies and other auto-answers also go to the envelope sender: they are no bounce and count nothing.
        if (!report) log.info('mail to a bounce address that is no bounce report: ignored');
        else log.info({ outcome: returns.bounce(t.token, report) }, 'bounce processed');
      } else if (t.kind === 'complaint') {
        const report = parseComplaint(mail, raw);
        if (!report) log.info('mail to the complaints address that is no ARF report: ignored');
        else log.info({ outcome: returns.complaint(report) }, 'complaint processed');
      }
    }
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
    onMailFrom(_address, session, cb) {
      // session.transaction counts this connection's messages, 1 for the first. 421 also closes the connection.
      if (session.transaction > config.INBOUND_MAX_MESSAGES_PER_CONNECTION) {
        log.info({ client: session.remoteAddress }, 'inbound: too many messages on one connection');
        return cb(smtpError(421, REPLIES.tooManyOnConnection(config.INBOUND_MAX_MESSAGES_PER_CONNECTION)));
      }
      cb();
    },
    onRcptTo(address: SMTPServerAddress, session, cb) {
      if (session.envelope.rcptTo.length >= config.INBOUND_MAX_RECIPIENTS) {
        return cb(smtpError(452, REPLIES.tooManyRecipients(config.INBOUND_MAX_RECIPIENTS)));
      }
      const target = targetOf(address.address, config);
      if (!accepts(target)) return cb(smtpError(550, REPLIES.unknownRecipient(domain)));
      // Counted when a message's first address that can cause mail arrives, not when it is acted on: parallel
      // connections cannot race past the limit. Bounces and complaints cause no mail and are not counted.
      if (CAUSES_MAIL.has(target.kind) && counted.get(session) !== session.transaction) {
        if (!perClient.take(session.remoteAddress)) {
          log.info({ client: session.remoteAddress }, 'inbound: client over its rate limit');
          return cb(smtpError(451, REPLIES.rateLimited(config.INBOUND_RATE_LIMIT_PER_MIN)));
        }
        counted.set(session, session.transaction);
      }
      cb();
    },
    onData(stream: SMTPServerDataStream, session, cb) {
      const fail = (code: number, message: string) => {
        if (stream.sizeExceeded) return cb();
        // Drain what is left so the reply lines up with the end of DATA.
        stream.resume();
        if (stream.readableEnded) return cb(smtpError(code, message));
        stream.once('end', () => cb(smtpError(code, message)));
      };
      // Kept whole (at most INBOUND_MAX_BYTES): a complaint's inline original loses its headers in mailparser's reading.
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => {
        if (!stream.sizeExceeded) chunks.push(c);
      });
      const raw = new Promise<Buffer>((resolve) => stream.once('end', () => resolve(Buffer.concat(chunks))));
      simpleParser(stream, { skipHtmlToText: true, skipImageLinks: true, skipTextLinks: true, maxHtmlLengthToParse: config.INBOUND_MAX_BYTES }).then(
        async (mail) => {
          // Over the cap: smtp-server answers 552 itself; the truncated message is not acted on.
          if (stream.sizeExceeded) return cb();
          try {
            await handle(mail, session, await raw);
          } catch (err) {
            log.error({ err }, 'inbound mail failed');
            return fail(451, REPLIES.tryLater);
          }
          cb(null, REPLIES.accepted);
        },
        // The parser gives up on the message itself (too deep, too many parts): sending it again cannot help.
        (err: unknown) => {
          log.info({ err: (err as Error)?.message, code: (err as { code?: string })?.code }, 'inbound mail could not be parsed');
          fail(554, REPLIES.unreadable);
        },
      );
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
