// Owns the bench's do-nothing mail transport: every send "succeeds" at once and nothing is written anywhere.
import type { Messenger, OutgoingMessage, RawMessage, SendResult } from '../src/mail/messenger.js';

/**
 * For the http bench only. Confirmation emails go out from a background worker, not in the request, so the HTTP
 * figures do not depend on the transport; this keeps disk and SMTP out of the measurement. It counts what it got.
 * Each send settles on a later turn of the event loop, as real I/O does: a promise that resolves at once would let
 * the worker's send loop run as one chain of microtasks and hold off every request until the queue is empty.
 */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class NullMessenger implements Messenger {
  readonly name = 'null';
  sent = 0;

  async send(msg: OutgoingMessage): Promise<SendResult> {
    await nextTurn();
    this.sent++;
    const messageId = msg.messageId ?? `<bench-${this.sent}@localhost>`;
    return { accepted: [msg.to], rejected: [], response: '250 2.0.0 discarded (bench)', messageId };
  }

  async sendRaw(msg: RawMessage): Promise<SendResult> {
    await nextTurn();
    this.sent++;
    return { accepted: [...msg.envelope.to], rejected: [], response: '250 2.0.0 discarded (bench)', messageId: msg.messageId };
  }

  async close(): Promise<void> {}
}
