// Owns sending over real SMTP with stock nodemailer: one pooled transport, DKIM for composed mail, results classified.
import type NodemailerType from 'nodemailer';
import { lazyRequire } from '../lazy-require.js';

const nodemailer = lazyRequire<typeof NodemailerType>('nodemailer');
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { classifySendError, resultOfInfo, type TransportInfo } from './classify.js';
import { mailOptions, type Messenger, type OutgoingMessage, type RawMessage, type SendResult } from './messenger.js';
import { checkEnvelope, checkSingleRecipient } from './envelope.js';
import { rawBytes } from './raw-bytes.js';
import { DKIM_SIGNED_HEADERS, dkimKey } from './dkim.js';

type SmtpConfig = Pick<Config, 'SMTP_URL' | 'SMTP_POOL_SIZE' | 'MAIL_FROM' | 'DKIM_DOMAIN' | 'DKIM_SELECTOR' | 'DKIM_PRIVATE_KEY'>;

export interface SmtpMessengerOptions {
  /** Extra nodemailer pool options (timeouts in tests, TLS settings); they win over the defaults. */
  transport?: Record<string, unknown>;
}

export function createSmtpMessenger(config: SmtpConfig, log: Logger, opts: SmtpMessengerOptions = {}): Messenger {
  if (!config.SMTP_URL) throw new Error('SMTP_URL is required for the smtp transport');
  const key = dkimKey(config);
  // Per composed message, not on the transport: a transport-wide key would sign a digest handed over by sendRaw()
  // again, and it comes signed from its builder (src/delivery/mime.ts) over the same fields.
  const dkim = key ? { ...key, headerFieldNames: DKIM_SIGNED_HEADERS } : undefined;
  const transport = nodemailer().createTransport({
    url: config.SMTP_URL,
    pool: true,
    maxConnections: config.SMTP_POOL_SIZE,
    // Connections are reused for many messages; rotating them now and then keeps a relay's per-connection
    // limits from failing a message.
    maxMessages: 100,
    // The pool would otherwise resend a message whose connection dropped mid-DATA on its own, behind the
    // ledger's back: the server may already have it. Report the failure and let the ledger decide.
    maxRequeues: 0,
    // nodemailer waits 10 minutes on a silent socket by default; a stuck relay should free the slot sooner.
    socketTimeout: 120_000,
    ...opts.transport,
  } as Parameters<typeof NodemailerType.createTransport>[0] & { pool: true });
  const smtpLog = log.child({ component: 'smtp' });
  // An 'error' event with no listener would crash the process; failures reach callers through sendMail.
  transport.on('error', (err: Error) => smtpLog.warn({ err }, 'smtp transport error'));

  async function deliver(mail: Record<string, unknown>, messageId: string | undefined): Promise<SendResult> {
    let info: TransportInfo;
    try {
      info = (await transport.sendMail(mail)) as TransportInfo;
    } catch (err) {
      const e = classifySendError(err);
      smtpLog.debug({ failure: e.failure, code: e.code, response: e.response }, 'send failed');
      throw e;
    }
    return resultOfInfo(info, messageId ?? info.messageId ?? '');
  }

  return {
    name: 'smtp',
    async send(msg: OutgoingMessage) {
      checkSingleRecipient(msg.to);
      return deliver({ ...mailOptions(msg, config.MAIL_FROM), ...(dkim ? { dkim } : {}) }, msg.messageId);
    },
    async sendRaw(msg: RawMessage) {
      checkEnvelope(msg.envelope);
      // nodemailer does not say when DATA was answered: the message counts as on the wire from the hand-over, so a
      // crash can at worst resend it (never skip it).
      msg.onWire?.();
      // The envelope is the truth for SMTP; the To: header inside `raw` is only what the reader sees.
      return deliver({ envelope: msg.envelope, raw: rawBytes(msg), messageId: msg.messageId }, msg.messageId);
    },
    async close() {
      transport.close();
    },
  };
}
