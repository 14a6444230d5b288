// Owns the `busy` benchmark: what a subscribe, the home page, a search and a subscriber list cost while a big ingest
// writes the database, against the same operations with the database idle, measured in the same run.
import os from 'node:os';
import { OPS, runBusyScenario } from './lib/busy-run.js';
import { num, options, table, writeResult, machine, type BenchPart } from './lib/part.js';

export const busyPart: BenchPart = {
  name: 'busy',
  description: 'POST /subscribe, GET /, papers --search, subscribers list during a 300,000-entry ingest vs idle',
  async run(args) {
    const opts = options(args);
    const entries = num(opts, 'entries', 300_000);
    const load = os.loadavg()[0]!;
    const r = await runBusyScenario({ entries, idleMs: num(opts, 'idle-ms', 5000) });
    const m = machine();
    console.log(
      `${m.cpus} x ${m.cpu}, load ${load.toFixed(2)} before, ${os.loadavg()[0]!.toFixed(2)} after; ` +
        `ingest of ${entries} entries took ${r.ingestSeconds.toFixed(1)} s (${r.papersAfter} papers after); ` +
        `subscribers lost: ${r.subscribersLost}`,
    );
    table(
      OPS.map((op) => ({
        operation: op,
        'idle runs': r.idle[op].runs,
        'idle median ms': r.idle[op].medianMs,
        'idle max ms': r.idle[op].maxMs,
        'busy runs': r.busy[op].runs,
        'busy failures': r.busy[op].failures.length,
        'busy median ms': r.busy[op].medianMs,
        'busy max ms': r.busy[op].maxMs,
        'max slower by ms': r.busy[op].maxMs - r.idle[op].maxMs,
      })),
    );
    for (const op of OPS) for (const f of r.busy[op].failures.slice(0, 3)) console.log(`  ${op} failed: ${f}`);
    console.log(`results: ${writeResult('busy', { load, ...r })}`);
  },
};
