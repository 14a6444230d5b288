// Owns sending as the one sender: take the lease, recover a dead holder's rows, drain, renew, release; one drain at a time.
import type { Store } from '../db/open.js';
import type { Config } from '../config.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { addDrainStats, type DrainStats, type Sender } from './sender.js';
import { acquireLease, releaseLease } from './lease.js';
import { recoverOrphans } from './crash-recovery.js';

export const SENDER_LEASE = 'sender';

export interface LeaderDrainDeps {
  store: Store;
  clock: Clock;
  config: Config;
  log: Logger;
  sender: Sender;
  holder: string;
  leaseMs: number;
}

export function createLeaderDrain(d: LeaderDrainDeps) {
  const { store, clock, config, log, sender, holder, leaseMs } = d;
  let draining: Promise<DrainStats | null> | null = null;
  let closed = false;
  /** Runs in progress in this process: every drain's stats are added to each (a drain sends for all of them). */
  const listening = new Set<DrainStats>();

  async function drainAsLeader(): Promise<DrainStats | null> {
    if (closed) return null;
    const lease = acquireLease(store, clock, SENDER_LEASE, holder, leaseMs);
    if (!lease.held) return null;
    if (lease.fresh) {
      const { requeued, unknown } = recoverOrphans(store, clock, config);
      if (requeued > 0) log.warn({ requeued }, 'deliveries claimed by a stopped sender but never sent are queued again');
      if (unknown > 0) log.warn({ unknown, resend: config.RESEND_UNKNOWN }, 'deliveries on the wire when a sender stopped have an unknown outcome');
    }
    sender.stopRequested = false;
    const renew = setInterval(
      () => {
        try {
          if (!acquireLease(store, clock, SENDER_LEASE, holder, leaseMs).held) sender.stopRequested = true;
        } catch (err) {
          log.error({ err }, 'lease renewal failed');
        }
      },
      Math.max(50, Math.floor(leaseMs / 3)),
    );
    try {
      return await sender.drain();
    } finally {
      clearInterval(renew);
      releaseLease(store, SENDER_LEASE, holder);
    }
  }

  return {
    /** Sends whatever is due, if this process can take the sender lease; concurrent callers share one drain. */
    drain(): Promise<DrainStats | null> {
      if (!draining) {
        draining = drainAsLeader()
          .then((stats) => {
            if (stats) for (const l of listening) addDrainStats(l, stats);
            return stats;
          })
          .finally(() => {
            draining = null;
          });
      }
      return draining;
    },
    /** Adds what every drain sends to `stats` until `done` settles. */
    async collect<T>(stats: DrainStats, done: () => Promise<T>): Promise<T> {
      listening.add(stats);
      try {
        return await done();
      } finally {
        listening.delete(stats);
      }
    },
    async close(): Promise<void> {
      closed = true;
      sender.stopRequested = true;
      await draining;
    },
  };
}
export type LeaderDrain = ReturnType<typeof createLeaderDrain>;
