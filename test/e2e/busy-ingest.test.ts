// While a big `paperboy ingest` writes the database, what people do still works and waits at most a moment: a
// subscribe over HTTP, the home page, `papers --search` and `subscribers list`, against a real `paperboy serve`.
import { describe, expect, it } from 'vitest';
import { OPS, runBusyScenario } from '../../bench/lib/busy-run.js';

describe('a busy database', () => {
  it('a 100,000-entry ingest makes no subscribe, page, search or list fail, and the web app waits at most 1 s longer', async () => {
    const r = await runBusyScenario({ entries: 100_000, idleMs: 3000 });
    expect(r.papersAfter).toBeGreaterThan(100_000);
    for (const op of OPS) {
      expect(r.idle[op].failures).toEqual([]);
      expect(r.busy[op].failures).toEqual([]);
      // Each operation ran while the ingest did (the ingest takes seconds, each try well under that).
      expect(r.busy[op].runs, op).toBeGreaterThan(0);
    }
    expect(r.subscribersLost).toBe(0);
    const slower = Object.fromEntries(OPS.map((op) => [op, Math.round(r.busy[op].maxMs - r.idle[op].maxMs)]));
    // The bound holds for the web app. For the two CLI commands it is not met yet when the suite's other files
    // share the 2 cores (each command starts a Node process, ~1.3 s of CPU): `npm run bench -- busy` reports their
    // figures, and issue 12 stays open until they meet it too.
    for (const op of ['subscribe', 'home'] as const) expect(slower[op], JSON.stringify({ slower, ingestSeconds: r.ingestSeconds })).toBeLessThanOrEqual(1000);
  }, 180_000);
});
