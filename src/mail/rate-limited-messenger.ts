// Owns SMTP_RATE_PER_SEC: one pacing layer in front of whichever messenger sends, for every message it sends.
import type { Messenger } from './messenger.js';
import { RateGate } from './rate.js';

/**
 * Digests and confirmations alike wait their turn here, before they reach the client, so the cap holds whatever
 * sends (delivery, the confirmation worker, a test send) and whichever SMTP client is configured. A message waiting
 * here is not on the wire yet: a crash meanwhile leaves its row unsent, and it is sent by the next run.
 */
export function rateLimited(inner: Messenger, perSecond: number): Messenger {
  if (!(perSecond > 0)) return inner;
  const gate = new RateGate(perSecond);
  return {
    name: inner.name,
    async send(msg) {
      await gate.take();
      return inner.send(msg);
    },
    async sendRaw(msg) {
      await gate.take();
      return inner.sendRaw(msg);
    },
    close: () => inner.close(),
  };
}
