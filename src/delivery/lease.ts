// Owns the named lease: one process at a time holds `sender`, renews it while it works, and others wait.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Store } from '../db/open.js';
import type { Clock } from '../clock.js';

export function newHolderId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

/** A holder on this host whose process is gone cannot renew: no need to wait for its lease to run out. */
function holderIsDeadHere(holder: string): boolean {
  const [host, pid] = holder.split(':');
  if (host !== hostname() || !pid || !/^\d+$/.test(pid) || Number(pid) === process.pid) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export interface LeaseResult {
  held: boolean;
  /** True when this call took the lease over (from nobody, an expired holder or a dead one), not just renewed it. */
  fresh: boolean;
}

/** Takes or renews the lease `name` for `ttlMs`. The read and the write share one IMMEDIATE transaction. */
export function acquireLease(store: Store, clock: Clock, name: string, holder: string, ttlMs: number): LeaseResult {
  return store.db
    .transaction((): LeaseResult => {
      const now = clock.now();
      const row = store.q('lease-get').get(name);
      const mine = row?.holder === holder;
      const free = !row || Date.parse(row.expires_at) <= now.getTime() || holderIsDeadHere(row.holder);
      if (!mine && !free) return { held: false, fresh: false };
      store.q('lease-put').run({ name, holder, expires_at: new Date(now.getTime() + ttlMs).toISOString(), now: now.toISOString() });
      return { held: true, fresh: !mine };
    })
    .immediate();
}

/** Who holds the lease `name` now, and since when; null when nobody does or the lease ran out. */
export function leaseHolder(store: Store, clock: Clock, name: string): { holder: string; since: string | null } | null {
  const row = store.q('lease-holder').get(name);
  if (!row || Date.parse(row.expires_at) <= clock.now().getTime()) return null;
  return { holder: row.holder, since: row.acquired_at };
}

export function releaseLease(store: Store, name: string, holder: string): void {
  store.q('lease-release').run(name, holder);
}
