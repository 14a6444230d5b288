// Owns the bench parts for ingest and render: thin wrappers giving each a table and a JSON result.
import type { BenchPart } from './lib/part.js';
import { num, options, table, writeResult } from './lib/part.js';
import { runIngestBench } from './ingest.js';
import { runRenderBench } from './render.js';

/** The bound from issue 6: ingesting a generated corpus must reach this many papers per second. */
const INGEST_TARGET_PER_SEC = 50_000;

export const ingestPart: BenchPart = {
  name: 'ingest',
  description: 'papers per second ingesting a generated corpus (100,000 entries in the three layouts)',
  async run(args) {
    const o = options(args);
    // --chunk-ms=0: one transaction, as before big ingests committed in chunks (INGEST_CHUNK_MS, default 250).
    const chunkMs = o.has('chunk-ms') ? num(o, 'chunk-ms', 250) : undefined;
    const r = await runIngestBench(num(o, 'entries', 100_000), num(o, 'runs', 3), chunkMs, o.has('from-source'));
    table([
      { measure: 'measured', value: r.measured },
      { measure: 'commits every (ms)', value: chunkMs ?? 'default (INGEST_CHUNK_MS 250)' },
      { measure: 'entries', value: r.entries },
      { measure: 'papers stored', value: r.papers },
      { measure: 'ingest runs (ms)', value: r.runs_ms.join(', ') },
      { measure: 'median (ms)', value: r.median_ms },
      { measure: 'parse only (ms)', value: r.parse_only_ms },
      { measure: 'papers/s (median)', value: r.papers_per_sec },
      { measure: `target papers/s`, value: INGEST_TARGET_PER_SEC },
    ]);
    console.log(r.papers_per_sec >= INGEST_TARGET_PER_SEC ? 'ingest: PASS' : 'ingest: BELOW TARGET');
    console.log('results:', writeResult('ingest', { ...r, target_per_sec: INGEST_TARGET_PER_SEC }));
  },
};

export const renderPart: BenchPart = {
  name: 'render',
  description: 'ms per MJML render, µs per personalised message, render-once vs render-per-recipient for 1,000',
  async run(args) {
    // runRenderBench prints its own table and writes bench/results/render-*.json.
    await runRenderBench({ recipients: num(options(args), 'recipients', 1000) });
  },
};
