// The `paperboy` bin is the program itself (no child process in between), so SIGTERM to the pid you started
// stops the service: its port closes and the process exits.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { BIN, startServe, withBase } from '../helpers/cli.js';
import { connect } from 'node:net';
import { freePort } from '../helpers/free-port.js';
import { tempDir } from '../helpers/tmp.js';

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

describe('paperboy serve started from the bin', () => {
  const dir = tempDir();
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it('closes its port within 5 s of a SIGTERM to its pid', async () => {
    const port = await freePort();
    ({ child } = await startServe({
      DATA_DIR: dir,
      PORT: String(port),
      INBOUND_SMTP_ENABLED: 'false',
      SCHEDULER_ENABLED: 'false',
      FETCH_ENABLED: 'false',
      LOG_LEVEL: 'warn',
    }));
    expect(await portOpen(port)).toBe(true);

    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    const sent = Date.now();
    child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 5_000))]);
    expect(code).toBe(0);
    expect(Date.now() - sent).toBeLessThan(5_000);
    expect(await portOpen(port)).toBe(false);
  });
});

describe('paperboy serve told to stop while it starts', () => {
  it('finishes starting, then stops and exits 0: the signal is not its death', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [BIN, 'serve'], {
      env: withBase({
        DATA_DIR: tempDir(),
        PORT: String(port),
        INBOUND_SMTP_ENABLED: 'false',
        SCHEDULER_ENABLED: 'false',
        FETCH_ENABLED: 'false',
        LOG_LEVEL: 'info',
        LOG_FORMAT: 'json',
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let err = '';
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      // The first line startService logs: the process is inside its start, the ports not yet open.
      await new Promise<void>((resolve, reject) => {
        child.stderr.on('data', (b: Buffer) => {
          err += b.toString();
          if (err.includes('"corpus ingested"')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`exited (${code}) before starting:\n${err}`)));
      });
      const exited = new Promise<[number | null, string | null]>((resolve) => child.once('exit', (code, signal) => resolve([code, signal])));
      child.kill('SIGTERM');
      expect(await exited, err).toEqual([0, null]);
      expect(err).toContain('"signal":"SIGTERM"');
      expect(await portOpen(port)).toBe(false);
      expect(out).toContain('stop with Ctrl-C');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 30_000);
});
