// Kill a sending process with SIGKILL at random points, restart it: nobody is skipped, only `unknown` rows may arrive twice.
import { describe, it, expect } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSmtpReceiver } from './helpers/smtp-receiver.js';
import { spawnSender } from './helpers/delivery-spawn-sender.js';
import { tempDir, testConfig, insertPapers, insertSubscribers, openTestStore } from './helpers/delivery-fixtures.js';

// A seeded generator, so a failing run can be replayed.
function rng(seed: number) {
  return () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
}

/** Message-IDs of complete messages (a kill mid-DATA leaves a truncated one the server never acknowledged). */
function completeIds(received: { raw: Buffer; messageId: string | null }[]): string[] {
  return received.filter((r) => r.raw.toString('latin1').trimEnd().endsWith('--')).map((r) => r.messageId!);
}

describe('crash safety', () => {
  it('survives SIGKILL at random points: zero missing, duplicates only among unknown rows', async () => {
    const tmp = tempDir();
    const sink = await startSmtpReceiver();
    const config = testConfig(tmp.dir);
    const store = openTestStore(config);
    insertPapers(store, 20);
    insertSubscribers(store, 1000, { digest_size: 3 });
    store.close();
    const random = rng(Number(process.env.CRASH_SEED ?? 20261123));
    /** Ledger rows not yet sent (none before the first run has planned). */
    const unsent = () => {
      const s = openTestStore(config);
      try {
        const { total, left } = s.db.prepare("SELECT COUNT(*) AS total, COUNT(*) FILTER (WHERE status != 'sent') AS left FROM deliveries").get() as {
          total: number;
          left: number;
        };
        return total === 0 ? Infinity : left;
      } finally {
        s.close();
      }
    };
    let kills = 0;
    try {
      for (let round = 0; kills < 12 && round < 30; round++) {
        const before = sink.received.length;
        const run = spawnSender(tmp.dir, sink.port);
        // Half the kills land at a random moment (start-up, planning or sending), half after a random number of messages.
        const byTime = round % 2 === 0;
        const deadline = Date.now() + (byTime ? 200 + random() * 1200 : 30_000);
        const target = before + 5 + Math.floor(random() * 60);
        let exited = false;
        void run.exit.then(() => (exited = true));
        // A timed kill also comes by 80 messages in: a fast machine would otherwise send everything in a few rounds.
        const cap = byTime ? before + 80 : target;
        while (!exited && Date.now() < deadline && sink.received.length < cap) await sleep(2);
        if (exited) {
          expect(await run.exit, run.out()).toBe(0);
          // A clean exit can also mean the killed run's sender lease had not expired yet: the rows it held wait for
          // it (see leaseMs), and this run, with nobody new to plan, had nothing of its own to send.
          if (unsent() === 0) break; // everything was sent before this kill came
          continue;
        }
        run.child.kill('SIGKILL');
        await run.exit;
        kills++;
      }
      // Restart until a run has sent everything (the first may find the last killed run's lease still held).
      for (let attempt = 0; attempt < 10 && unsent() > 0; attempt++) {
        const last = spawnSender(tmp.dir, sink.port);
        expect(await last.exit, last.out()).toBe(0);
        if (unsent() > 0) await sleep(1000);
      }
      expect(kills).toBeGreaterThanOrEqual(10);

      const check = openTestStore(config);
      const rows = check.db.prepare('SELECT id, status, message_id, was_unknown FROM deliveries').all() as {
        id: number;
        status: string;
        message_id: string;
        was_unknown: number;
      }[];
      check.close();
      expect(rows).toHaveLength(1000);
      expect(rows.filter((r) => r.status !== 'sent')).toEqual([]);
      const ids = completeIds(sink.received);
      const count = new Map<string, number>();
      for (const id of ids) count.set(id, (count.get(id) ?? 0) + 1);
      const missing = rows.filter((r) => !count.has(r.message_id));
      expect(missing).toEqual([]);
      const dupes = rows.filter((r) => (count.get(r.message_id) ?? 0) > 1);
      expect(dupes.filter((r) => r.was_unknown !== 1)).toEqual([]);
      // Nothing arrived that the ledger does not know.
      const known = new Set(rows.map((r) => r.message_id));
      expect(ids.filter((id) => !known.has(id))).toEqual([]);
      const unknown = rows.filter((r) => r.was_unknown === 1).length;
      expect(unknown).toBeGreaterThan(0); // the kills did land mid-send
      console.log(`crash test: ${kills} kills, ${unknown} unknown, ${dupes.length} duplicates, ${ids.length} messages`);
      // Duplicates are bounded by what can be in flight (pool 3 x 4) at each kill.
      expect(dupes.length).toBeLessThanOrEqual(kills * 12);
    } finally {
      await sink.close();
      tmp.cleanup();
    }
  }, 120_000);
});
