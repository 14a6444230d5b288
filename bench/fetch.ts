// Owns the `fetch` benchmark: papers per second fetching and merging one 10,000-paper daily-papers answer (served by a
// local HTTP server on port 0, as the fixture server in the tests does), against ingesting 10,000 generated entries of
// the seed layouts in the same run (the reference).
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import os from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../src/db/open.js';
import { ingestPaths } from '../src/corpus/ingest.js';
import { createFetcher } from '../src/corpus/fetcher.js';
import { mergeFetched } from '../src/corpus/fetch-merge.js';
import { fetchDailyPapersDay } from '../src/corpus/sources/daily-papers.js';
import { defaultHttpDeps } from '../src/corpus/sources/http.js';
import { loadConfig } from '../src/config.js';
import { FakeClock } from '../src/clock.js';
import { generateCorpus } from './corpus-gen.js';
import { median, num, options, table, writeResult, type BenchPart } from './lib/part.js';

const WORDS =
  'neural operator diffusion model learning graph transformer attention kernel sparse robust stochastic flow matching physics informed equation solver latent bridge score gradient'.split(
    ' ',
  );
const DATE = '2026-03-10';

/** One answer of `n` items in the documented shape, abstracts about as long as the generated pages' (~60 words). */
export function dailyAnswer(n: number, seed = 7): string {
  let s = seed >>> 0;
  const r = () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  const word = () => WORDS[Math.floor(r() * WORDS.length)]!;
  const sentence = (k: number) => Array.from({ length: k }, word).join(' ');
  const items = Array.from({ length: n }, (_, i) => ({
    paper: {
      id: `2603.${String(i).padStart(5, '0')}`,
      title: `Paper ${i}: ${sentence(6)}`,
      summary: `${sentence(60)}. Code: https://github.com/lab/p${i}.`,
      authors: Array.from({ length: 1 + (i % 8) }, (_, k) => ({ name: `Author ${k} ${word()}`, hidden: false })),
      publishedAt: '2026-03-09T10:00:00.000Z',
      submittedOnDailyAt: `${DATE}T00:00:00.000Z`,
      upvotes: i % 50,
      githubRepo: `https://github.com/lab/p${i}`,
      githubStars: i % 300,
      ...(i % 3 ? { projectPage: `https://p${i}.example.org` } : {}),
      ai_summary: sentence(15),
      ai_keywords: [word(), word()],
      organization: { name: 'lab', fullname: 'Example Lab' },
    },
    publishedAt: `${DATE}T08:00:00.000Z`,
    title: `Paper ${i}: listing title`,
    numComments: i % 5,
  }));
  return JSON.stringify(items);
}

export interface FetchBenchResult {
  papers: number;
  answer_bytes: number;
  fetch_runs_ms: number[];
  fetch_median_ms: number;
  fetch_papers_per_sec: number;
  /** The two halves of one fetch, measured apart: HTTP + JSON + validation, then the merge. */
  read_median_ms: number;
  merge_median_ms: number;
  ingest_runs_ms: number[];
  ingest_median_ms: number;
  ingest_papers_per_sec: number;
  ratio_vs_ingest: number;
  /** The same ingest in one transaction (`--chunk-ms=0`: no pauses between chunks for other writers). */
  ingest_one_tx_median_ms: number;
  ratio_vs_one_tx_ingest: number;
  machine: { cpus: number; cpu: string; loadavg_before: number[]; loadavg_after: number[] };
}

