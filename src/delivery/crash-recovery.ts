// Owns what a new sender does with the rows a dead one left claimed: resend the unsent, decide on the uncertain.
import type { Store } from '../db/open.js';
import type { Config } from '../config.js';
import type { Clock } from '../clock.js';

/**
 * Rows whose body never went to the socket (no on_wire_at) were not sent: queued again, attempt given back. Only
 * rows on the wire become `unknown`, then resent or counted as sent (RESEND_UNKNOWN, docs/delivery.md).
 */
export function recoverOrphans(store: Store, clock: Clock, config: Pick<Config, 'RESEND_UNKNOWN'>): { requeued: number; unknown: number } {
  return store.db
    .transaction(() => {
      const iso = clock.now().toISOString();
      const requeued = store.q('delivery-orphans-requeue').run({ now: iso }).changes;
      const unknown = store.q('delivery-orphans-to-unknown').run(iso).changes;
      if (unknown > 0) {
        if (config.RESEND_UNKNOWN) store.q('delivery-unknown-requeue').run({ now: iso, recovered_at: iso });
        else store.q('delivery-unknown-record-papers').run(iso);
      }
      return { requeued, unknown };
    })
    .immediate();
}
