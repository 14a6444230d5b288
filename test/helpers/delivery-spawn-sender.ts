// Starts test/fixtures/delivery-send-child.ts as a separate process (crash and two-process tests).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('../fixtures/delivery-send-child.ts', import.meta.url));

export function spawnSender(
  dir: string,
  port: number,
  env: Record<string, string> = {},
): { child: ChildProcess; exit: Promise<number | null>; out: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, DELIVERY_DIR: dir, SMTP_PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exit, out: () => out };
}
