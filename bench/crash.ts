// Owns the `crash` benchmark: `paperboy send --force` killed at random moments, with the default RESEND_UNKNOWN and
// with false, counting who missed their digest and what arrived twice.
import os from 'node:os';
import { runCrashScenario } from './lib/crash-run.js';
import { num, options, table, writeResult, machine, type BenchPart } from './lib/part.js';

export const crashPart: BenchPart = {
  name: 'crash',
  description: 'send --force SIGKILLed at random moments, then run to the end: missed subscribers and duplicates',
  async run(args) {
    const opts = options(args);
    const subscribers = num(opts, 'subscribers', 2000);
    const kills = num(opts, 'kills', 15);
    const load = os.loadavg()[0]!;
    const results = [];
    for (const resend of ['true', 'false']) {
      const r = await runCrashScenario({ subscribers, kills, env: { RESEND_UNKNOWN: resend } });
      results.push({ resend, ...r });
    }
    const m = machine();
    console.log(`${m.cpus} x ${m.cpu}, load ${load.toFixed(2)} before, ${os.loadavg()[0]!.toFixed(2)} after; ${subscribers} subscribers, ${kills} kills each`);
    table(
      results.map((r) => ({
        RESEND_UNKNOWN: r.resend,
        kills: r.kills,
        'claimed at kills': r.claimedAtKills,
        'on the wire': r.onWireAtKills,
        'on wire / claimed': r.claimedAtKills ? r.onWireAtKills / r.claimedAtKills : 0,
        missed: r.missed,
        extra: r.extra,
        'dupes not on wire': r.duplicatesNotOnWire,
        'max on wire / kill': r.maxOnWirePerKill,
        'left unknown': r.notSent.unknown ?? 0,
        seconds: r.seconds,
      })),
    );
    console.log(`results: ${writeResult('crash', { load, results })}`);
  },
};
