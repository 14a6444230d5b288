// Owns peak-memory measurement: a child process (with --expose-gc) runs a workload and reports its peak RSS.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { benchDir, num, options, table, writeResult, type BenchPart } from './lib/part.js';
import { startSink } from './postfix.js';

const MAX_LARGE_MB = 250;
const MAX_RATIO = 1.25;

export interface MemorySample {
  workload: string;
  n: number;
  peakRssMB: number;
  seconds: number;
  detail?: unknown;
}

/**
 * Runs bench/memory-child.ts `workload` for `n` in a fresh node, so the peak RSS belongs to that run alone.
 * The child prints one JSON line: { peakRssMB, seconds, detail }.
 */
export async function sampleChild(workload: string, n: number, env: Record<string, string> = {}, nodeFlags: string[] = []): Promise<MemorySample> {
  const child = spawn(process.execPath, ['--expose-gc', ...nodeFlags, '--import', 'tsx', path.join(benchDir, 'memory-child.ts'), workload, String(n)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const line = out.trim().split('\n').pop() ?? '';
  if (code !== 0) throw new Error(`memory child (${workload}, ${n}) exited ${code}: ${out.slice(-500)}`);
  const r = JSON.parse(line) as { peakRssMB: number; seconds: number; detail?: unknown };
  return { workload, n, ...r };
}

export const memoryPart: BenchPart = {
  name: 'memory',
  description: 'peak RSS of paperboy send --force (real ledger and sender) at 10,000 and 100,000 subscribers',
  async run(args) {
    const o = options(args);
    const small = num(o, 'small', 10_000);
    const large = num(o, 'large', 100_000);
    // The real sender by default; `--workload=smtp` measures the SMTP fast path alone (bench/memory-child.ts).
    const workload = o.get('workload') ?? 'delivery';
    // `--max-old-space=MB` caps V8's old generation in the child (node --max-old-space-size). Off by default: the
    // verdict is for node as shipped. The live heap after a full GC stays ~32 MB at any N; without a cap V8 lets
    // garbage pile up in proportion to how long the process runs, which is most of the growth from 10k to 100k.
    const maxOldSpace = o.get('max-old-space');
    const nodeFlags = maxOldSpace ? [`--max-old-space-size=${Number(maxOldSpace)}`] : [];
    if (maxOldSpace) console.log(`child node flags: ${nodeFlags.join(' ')}`);
    const samples: MemorySample[] = [];
    for (const n of [small, large]) {
      const sink = await startSink();
      try {
        samples.push(await sampleChild(workload, n, { BENCH_SMTP_PORT: String(sink.port) }, nodeFlags));
      } finally {
        await sink.stop();
      }
    }
    const ratio = samples[1]!.peakRssMB / samples[0]!.peakRssMB;
    table([
      ...samples.map((s) => ({ workload: s.workload, recipients: s.n, 'peak RSS (MB)': s.peakRssMB, seconds: s.seconds })),
      { workload: 'ratio large/small', recipients: '', 'peak RSS (MB)': ratio, seconds: '' },
    ]);
    // Issue 6's bounds: the large run under 250 MB and within 1.25x of the small one.
    const pass = samples[1]!.peakRssMB < MAX_LARGE_MB && ratio <= MAX_RATIO;
    console.log(`peak RSS at ${large}: ${samples[1]!.peakRssMB} MB (< ${MAX_LARGE_MB}), ratio ${ratio.toFixed(2)} (<= ${MAX_RATIO}): ${pass ? 'PASS' : 'FAIL'}`);
    console.log('results: ' + writeResult('memory', { samples, ratio, nodeFlags, targets: { maxLargeMB: MAX_LARGE_MB, maxRatio: MAX_RATIO }, pass }));
  },
};
