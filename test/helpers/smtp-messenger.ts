// A small nodemailer Messenger for tests: real SMTP to a local server, failures mapped to SendError.
import nodemailer from 'nodemailer';
import { SendError, type Messenger, type SendResult } from '../../src/mail/messenger.js';
import { rawBytes } from '../../src/mail/raw-bytes.js';

function toSendError(err: unknown): SendError {
  const e = err as Error & { responseCode?: number; response?: string };
  const code = e.responseCode;
  const enhanced = /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(e.response ?? '')?.[1];
  return new SendError(e.message, code !== undefined && code >= 500 ? 'permanent' : 'temporary', code, enhanced, e.response);
}

export function createSmtpTestMessenger(port: number): Messenger {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, pool: false });
  const result = (info: { accepted: unknown[]; rejected: unknown[]; response: string; messageId: string }): SendResult => ({
    accepted: info.accepted.map(String),
    rejected: info.rejected.map(String),
    response: info.response,
    messageId: info.messageId,
  });
  return {
    name: 'test-smtp',
    async send(msg) {
      try {
        return result(await transport.sendMail({ ...msg }));
      } catch (err) {
        throw toSendError(err);
      }
    },
    async sendRaw(msg) {
      try {
        return result(await transport.sendMail({ envelope: msg.envelope, raw: rawBytes(msg), messageId: msg.messageId }));
      } catch (err) {
        throw toSendError(err);
      }
    },
    async close() {
      transport.close();
    },
  };
}
