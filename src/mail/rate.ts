// Owns the send rate limit: a pacing gate that lets one message through every 1/rate seconds (0 = no limit).
import { setTimeout as sleep } from 'node:timers/promises';

export class RateGate {
  private next = 0;
  constructor(private readonly perSecond: number) {}

  get limited(): boolean {
    return this.perSecond > 0;
  }

  /** Resolves when the next message may go. Real time on purpose: it paces the wire, not the business clock. */
  async take(): Promise<void> {
    if (this.perSecond <= 0) return;
    const now = performance.now();
    const at = Math.max(now, this.next);
    this.next = at + 1000 / this.perSecond;
    if (at > now) await sleep(at - now);
  }
}
