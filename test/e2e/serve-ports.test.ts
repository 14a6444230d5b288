// `paperboy serve` with a port already taken (issue 13 defect 11): one clear line naming the setting, a non-zero
// exit, no stack trace, and nothing served, whichever of PORT and INBOUND_SMTP_PORT is the taken one.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { freePort } from '../helpers/free-port.js';
import { tempDir } from '../helpers/tmp.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
});

/** Something else listening on a port, the way another program would. */
async function occupy(): Promise<number> {
  const s = createServer((sock) => sock.end());
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  servers.push(s);
  return (s.address() as { port: number }).port;
}

/** `paperboy serve` from the real bin, or `npm start`'s entry (src/main.ts) with `main`. */
function serve(
  env: Record<string, string>,
  how: 'bin' | 'main' = 'bin',
): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  const [cmd, args] = how === 'bin' ? [process.execPath, ['bin/paperboy.js', 'serve']] : ['node_modules/.bin/tsx', ['src/main.ts']];
  const child = spawn(cmd, args, {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATA_DIR: tempDir(), FETCH_ENABLED: 'false', SCHEDULER_ENABLED: 'false', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  // A service that did start would run until signalled: the kill turns that into a failure below, not a hang.
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    }),
  );
}

async function refused(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2000) });
    return false;
  } catch {
    return true;
  }
}

describe('paperboy serve with a port in use', () => {
  it('INBOUND_SMTP_PORT taken: says so in one line and exits non-zero, and the web port was never served', async () => {
    const taken = await occupy();
    const web = await freePort();
    const r = await serve({ PORT: String(web), INBOUND_SMTP_PORT: String(taken) });
    expect(r.signal).toBeNull();
    expect(r.code).not.toBe(0);
    expect(r.ms).toBeLessThan(15_000);
    expect(r.stderr.trim().split('\n')).toEqual([
      `error: port ${taken} on 127.0.0.1 is in use (INBOUND_SMTP_PORT): set INBOUND_SMTP_PORT to a free port, or stop what uses it`,
    ]);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stderr).not.toMatch(/EADDRINUSE/);
    expect(r.stdout).not.toContain('paperboy is running');
    expect(await refused(`http://127.0.0.1:${web}/`)).toBe(true);
  });

  it('PORT taken: names PORT, exits non-zero, and the inbound port is free afterwards', async () => {
    const taken = await occupy();
    const inbound = await freePort();
    const r = await serve({ PORT: String(taken), INBOUND_SMTP_PORT: String(inbound) });
    expect(r.signal).toBeNull();
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual([`error: port ${taken} on 127.0.0.1 is in use (PORT): set PORT to a free port, or stop what uses it`]);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stdout).not.toContain('paperboy is running');
    // Nothing was left listening: the inbound port can be bound again.
    const s = createServer();
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(inbound, '127.0.0.1', resolve);
    });
    await new Promise<void>((r2) => s.close(() => r2()));
  });

  it('npm start (src/main.ts) says the same in one line, with no stack', async () => {
    const taken = await occupy();
    const r = await serve({ PORT: String(await freePort()), INBOUND_SMTP_PORT: String(taken), LOG_LEVEL: 'warn' }, 'main');
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toBe(`error: port ${taken} on 127.0.0.1 is in use (INBOUND_SMTP_PORT): set INBOUND_SMTP_PORT to a free port, or stop what uses it`);
  });

  it('PORT and INBOUND_SMTP_PORT the same: names both', async () => {
    const port = await freePort();
    const r = await serve({ PORT: String(port), INBOUND_SMTP_PORT: String(port) });
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toBe(`error: PORT and INBOUND_SMTP_PORT are both ${port}: set one of them to another port`);
  });
});
