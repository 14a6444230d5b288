// While a big `paperboy ingest` writes the database, what people do still works and waits at most a moment: a
// subscribe over HTTP, the home page, `papers --search` and `subscribers list`, against a real `paperboy serve`.
import { describe, expect, it } from 'vitest';
import { OPS, runBusyScenario } from '../../bench/lib/busy-run.js';

describe('a busy database', () => {
  it('a 100,000-entry ingest makes no subscribe, page, search or list fail, and none waits more than 1 s longer', async () => {
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
    for (const op of OPS) expect(slower[op], JSON.stringify({ slower, ingestSeconds: r.ingestSeconds })).toBeLessThanOrEqual(1000);
  }, 180_000);
});
