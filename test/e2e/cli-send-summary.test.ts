// `paperboy send` reports each edition as a whole (sent, waiting, who holds the sender since when), not only its own
// rows: a run facing a live lease holder says what still waits, a run finishing a dead run's edition says what it sent.
import { describe, it, expect } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStore } from '../../src/db/open.js';
import { startSmtpReceiver } from '../helpers/smtp-receiver.js';
import { insertPapers, insertSubscribers } from '../helpers/delivery-fixtures.js';
import { tempDir } from '../helpers/tmp.js';
import { freePort } from '../helpers/free-port.js';
import { runCliAsync } from '../helpers/cli.js';

const BIN = fileURLToPath(new URL('../../bin/paperboy.js', import.meta.url));

function env(dataDir: string, smtpPort: number) {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    DATA_DIR: dataDir,
    FETCH_ENABLED: 'false',
    SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
    LOG_LEVEL: 'warn',
  };
}

// Runs the bin without blocking this process (the SMTP sink answering it lives here).
const run = runCliAsync;

describe('paperboy send summary', () => {
  it('names the waiting rows and the live holder, then reports what a takeover run sent of an earlier run', async () => {
    const dir = tempDir();
    const dbPath = `${dir}/paperboy.db`;
    const store = openStore(dbPath);
    insertPapers(store, 10);
    insertSubscribers(store, 30, { digest_size: 2 });
    // A live but hung sender: this test process, holding the lease for ten minutes.
    const since = new Date(Date.now() - 60_000).toISOString();
    store.db
      .prepare("INSERT INTO leases (name, holder, expires_at, acquired_at) VALUES ('sender', ?, ?, ?)")
      .run(`${hostname()}:${process.pid}:hung`, new Date(Date.now() + 600_000).toISOString(), since);
    store.close();

    // A forced run plans 30 rows and waits for the holder; it is stopped once its rows are in the ledger.
    const port = await freePort();
    const planner = spawn(process.execPath, [BIN, 'send', '--force'], { env: env(dir, port), stdio: 'ignore' });
    const count = () => {
      const s = openStore(dbPath);
      try {
        return s.db.prepare("SELECT COUNT(*) FROM deliveries WHERE status = 'queued'").pluck().get() as number;
      } finally {
        s.close();
      }
    };
    const deadline = Date.now() + 30_000;
    while (count() < 30 && Date.now() < deadline) await sleep(50);
    planner.kill('SIGKILL');
    expect(count()).toBe(30);

    // A plain send: nobody new to plan, the edition's 30 rows wait for the live holder. It says so, at once.
    const started = Date.now();
    const plain = spawnSync(process.execPath, [BIN, 'send', '--json'], { env: env(dir, port), encoding: 'utf8', timeout: 30_000 });
    expect(plain.status, plain.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
    const s1 = JSON.parse(plain.stdout) as {
      counts: { sent: number };
      plan: { queued: number };
      editions: { kind: string; sent: number; waiting: number }[];
      heldBy: { holder: string; since: string } | null;
    };
    expect(s1.counts.sent).toBe(0);
    expect(s1.plan.queued).toBe(0);
    expect(s1.editions).toEqual([expect.objectContaining({ kind: 'trending', sent: 0, waiting: 30 })]);
    expect(s1.heldBy).toEqual({ holder: `${hostname()}:${process.pid}:hung`, since });

    // The holder dies (a pid that is gone); the next run takes over and sends the earlier run's rows.
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    const s = openStore(dbPath);
    s.db.prepare("UPDATE leases SET holder = ? WHERE name = 'sender'").run(`${hostname()}:${gone}:dead`);
    s.close();
    const sink = await startSmtpReceiver();
    try {
      const take = await run(['send'], env(dir, sink.port));
      expect(take.code, take.stderr).toBe(0);
      expect(sink.received).toHaveLength(30);
      // Its own rows: none. What it sent: 30. The edition: all sent, none waiting, and nobody else holds it.
      expect(take.stdout).toMatch(/sent 0, failed 0, bounced 0, unknown 0 of the 0 this run planned/);
      expect(take.stdout).toMatch(/this process sent 30 in all/);
      expect(take.stdout).toMatch(/edition trending daily \d{4}-\d\d-\d\d: sent 30, waiting 0/);
      expect(take.stdout).not.toMatch(/another process/);
    } finally {
      await sink.close();
    }
  }, 90_000);
});
