// Owns peak-memory measurement: the real `paperboy send --force` process (or the SMTP path alone) at two sizes.
import { spawn } from 'node:child_process';
import os from 'node:os';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { benchDir, machineLine, num, options, table, writeResult, type BenchPart } from './lib/part.js';
import { startSink } from './postfix.js';
import { buildWorld, checkLedger, worldEnv } from './lib/paperboy-world.js';
import { openStore } from '../src/db/open.js';
import { binNodeFlags, freshBuild, ROOT } from './lib/build.js';
import { stopWithBench } from './lib/children.js';

const MAX_LARGE_MB = 250;
const MAX_RATIO = 1.25;
/** Issue 18: a million subscribers under 150 MB, within 1.1x of the 10,000 run. */
const MILLION_MAX_MB = 150;
const MILLION_MAX_RATIO = 1.1;
const PEAK_RSS = path.join(benchDir, 'lib', 'peak-rss.cjs');

export interface MemorySample {
  workload: string;
  n: number;
  peakRssMB: number;
  seconds: number;
  cpuSeconds: number;
  memoryPeaksMB: Record<string, number>;
  detail?: unknown;
}

interface Measured {
  peakRssMB: number;
  seconds: number;
  cpuSeconds: number;
  memoryPeaksMB: Record<string, number>;
  stdout: string;
}

/**
 * Runs `args` in a fresh node with bench/lib/peak-rss.cjs preloaded, so the peak RSS belongs to that process alone.
 * TypeScript entries run through tsx, whose loader hooks live on a thread of their own (an isolate of some 30 MB);
 * JavaScript ones (the build) run as they are.
 */
