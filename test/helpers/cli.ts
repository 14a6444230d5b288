// Runs the real `paperboy` CLI in a child process, as a person would.
import { spawnSync } from 'node:child_process';

export function runCli(args: string[], env: Record<string, string>): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('node_modules/.bin/tsx', ['src/cli/index.ts', ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    timeout: 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
