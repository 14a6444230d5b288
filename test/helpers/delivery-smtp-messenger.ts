// Test stand-in for the mail branch's pooled SMTP Messenger: nodemailer's pool sending prebuilt raw messages, errors mapped to SendError.
import nodemailer from 'nodemailer';
import { SendError, type Messenger, type RawMessage, type SendResult, type OutgoingMessage } from '../../src/mail/messenger.js';
import { rawBytes } from '../../src/mail/raw-bytes.js';

function toSendError(err: unknown): SendError {
  const e = err as { message?: string; responseCode?: number; response?: string; code?: string };
  const response = e.response ?? e.message ?? String(err);
  const enhanced = /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(response)?.[1];
  const permanent = typeof e.responseCode === 'number' && e.responseCode >= 500;
  return new SendError(e.message ?? 'send failed', permanent ? 'permanent' : 'temporary', e.responseCode, enhanced, response);
}

export function createTestSmtpMessenger(port: number, opts: { pool?: number } = {}): Messenger {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    ignoreTLS: true,
    pool: true,
    maxConnections: opts.pool ?? 3,
    maxMessages: Infinity,
  });
  const wrap = async (p: Promise<{ accepted: unknown[]; rejected: unknown[]; response: string; messageId: string }>): Promise<SendResult> => {
    try {
      const info = await p;
      return { accepted: info.accepted.map(String), rejected: info.rejected.map(String), response: info.response, messageId: info.messageId };
    } catch (err) {
      throw toSendError(err);
    }
  };
  return {
    name: 'test-smtp',
    send: (msg: OutgoingMessage) => wrap(transport.sendMail(msg) as never),
    // nodemailer stuffs on the wire itself: undo the sender's stuffing first, as the real nodemailer messenger does.
    sendRaw: (msg: RawMessage) => wrap(transport.sendMail({ envelope: msg.envelope, raw: rawBytes(msg), messageId: msg.messageId }) as never),
    async close() {
      transport.close();
    },
  };
}
