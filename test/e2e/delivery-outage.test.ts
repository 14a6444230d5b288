// A mail server that refuses connections for longer than all retries would last: the run pauses and probes, spends no
// attempt, and when the server is back every subscriber gets exactly one digest, nothing failed or unknown.
import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStore } from '../../src/db/open.js';
import { insertPapers, insertSubscribers } from '../helpers/delivery-fixtures.js';
import { tempDir } from '../helpers/tmp.js';
import { freePort } from '../helpers/free-port.js';
import { startSmtpReceiver } from '../helpers/smtp-receiver.js';

const BIN = fileURLToPath(new URL('../../bin/paperboy.js', import.meta.url));

function send(dataDir: string, port: number, extra: Record<string, string>) {
  const child = spawn(process.execPath, [BIN, 'send', '--force'], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATA_DIR: dataDir,
      FETCH_ENABLED: 'false',
      SMTP_URL: `smtp://127.0.0.1:${port}`,
      LOG_LEVEL: 'warn',
      // Retries that would all be spent within 1 s of outage: 2 attempts, 1 s apart.
      SEND_MAX_ATTEMPTS: '2',
      SEND_RETRY_BASE_SECONDS: '1',
      SEND_PROBE_INITIAL_MS: '100',
      SEND_PROBE_MAX_MS: '400',
      ...extra,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => (clearTimeout(timer), resolve(code))));
  return { exit, stdout: () => stdout, stderr: () => stderr };
}

function seed(dir: string, n: number) {
  const store = openStore(`${dir}/paperboy.db`);
  insertPapers(store, 10);
  insertSubscribers(store, n, { digest_size: 2 });
  store.close();
}

function ledger(dir: string) {
  const store = openStore(`${dir}/paperboy.db`);
  try {
    return store.db
      .prepare('SELECT s.email, d.status, d.attempts, d.was_unknown, d.message_id FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id')
      .all() as {
      email: string;
      status: string;
      attempts: number;
      was_unknown: number;
      message_id: string;
    }[];
  } finally {
    store.close();
  }
}

describe('a mail server outage', () => {
  it('longer than all retries: paused, probed, then everyone gets exactly one digest and nothing is failed or unknown', async () => {
    const dir = tempDir();
    seed(dir, 300);
    const port = await freePort();
    const run = send(dir, port, {});
    // Once the run has planned everyone (its sends meeting the closed port), down for 3 s more: three times what
    // the two attempts would last.
    const planned = Date.now() + 30_000;
    while (ledger(dir).length < 300 && Date.now() < planned) await sleep(50);
    await sleep(3000);
    const during = ledger(dir);
    expect(during).toHaveLength(300);
    expect(during.filter((r) => r.status === 'failed' || r.status === 'unknown')).toEqual([]);
    const server = await startSmtpReceiver({ port });
    try {
      expect(await run.exit, run.stderr()).toBe(0);
      expect(run.stderr()).toMatch(/cannot be reached: sending paused/);
      const rows = ledger(dir);
      expect(rows.filter((r) => r.status !== 'sent')).toEqual([]);
      // No attempt was spent on the outage, and a refused connection is never a possible duplicate.
      expect(rows.filter((r) => r.attempts !== 1)).toEqual([]);
      expect(rows.filter((r) => r.was_unknown !== 0)).toEqual([]);
      const per = new Map<string, number>();
      for (const m of server.received) per.set(m.to[0]!, (per.get(m.to[0]!) ?? 0) + 1);
      expect(per.size).toBe(300);
      expect([...per.values()].filter((n) => n !== 1)).toEqual([]);
      expect(run.stdout()).toMatch(/sent 300, failed 0, bounced 0, unknown 0/);
    } finally {
      await server.close();
    }
  }, 90_000);

  it('longer than SEND_OUTAGE_MAX_SECONDS: the run stops, says so, and leaves every row queued with no attempt spent', async () => {
    const dir = tempDir();
    seed(dir, 50);
    const port = await freePort();
    const started = Date.now();
    const run = send(dir, port, { SEND_OUTAGE_MAX_SECONDS: '1' });
    expect(await run.exit, run.stderr()).toBe(0);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(run.stdout()).toMatch(/mail server could not be reached: the rest stay queued with no attempt spent/);
    const rows = ledger(dir);
    expect(rows).toHaveLength(50);
    expect(rows.filter((r) => r.status !== 'queued' || r.attempts !== 0 || r.was_unknown !== 0)).toEqual([]);
  }, 60_000);
});