async function measure(args: string[], env: Record<string, string>, nodeFlags: string[]): Promise<Measured> {
  const dir = mkdtempSync(path.join(tmpdir(), 'paperboy-bench-peak-'));
  const out = path.join(dir, 'peak.json');
  try {
    const loader = args[0]!.endsWith('.ts') ? ['--import', 'tsx'] : [];
    const child = stopWithBench(
      spawn(process.execPath, [...nodeFlags, '--require', PEAK_RSS, ...loader, ...args], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ...env, BENCH_PEAK_OUT: out },
      }),
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    if (code !== 0) throw new Error(`${args.join(' ')} exited ${code}:\n${stdout.slice(-1000)}\n${stderr}`);
    return { ...(JSON.parse(readFileSync(out, 'utf8')) as Omit<Measured, 'stdout'>), stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The CLI as `paperboy` runs it: bin/paperboy.js imports dist/cli/index.js when the build is fresh, which this builds
 * first; `--from-source` measures src/cli/index.ts through tsx instead (as the bin does without a fresh build).
 */
function cliEntry(fromSource: boolean): string {
  return fromSource ? path.join(ROOT, 'src', 'cli', 'index.ts') : path.join(freshBuild(), 'cli', 'index.js');
}

/**
 * `paperboy send --force` as its own process against a fresh world of `n` subscribers; the ledger must show all sent.
 * `rerun`: the edition was sent once before (to as many others, not measured), so its MJML is in the ledger's cache.
 */
async function deliveryRun(
  n: number,
  port: number,
  nodeFlags: string[],
  env: Record<string, string>,
  distinct: boolean,
  cli: string,
  rerun = false,
): Promise<MemorySample> {
  // Distinct selections come with a reader model each (issue 16: 100,000 subscribers with models under 250 MB).
  // The idle baseline (n = 0) seeds nobody, so there is nothing to make distinct.
  const seeded = distinct && n > 0;
  const world = buildWorld(n, 10, { distinct: seeded, models: seeded });
  if (seeded && world.distinct !== n) throw new Error(`only ${world.distinct} distinct selections for ${n} subscribers`);
  if (seeded && world.models !== n) throw new Error(`only ${world.models} reader models for ${n} subscribers`);
  try {
    if (rerun && n > 0) {
      await measure([cli, 'send', '--force'], { ...worldEnv(world, port, 5), ...env }, nodeFlags);
      // The next delivery hour's readers: as many again, the same edition.
      const store = openStore(world.dbPath);
      store.db
        .prepare(
          `INSERT INTO subscribers (email, status, frequency, weekday, kind, digest_size, delivery_hour, time_zone, source, created_at, updated_at, confirmed_at)
           SELECT 'later-' || email, status, frequency, weekday, kind, digest_size, delivery_hour, time_zone, source, created_at, updated_at, confirmed_at FROM subscribers`,
        )
        .run();
      store.close();
    }
    const m = await measure([cli, 'send', '--force'], { ...worldEnv(world, port, 5), ...env }, nodeFlags);
    const store = openStore(world.dbPath);
    const ledger = checkLedger(store);
    if (rerun && n > 0) {
      // Only the measured run's deliveries count below; the first run's are checked for all sent too.
      const later = (sql: string) => (store.db.prepare(sql).get() as { n: number }).n;
      ledger.sent -= n;
      ledger.distinctMessageIds -= n;
      if (later(`SELECT count(*) AS n FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE s.email LIKE 'later-%' AND d.status = 'sent'`) !== n)
        throw new Error(`the edition's second run did not send all ${n}`);
    }
    store.close();
    if (ledger.sent !== n || ledger.distinctMessageIds !== n || (seeded && ledger.distinctVariants !== n))
      throw new Error(`ledger: ${JSON.stringify(ledger)} for ${n} subscribers\n${m.stdout}`);
    return {
      workload: n === 0 ? 'idle (nothing to send)' : distinct ? 'distinct' : rerun ? 'rerun (edition sent before)' : 'delivery',
      n,
      peakRssMB: m.peakRssMB,
      seconds: m.seconds,
      cpuSeconds: m.cpuSeconds,
      memoryPeaksMB: m.memoryPeaksMB,
      detail: { ledger, cli: m.stdout.trim().split('\n') },
    };
  } finally {
    world.cleanup();
  }
}

/** What each workload runs for `n` recipients against the sink on `port`; throws unless every message was sent. */
const workloads: Record<string, (n: number, port: number, nodeFlags: string[], env: Record<string, string>, cli: string) => Promise<MemorySample>> = {
  /**
   * The real thing: a temp ledger with the seed corpus and `n` subscribers (seeded here, one bulk-insert transaction,
   * not measured), then `paperboy send --force` as its own process (src/cli/index.ts through tsx, as `npm run cli` and
   * bin/paperboy run it), through the pipelining client to the sink. Its ledger must show every delivery sent.
   */
  async delivery(n, port, nodeFlags, env, cli) {
    return deliveryRun(n, port, nodeFlags, env, false, cli);
  },
  /**
   * The same with every subscriber's selection distinct (topics and size drawn until none repeats, as with per-reader
   * ranking): each message assembled from the edition's blocks, one small recipe per reader in the ledger.
   */
  async distinct(n, port, nodeFlags, env, cli) {
    return deliveryRun(n, port, nodeFlags, env, true, cli);
  },
  /**
   * The edition's second run (the next delivery hour, a resumed send): `n` more subscribers after a first send to
   * `n`, which is not measured. Its MJML comes from the ledger (src/render/mjml-cache.ts): MJML never loads.
   */
  async rerun(n, port, nodeFlags, env, cli) {
    return deliveryRun(n, port, nodeFlags, env, false, cli, true);
  },
  /** The SMTP fast path alone (bench/memory-child.ts): no ledger, no render. */
  async smtp(n, port, nodeFlags, env) {
    const m = await measure([path.join(benchDir, 'memory-child.ts'), String(n)], { BENCH_SMTP_PORT: String(port), ...env }, nodeFlags);
    return { workload: 'smtp', n, peakRssMB: m.peakRssMB, seconds: m.seconds, cpuSeconds: m.cpuSeconds, memoryPeaksMB: m.memoryPeaksMB };
  },
};

export const memoryPart: BenchPart = {
  name: 'memory',
  description: 'peak RSS of the `paperboy send --force` process (real ledger and sender) at 10,000 and 100,000 subscribers',
  async run(args) {
    const o = options(args);
    const small = num(o, 'small', 10_000);
    const large = num(o, 'large', 100_000);
    // `--million` adds issue 18's run: 1,000,000 subscribers (seeded in one bulk-insert transaction, not measured).
    const sizes = [small, large, ...(o.has('million') ? [1_000_000] : [])];
    const name = o.get('workload') ?? (o.has('distinct') ? 'distinct' : 'delivery');
    const work = workloads[name];
    if (!work) throw new Error(`unknown memory workload ${name}; known: ${Object.keys(workloads).join(', ')}`);
    // `--heap-growth=P` runs the process with HEAP_GROWTH_PERCENT=P (0 is V8's own rule, the figure before paperboy
    // set it); `--max-old-space=MB` adds node --max-old-space-size. Both off by default: the verdict is for paperboy
    // as shipped.
    const env: Record<string, string> = o.has('heap-growth') ? { HEAP_GROWTH_PERCENT: String(num(o, 'heap-growth', 50)) } : {};
    // The measured process starts with the flags `paperboy` starts with (bin/paperboy.js's shebang) unless
    // `--no-bin-flags`, which shows what they are worth.
    const nodeFlags = [
      ...(o.has('no-bin-flags') ? [] : binNodeFlags()),
      ...(o.has('max-old-space') ? [`--max-old-space-size=${num(o, 'max-old-space', 0)}`] : []),
    ];
    console.log(`measured process: node ${[...nodeFlags, ...Object.entries(env).map(([k, v]) => `${k}=${v}`)].join(' ') || '(no flags)'}`);
    const fromSource = o.has('from-source');
    const cli = cliEntry(fromSource);
    console.log(`measured: ${path.relative(ROOT, cli)} send --force${fromSource ? ' through tsx' : ' (the build, as bin/paperboy runs it)'}`);
    const run = async (n: number, w: typeof work) => {
      const sink = await startSink();
      try {
        return await w(n, sink.port, nodeFlags, env, cli);
      } finally {
        await sink.stop();
      }
    };
    // The fixed cost: the same command with nobody to send to (what it loads before it sends anything).
    const baseline = name === 'smtp' ? null : await run(0, workloads.delivery!);
    const samples: MemorySample[] = [];
    for (const n of sizes) samples.push(await run(n, work));
    const ratio = samples[1]!.peakRssMB / samples[0]!.peakRssMB;
    const million = samples.find((x) => x.n === 1_000_000);
    const millionRatio = million ? million.peakRssMB / samples[0]!.peakRssMB : null;
    const row = (s: MemorySample) => ({
      workload: s.workload,
      recipients: s.n,
      'peak RSS (MB)': s.peakRssMB,
      'peak JS heap (MB)': s.memoryPeaksMB.heapTotal ?? '',
      'peak buffers (MB)': s.memoryPeaksMB.external ?? '',
      seconds: s.seconds,
      'CPU s': s.cpuSeconds,
    });
    const blank = { 'peak JS heap (MB)': '', 'peak buffers (MB)': '', seconds: '', 'CPU s': '' };
    table([
      ...(baseline ? [row(baseline)] : []),
      ...samples.map(row),
      { workload: `ratio ${large}/${small}`, recipients: '', 'peak RSS (MB)': ratio, ...blank },
      ...(millionRatio !== null ? [{ workload: `ratio 1000000/${small}`, recipients: '', 'peak RSS (MB)': millionRatio, ...blank }] : []),
    ]);
    // Issue 6's bounds: the large run under 250 MB and within 1.25x of the small one.
    const pass = samples[1]!.peakRssMB < MAX_LARGE_MB && ratio <= MAX_RATIO;
    console.log(`measured on ${machineLine()}`);
    if (baseline) console.log(`baseline (the same command, nothing to send): ${baseline.peakRssMB} MB`);
    console.log(
      `peak RSS at ${large}${name === 'distinct' ? ' (every selection distinct)' : ''}: ${samples[1]!.peakRssMB} MB (< ${MAX_LARGE_MB}), ratio ${ratio.toFixed(2)} (<= ${MAX_RATIO}): ${pass ? 'PASS' : 'FAIL'}`,
    );
    const millionPass = million ? million.peakRssMB < MILLION_MAX_MB && millionRatio! <= MILLION_MAX_RATIO : null;
    if (million)
      console.log(
        `peak RSS at 1000000: ${million.peakRssMB} MB (< ${MILLION_MAX_MB}), ratio to ${small} ${millionRatio!.toFixed(2)} (<= ${MILLION_MAX_RATIO}): ${millionPass ? 'PASS' : 'FAIL'}`,
      );
    console.log(
      'results: ' +
        writeResult('memory', {
          workload: name,
          measured: fromSource ? 'src through tsx' : 'dist (the build)',
          loadAverage: os.loadavg(),
          baseline,
          samples,
          ratio,
          millionRatio,
          nodeFlags,
          env,
          targets: { maxLargeMB: MAX_LARGE_MB, maxRatio: MAX_RATIO, millionMaxMB: MILLION_MAX_MB, millionMaxRatio: MILLION_MAX_RATIO },
          pass,
          millionPass,
        }),
    );
  },
};
