// Owns what an operator does to one subscriber by hand: suppress, lift a suppression, erase with their data.
import type { Store } from '../db/open.js';
import type { Subscriber } from './repository.js';
import type { Outbox } from '../mail/outbox.js';

/** Why an admin suppression happened, as the subscriber's bounce_reason says it (the dashboard shows that text). */
export function adminSuppressReason(note: string): string {
  const n = note
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .trim()
    .slice(0, 200);
  return n ? `suppressed by an admin: ${n}` : 'suppressed by an admin';
}

/**
 * Suppression is the `bounced` status (src/delivery/bounce-processing.ts sets it the same way, with the same query),
 * so every path that skips bounced addresses, the sender, resubscribe and import, already honours it. Only an active
 * or pending address changes: an unsubscribed one is mailed nothing already. True when it changed.
 */
export function suppressSubscriber(store: Store, id: number, note: string, now: Date): boolean {
  return store.q('delivery-suppress-subscriber').run({ id, reason: adminSuppressReason(note), now: now.toISOString() }).changes === 1;
}

/** Lifts a suppression: active again if the address had confirmed, else pending; one that complained stays unsubscribed. */
export function unsuppressSubscriber(store: Store, id: number, now: Date): boolean {
  return store.q('admin-subscriber-unsuppress').run({ id, now: now.toISOString() }).changes === 1;
}

/**
 * GDPR erase: the row and everything keyed on it (deliveries, papers sent, confirm tokens, queued confirmations,
 * bounces, complaints, feedback: ON DELETE CASCADE), plus bounce reports that named the address without matching the
 * row, the address on send runs aimed at it, and the messages the embedded outbox stored for it (they carry the
 * address and the reader's signed links). Nothing of the address is kept, not even for suppression: the design keeps
 * no separate suppression list, so an erased address can be added again like any new one (and then confirms again).
 * The rows go in one transaction; the outbox files before it (a failure there erases nothing, so it can be retried)
 * and again after it (a message stored by a send that was in flight meanwhile).
 */
export async function eraseSubscriber(
  store: Store,
  outbox: Pick<Outbox, 'eraseRecipient'>,
  s: Pick<Subscriber, 'id' | 'email'>,
): Promise<{ erased: boolean; outboxMessages: number }> {
  let outboxMessages = await outbox.eraseRecipient(s.email);
  const erased = store.db.transaction(() => {
    store.q('admin-subscriber-erase-stray-bounces').run(s.email);
    store.q('admin-subscriber-erase-run-targets').run(s.email);
    return store.q('subscriber-delete').run(s.id).changes === 1;
  })();
  outboxMessages += await outbox.eraseRecipient(s.email);
  return { erased, outboxMessages };
}
