// `paperboy send --force` SIGKILLed (its whole process group) at random moments of real SMTP sends, with the default
// settings, then run to the end: nobody is without their digest, and every duplicate was on the wire at a kill.
import { describe, it, expect } from 'vitest';
import { runCrashScenario } from '../../bench/lib/crash-run.js';

/** The in-flight window at the defaults: SMTP_POOL_SIZE (5) * 8. */
const WINDOW = 40;

describe('crash safety of paperboy send with the default settings', () => {
  it('15 SIGKILLs mid-send: 0 subscribers without their digest, duplicates only of messages on the wire', async () => {
    const r = await runCrashScenario({ subscribers: 2000, kills: 15, seed: Number(process.env.CRASH_SEED ?? 20261203) });
    console.log(`crash (cli): ${JSON.stringify(r)}`);
    expect(r.kills, 'the kills must land before everything is sent').toBe(15);
    // The kills did land mid-send: rows were claimed, some on the wire.
    expect(r.claimedAtKills).toBeGreaterThan(0);
    expect(r.missed).toBe(0);
    expect(r.notSent).toEqual({});
    expect(r.duplicatesNotOnWire).toBe(0);
    expect(r.maxOnWirePerKill).toBeLessThanOrEqual(WINDOW);
    expect(r.extra).toBeLessThanOrEqual(r.onWireAtKills);
  }, 180_000);
});
