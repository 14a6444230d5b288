// Owns peak-memory measurement: a child process (with --expose-gc) runs a workload and reports its peak RSS.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { benchDir, num, options, table, writeResult, type BenchPart } from './lib/part.js';
import { startSink } from './postfix.js';

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
export async function sampleChild(workload: string, n: number, env: Record<string, string> = {}): Promise<MemorySample> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(benchDir, 'memory-child.ts'), workload, String(n)], {
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
  description: 'peak RSS of a send workload at N and 10N recipients (flat memory check)',
  async run(args) {
    const o = options(args);
    const small = num(o, 'small', 10_000);
    const large = num(o, 'large', 100_000);
    // Until the real sender is wired in, the workload is the SMTP fast path alone (bench/memory-child.ts).
    const workload = o.get('workload') ?? 'smtp';
    const samples: MemorySample[] = [];
    for (const n of [small, large]) {
      const sink = await startSink();
      try {
        samples.push(await sampleChild(workload, n, { BENCH_SMTP_PORT: String(sink.port) }));
      } finally {
        await sink.stop();
      }
    }
    const ratio = samples[1]!.peakRssMB / samples[0]!.peakRssMB;
    table([
      ...samples.map((s) => ({ workload: s.workload, recipients: s.n, 'peak RSS (MB)': s.peakRssMB, seconds: s.seconds })),
      { workload: 'ratio large/small', recipients: '', 'peak RSS (MB)': ratio, seconds: '' },
    ]);
    console.log('results: ' + writeResult('memory', { samples, ratio }));
  },
};
