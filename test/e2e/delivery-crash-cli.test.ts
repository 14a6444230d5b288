// `paperboy send --force` SIGKILLed (its whole process group) at random moments of real SMTP sends, with the default
// settings, then run to the end: nobody is without their digest, and every duplicate was on the wire at a kill.
import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStore } from '../../src/db/open.js';
import { startSmtpSink, type Received } from '../helpers/delivery-smtp-sink.js';
import { insertPapers, insertSubscribers } from '../helpers/delivery-fixtures.js';
import { tempDir } from '../helpers/tmp.js';

const BIN = fileURLToPath(new URL('../../bin/paperboy.js', import.meta.url));
const SUBSCRIBERS = 2000;
const KILLS = 15;
/** The in-flight window at the defaults: SMTP_POOL_SIZE (5) * 8. */
const WINDOW = 40;

function rng(seed: number) {
  return () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
}

/** Message-IDs of complete messages (a kill mid-DATA leaves a truncated one the server never acknowledged). */
function completeIds(received: Received[]): string[] {
  return received.filter((r) => r.raw.toString('latin1').trimEnd().endsWith('--')).map((r) => r.messageId!);
}

function send(dataDir: string, smtpPort: number) {
  // detached: its own process group, so the kill reaches every process it may have started.
  const child = spawn(process.execPath, [BIN, 'send', '--force'], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dataDir, FETCH_ENABLED: 'false', SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exit, out: () => out };
}

describe('crash safety of paperboy send with the default settings', () => {
  it(`${KILLS} SIGKILLs mid-send: 0 subscribers without their digest, duplicates only of messages on the wire`, async () => {
    const dir = tempDir();
    const sink = await startSmtpSink();
    const dbPath = `${dir}/paperboy.db`;
    const seed = openStore(dbPath);
    insertPapers(seed, 20);
    insertSubscribers(seed, SUBSCRIBERS, { digest_size: 3 });
    seed.close();
    const random = rng(Number(process.env.CRASH_SEED ?? 20261203));
    const unsent = () => {
      const s = openStore(dbPath);
      try {
        const r = s.db.prepare("SELECT COUNT(*) AS total, COUNT(*) FILTER (WHERE status != 'sent') AS left FROM deliveries").get() as { total: number; left: number };
        return r.total === 0 ? Infinity : r.left;
      } finally {
        s.close();
      }
    };
    let kills = 0;
    const running = new Set<ReturnType<typeof send>>();
    try {
      for (let round = 0; kills < KILLS && round < 40; round++) {
        const before = sink.received.length;
        const run = send(dir, sink.port);
        running.add(run);
        let exited = false;
        void run.exit.then(() => (exited = true));
        // Wait for the sending to start, then kill after a random number of further messages (1 to 120).
        const target = before + 1 + Math.floor(random() * 120);
        const deadline = Date.now() + 30_000;
        while (!exited && Date.now() < deadline && sink.received.length < target) await sleep(1);
        if (exited) {
          running.delete(run);
          expect(await run.exit, run.out()).toBe(0);
          if (unsent() === 0) break;
          continue;
        }
        process.kill(-run.child.pid!, 'SIGKILL');
        await run.exit;
        running.delete(run);
        kills++;
      }
      expect(kills, 'the kills must land before everything is sent').toBe(KILLS);
      // Run to the end.
      for (let attempt = 0; attempt < 5 && unsent() > 0; attempt++) {
        const last = send(dir, sink.port);
        running.add(last);
        expect(await last.exit, last.out()).toBe(0);
        running.delete(last);
      }

      const check = openStore(dbPath);
      const rows = check.db.prepare('SELECT id, subscriber_id, status, message_id, was_unknown, attempts FROM deliveries').all() as {
        id: number; subscriber_id: number; status: string; message_id: string; was_unknown: number; attempts: number;
      }[];
      check.close();
      expect(rows).toHaveLength(SUBSCRIBERS);
      expect(rows.filter((r) => r.status !== 'sent')).toEqual([]);
      const ids = completeIds(sink.received);
      const count = new Map<string, number>();
      for (const id of ids) count.set(id, (count.get(id) ?? 0) + 1);
      // Nobody without their digest.
      expect(rows.filter((r) => !count.has(r.message_id))).toEqual([]);
      // Every duplicate was on the wire at a kill (the recovery flagged it was_unknown), and there are few.
      const dupes = rows.filter((r) => count.get(r.message_id)! > 1);
      expect(dupes.filter((r) => r.was_unknown !== 1)).toEqual([]);
      expect(dupes.length).toBeLessThanOrEqual(kills * WINDOW);
      // Rows claimed but not on the wire were given their attempt back: a kill never spends attempts wholesale.
      const unknown = rows.filter((r) => r.was_unknown === 1).length;
      expect(unknown).toBeLessThanOrEqual(kills * WINDOW);
      const known = new Set(rows.map((r) => r.message_id));
      expect(ids.filter((id) => !known.has(id))).toEqual([]);
      console.log(`crash (cli): ${kills} kills, ${unknown} on the wire at a kill, ${dupes.length} duplicates, ${ids.length} messages for ${SUBSCRIBERS}`);
    } finally {
      for (const r of running) {
        try {
          process.kill(-r.child.pid!, 'SIGKILL');
        } catch {}
      }
      await sink.close();
    }
  }, 180_000);
});
