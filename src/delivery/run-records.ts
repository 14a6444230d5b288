// Owns reading send runs back: a run's record, its rows' counts, its editions as a whole, and who holds the sender.
import type { Store } from '../db/open.js';
import type { Clock } from '../clock.js';
import { leaseHolder } from './lease.js';
import { SENDER_LEASE } from './leader-drain.js';
import { RunRow, EditionState, emptyCounts, DeliveryStatus, type DeliveryCounts } from './status.js';

export function createRunRecords(store: Store, clock: Clock, holder: string) {
  function editionStates(ids: number[]): EditionState[] {
    return ids.flatMap((id) => {
      const row = store.q('edition-state').get(id);
      return row ? [EditionState.parse(row)] : [];
    });
  }

  /** The lease holder, when it is another process and rows of these editions still wait for it. */
  function otherHolder(editions: EditionState[]): { holder: string; since: string | null } | null {
    const h = leaseHolder(store, clock, SENDER_LEASE);
    if (!h || h.holder === holder || !editions.some((e) => e.waiting > 0)) return null;
    return h;
  }

  function counts(runId: string): DeliveryCounts {
    const c = emptyCounts();
    for (const r of store.q('run-delivery-counts').all(runId)) {
      c[DeliveryStatus.parse(r.status)] = r.n;
      c.retrying += r.retrying ?? 0;
      c.total += r.n;
    }
    return c;
  }

  function getRun(runId: string): RunRow | undefined {
    const row = store.q('run-get').get(runId);
    return row ? RunRow.parse(row) : undefined;
  }

  function runEditions(run: RunRow): number[] {
    return (JSON.parse(run.editions) as unknown[]).filter((x): x is number => Number.isInteger(x));
  }

  /** A run's record with its own counts and each of its editions as a whole (GET /admin/send/:id). */
  function runReport(runId: string) {
    const run = getRun(runId);
    if (!run) return undefined;
    const editions = editionStates(runEditions(run));
    return { ...run, editions, counts: counts(runId), heldBy: otherHolder(editions) };
  }

  return { editionStates, otherHolder, counts, getRun, runEditions, runReport };
}
