// The bench's children stop with it: SIGTERM to a running `npm run bench -- memory` leaves no smtp-sink and no
// measured `paperboy send` behind (without the bench's own handler, node would exit before its 'exit' handlers ran).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';

const results = mkdtempSync(path.join(tmpdir(), 'paperboy-bench-signals-'));
afterAll(() => rmSync(results, { recursive: true, force: true }));

/** Direct children of `pid`, from /proc (no ps needed). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirProc()) {
    const stat = readStat(entry);
    if (stat && stat.ppid === pid && stat.state !== 'Z') out.push(entry);
  }
  return out;
}

function readdirProc(): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number);
}

function readStat(pid: number): { ppid: number; state: string; cmd: string } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ...": comm may hold spaces, so read after the last ')'.
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    return { state: rest[0]!, ppid: Number(rest[1]), cmd };
  } catch {
    return null;
  }
}

/** Alive: in /proc and not a zombie (a killed child whose parent is gone may linger as one until init reaps it). */
const alive = (pid: number) => existsSync(`/proc/${pid}`) && readStat(pid)?.state !== 'Z';

describe('bench children', () => {
  it('SIGTERM to the bench stops the sink and the measured send it started', async () => {
    const bench = spawn(process.execPath, ['--import', 'tsx', 'bench/index.ts', 'memory', '--small=20000', '--large=20001'], {
      env: { ...process.env, BENCH_RESULTS_DIR: results },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    bench.stderr.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-2000)));
    const exited = new Promise<number | null>((resolve) => bench.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
    try {
      // Wait until it measures: a smtp-sink and the send process are both its children.
      let kids: number[] = [];
      for (let i = 0; i < 600; i++) {
        kids = childrenOf(bench.pid!);
        const cmds = kids.map((k) => readStat(k)?.cmd ?? '');
        if (cmds.some((c) => c.includes('smtp-sink')) && cmds.some((c) => c.includes('send --force'))) break;
        await sleep(100);
      }
      const cmds = kids.map((k) => readStat(k)?.cmd ?? '');
      expect(
        cmds.some((c) => c.includes('smtp-sink')),
        err,
      ).toBe(true);
      expect(
        cmds.some((c) => c.includes('send --force')),
        err,
      ).toBe(true);
      bench.kill('SIGTERM');
      expect(await exited).toBe(143);
      // Give the kernel a moment to deliver the kills.
      for (let i = 0; i < 50 && kids.some(alive); i++) await sleep(100);
      expect(kids.filter(alive).map((k) => readStat(k)?.cmd)).toEqual([]);
    } finally {
      if (bench.exitCode === null) bench.kill('SIGKILL');
    }
  }, 120_000);
});
