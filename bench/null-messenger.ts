// Owns the bench's do-nothing mail transport: every send "succeeds" at once and nothing is written anywhere.
import type { Messenger, OutgoingMessage, RawMessage, SendResult } from '../src/mail/messenger.js';

/**
 * For the http bench only. Confirmation emails go out from a background worker, not in the request, so the HTTP
 * figures do not depend on the transport; this keeps disk and SMTP out of the measurement. It counts what it got.
 */
export class NullMessenger implements Messenger {
  readonly name = 'null';
  sent = 0;

  async send(msg: OutgoingMessage): Promise<SendResult> {
    this.sent++;
    const messageId = msg.messageId ?? `<bench-${this.sent}@localhost>`;
    return { accepted: [msg.to], rejected: [], response: '250 2.0.0 discarded (bench)', messageId };
  }

  async sendRaw(msg: RawMessage): Promise<SendResult> {
    this.sent++;
    return { accepted: [...msg.envelope.to], rejected: [], response: '250 2.0.0 discarded (bench)', messageId: msg.messageId };
  }

  async close(): Promise<void> {}
}
