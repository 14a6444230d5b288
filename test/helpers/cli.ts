// Runs the real `paperboy` CLI from its bin in a child process, as a person would (the fresh build or src/ via tsx,
// as bin/paperboy.js decides).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/paperboy.js', import.meta.url));

/** The environment a child paperboy gets: only PATH and HOME from ours, so no .env or setting of this shell leaks in. */
export const withBase = (env: Record<string, string>) => ({ PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env });

export function runCli(args: string[], env: Record<string, string>): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: withBase(env), timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Like runCli, without blocking this process: for a CLI run that talks to a server the test runs here. */
export function runCliAsync(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: withBase(env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/**
 * `paperboy serve` from the bin, resolved once it printed its start banner; `output()` is stdout and stderr so far.
 * The caller stops it (SIGTERM, or SIGKILL in an afterAll).
 */
export async function startServe(env: Record<string, string>): Promise<{ child: ChildProcess; output(): string }> {
  const child = spawn(process.execPath, [BIN, 'serve'], { env: withBase(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const started = Date.now();
  while (!out.includes('stop with Ctrl-C')) {
    if (Date.now() - started > 30_000) {
      child.kill('SIGKILL');
      throw new Error(`no start banner:\n${out}`);
    }
    if (child.exitCode !== null) throw new Error(`exited early (${child.exitCode}):\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, output: () => out };
}
