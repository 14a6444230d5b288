import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const results = mkdtempSync(path.join(tmpdir(), 'paperboy-bench-results-'));
afterAll(() => rmSync(results, { recursive: true, force: true }));

interface Sample {
  workload: string;
  n: number;
  peakRssMB: number;
  cpuSeconds: number;
  memoryPeaksMB: { heapTotal: number; rss: number };
  detail: { ledger: { sent: number; other: number; distinctMessageIds: number }; cli: string[] };
}

/** `npm run bench -- memory ARGS`, its results in this file's own directory. */
function runMemoryBench(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'bench/index.ts', 'memory', ...args], {
    encoding: 'utf8',
    env: { ...process.env, BENCH_RESULTS_DIR: results },
    timeout: 120_000,
  });
}

// The bench itself, small: it must really run `paperboy send --force` as a process and see every delivery sent.
// Its verdict is not asserted here (figures at this size mean nothing); that the measurement is real is.
describe('npm run bench -- memory', () => {
  it('measures the real send process at both sizes and checks its ledger', () => {
    const r = runMemoryBench(['--small=30', '--large=120']);
    expect(r.status, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/\| delivery\s+\| 120\s+\|/);
    const out = JSON.parse(readFileSync(path.join(results, 'memory-latest.json'), 'utf8')) as {
      samples: Sample[];
      ratio: number;
      baseline: Sample;
      measured: string;
      nodeFlags: string[];
    };
    // What users run: the build (the bin imports it when fresh), and the same command with nobody to send to.
    expect(out.measured).toBe('dist (the build)');
    expect(r.stdout).toContain('measured: dist/cli/index.js send --force (the build, as bin/paperboy runs it)');
    // ... started with the node flags `paperboy` starts with: those on the bin's shebang line.
    const shebang = readFileSync('bin/paperboy.js', 'utf8').split('\n', 1)[0]!;
    expect(shebang).toMatch(/^#!\/usr\/bin\/env -S node --/);
    expect(out.nodeFlags).toEqual(shebang.replace('#!/usr/bin/env -S node ', '').split(' '));
    expect(r.stdout).toContain(`measured process: node ${out.nodeFlags.join(' ')}`);
    expect(out.baseline).toMatchObject({ workload: 'idle (nothing to send)', n: 0 });
    expect(out.baseline.detail.ledger).toMatchObject({ sent: 0, other: 0 });
    expect(out.baseline.detail.cli.join('\n')).toContain('sent 0, failed 0');
    expect(out.baseline.peakRssMB).toBeGreaterThan(40);
    expect(out.samples.map((s) => [s.workload, s.n])).toEqual([
      ['delivery', 30],
      ['delivery', 120],
    ]);
    for (const s of out.samples) {
      expect(s.detail.ledger).toMatchObject({ sent: s.n, other: 0, distinctMessageIds: s.n });
      // The CLI's own summary, from the measured process.
      expect(s.detail.cli.join('\n')).toContain(`sent ${s.n}, failed 0`);
      // Peaks from inside that process: a node with the app loaded is tens of MB, never zero.
      expect(s.peakRssMB).toBeGreaterThan(40);
      expect(s.memoryPeaksMB.heapTotal).toBeGreaterThan(5);
      expect(s.cpuSeconds).toBeGreaterThan(0);
    }
    expect(out.ratio).toBeCloseTo(out.samples[1]!.peakRssMB / out.samples[0]!.peakRssMB, 5);
  }, 130_000);

  it("measures an edition's second run, whose MJML the first left in the ledger", () => {
    const r = runMemoryBench(['--workload=rerun', '--small=20', '--large=40']);
    expect(r.status, r.stderr + r.stdout).toBe(0);
    const out = JSON.parse(readFileSync(path.join(results, 'memory-latest.json'), 'utf8')) as { workload: string; samples: Sample[] };
    expect(out.workload).toBe('rerun');
    expect(out.samples.map((s) => [s.workload, s.n])).toEqual([
      ['rerun (edition sent before)', 20],
      ['rerun (edition sent before)', 40],
    ]);
    for (const s of out.samples) {
      // The measured run's own deliveries: as many as it had new subscribers, all sent, Message-IDs distinct.
      expect(s.detail.ledger).toMatchObject({ sent: s.n, other: 0, distinctMessageIds: s.n });
      expect(s.detail.cli.join('\n')).toContain(`sent ${s.n}, failed 0`);
    }
  }, 130_000);
});
