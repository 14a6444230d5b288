// Owns the `ingest` benchmark: papers per second ingesting a generated 100,000-entry corpus in the three layouts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCorpus } from './corpus-gen.js';
import { pathToFileURL } from 'node:url';
import { freshBuild, ROOT } from './lib/build.js';

export interface IngestBenchResult {
  /** What ran: the build (dist/) or src/ through tsx. */
  measured: string;
  entries: number;
  papers: number;
  runs_ms: number[];
  median_ms: number;
  papers_per_sec: number;
  parse_only_ms: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

type Modules = {
  open: typeof import('../src/db/open.js');
  ingest: typeof import('../src/corpus/ingest.js');
  clock: typeof import('../src/clock.js');
  parse: typeof import('../src/corpus/parse-page.js');
};

/**
 * The ingest as users run it: the build, as bin/paperboy imports it (its parse worker then starts from plain
 * JavaScript); `fromSource` runs src/ through tsx, whose loader each worker registers again as it starts.
 */
async function modules(fromSource: boolean): Promise<Modules> {
  const base = fromSource ? join(ROOT, 'src') : freshBuild();
  const ext = fromSource ? '.ts' : '.js';
  const load = (p: string) => import(pathToFileURL(join(base, p + ext)).href);
  return { open: await load('db/open'), ingest: await load('corpus/ingest'), clock: await load('clock'), parse: await load('corpus/parse-page') };
}

export async function runIngestBench(
  entries = Number(process.env.BENCH_INGEST_ENTRIES ?? 100_000),
  runs = 3,
  chunkMs?: number,
  fromSource = false,
): Promise<IngestBenchResult> {
  const { open, ingest, clock, parse } = await modules(fromSource);
  const openStore = open.openStore;
  const ingestPaths = ingest.ingestPaths;
  const systemClock = clock.systemClock;
  const dir = mkdtempSync(join(tmpdir(), 'paperboy-bench-ingest-'));
  try {
    const pages = generateCorpus(join(dir, 'pages'), entries);
    const times: number[] = [];
    let papers = 0;
    for (let i = 0; i < runs; i++) {
      const dbPath = join(dir, `run${i}.db`);
      const store = openStore(dbPath);
      const t = performance.now();
      const r = ingestPaths(store, [pages], systemClock, { chunkMs });
      times.push(performance.now() - t);
      papers = r.added;
      if (r.warnings.length) throw new Error(`generated corpus gave warnings: ${r.warnings[0]!.message}`);
      store.close();
    }
    const { parsePage } = parse;
    const { readdirSync, readFileSync } = await import('node:fs');
    const t = performance.now();
    for (const f of readdirSync(pages)) parsePage(readFileSync(join(pages, f)), f, new Date());
    const parseOnly = performance.now() - t;
    const med = median(times);
    return {
      measured: fromSource ? 'src through tsx' : 'dist (the build)',
      entries,
      papers,
      runs_ms: times.map((x) => Math.round(x)),
      median_ms: Math.round(med),
      papers_per_sec: Math.round((papers / med) * 1000),
      parse_only_ms: Math.round(parseOnly),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