export async function runFetchBench(n = 10_000, runs = 3): Promise<FetchBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'paperboy-bench-fetch-'));
  const body = Buffer.from(dailyAnswer(n));
  const server = createServer((req, res) => {
    const p = new URL(req.url ?? '/', 'http://x').searchParams.get('p');
    res.writeHead(200, { 'content-type': 'application/json' }).end(p === '0' ? body : '[]');
  });
  // A run takes seconds under load: the default 5 s keep-alive could close the socket as the next request reuses it.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const loadBefore = os.loadavg();
  try {
    const clock = new FakeClock(new Date(`${DATE}T09:00:00Z`));
    const config = loadConfig({ DAILY_PAPERS_URL: url, FETCH_RETRIES: '0', FETCH_TIMEOUT_SECONDS: '120' });
    const fetchMs: number[] = [];
    const readMs: number[] = [];
    const mergeMs: number[] = [];
    const ingestMs: number[] = [];
    const oneTxMs: number[] = [];
    let papers = 0;
    const pages = generateCorpus(join(dir, 'pages'), n);
    for (let i = 0; i < runs; i++) {
      // Reference first, in the same run and conditions: ingest of as many entries in the seed layouts.
      const ref = openStore(join(dir, `ingest${i}.db`));
      let t = performance.now();
      const ing = ingestPaths(ref, [pages], clock);
      ingestMs.push(performance.now() - t);
      if (ing.added !== n) throw new Error(`ingest stored ${ing.added} papers, expected ${n}`);
      // Its log's checkpoint runs on another thread after it returns: settled here, it is not timed as part of the fetch.
      await ing.walCheckpoint?.catch(() => 0);
      ref.close();
      const one = openStore(join(dir, `ingest-one${i}.db`));
      t = performance.now();
      const oneTx = ingestPaths(one, [pages], clock, { chunkMs: 0 });
      oneTxMs.push(performance.now() - t);
      await oneTx.walCheckpoint?.catch(() => 0);
      one.close();

      const store = openStore(join(dir, `fetch${i}.db`));
      t = performance.now();
      const r = await createFetcher({ store, clock, config, dailyPageSize: n }).run({ trigger: 'cli', dates: [DATE] });
      fetchMs.push(performance.now() - t);
      const src = r.sources[0]!;
      if (src.status !== 'ok' || src.added !== n) throw new Error(`fetch: ${src.status} ${src.error ?? ''}, added ${src.added} of ${n}`);
      papers = src.added;
      await src.walCheckpoint?.catch(() => 0);
      store.close();

      // The halves apart, on a third store.
      const apart = openStore(join(dir, `apart${i}.db`));
      t = performance.now();
      const day = await fetchDailyPapersDay(DATE, { baseUrl: url, pageSize: n, maxPages: 2 }, defaultHttpDeps({ retries: 0, timeoutMs: 120_000 }));
      readMs.push(performance.now() - t);
      t = performance.now();
      const merged = await mergeFetched(apart, day.papers, clock);
      mergeMs.push(performance.now() - t);
      await merged.walCheckpoint?.catch(() => 0);
      apart.close();
    }
    const fetchMed = median(fetchMs);
    const ingestMed = median(ingestMs);
    const round = (xs: number[]) => xs.map((x) => Math.round(x));
    return {
      papers,
      answer_bytes: body.length,
      fetch_runs_ms: round(fetchMs),
      fetch_median_ms: Math.round(fetchMed),
      fetch_papers_per_sec: Math.round((papers / fetchMed) * 1000),
      read_median_ms: Math.round(median(readMs)),
      merge_median_ms: Math.round(median(mergeMs)),
      ingest_runs_ms: round(ingestMs),
      ingest_median_ms: Math.round(ingestMed),
      ingest_papers_per_sec: Math.round((n / ingestMed) * 1000),
      ratio_vs_ingest: Number((ingestMed / fetchMed).toFixed(2)),
      ingest_one_tx_median_ms: Math.round(median(oneTxMs)),
      ratio_vs_one_tx_ingest: Number((median(oneTxMs) / fetchMed).toFixed(2)),
      machine: {
        cpus: os.cpus().length,
        cpu: os.cpus()[0]?.model ?? 'unknown',
        loadavg_before: loadBefore.map((x) => Number(x.toFixed(2))),
        loadavg_after: os.loadavg().map((x) => Number(x.toFixed(2))),
      },
    };
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  }
}

export const fetchPart: BenchPart = {
  name: 'fetch',
  description: 'papers per second fetching and merging a 10,000-paper daily-papers answer, against ingesting as many entries',
  async run(args) {
    const o = options(args);
    const r = await runFetchBench(num(o, 'papers', 10_000), num(o, 'runs', 3));
    console.log(
      `fetch bench: ${r.machine.cpus} CPUs (${r.machine.cpu}), load average before ${r.machine.loadavg_before.join(' ')}, after ${r.machine.loadavg_after.join(' ')}`,
    );
    table([
      { measure: 'papers in the answer', value: r.papers },
      { measure: 'answer size (MB)', value: Number((r.answer_bytes / 1e6).toFixed(1)) },
      { measure: 'fetch + merge runs (ms)', value: r.fetch_runs_ms.join(', ') },
      { measure: '  of which read: HTTP, JSON, zod (median ms)', value: r.read_median_ms },
      { measure: '  of which merge (median ms)', value: r.merge_median_ms },
      { measure: 'fetch papers/s (median)', value: r.fetch_papers_per_sec },
      { measure: 'ingest runs, same papers (ms)', value: r.ingest_runs_ms.join(', ') },
      { measure: 'ingest papers/s (median)', value: r.ingest_papers_per_sec },
      { measure: 'fetch speed / ingest speed', value: r.ratio_vs_ingest },
      { measure: 'ingest in one transaction (median ms)', value: r.ingest_one_tx_median_ms },
      { measure: 'fetch speed / one-transaction ingest speed', value: r.ratio_vs_one_tx_ingest },
    ]);
    console.log(r.ratio_vs_ingest >= 1 ? 'fetch: AS FAST AS INGEST' : 'fetch: SLOWER THAN INGEST');
    console.log('results:', writeResult('fetch', r));
  },
};
