// Message-IDs on the wire (issue 13 defect 5): unique across installs, the same for one delivery across retries.
import { describe, it, expect, afterEach } from 'vitest';
import { FakeClock } from '../src/clock.js';
import { silentLogger } from '../src/log.js';
import type { Store } from '../src/db/open.js';
import { createDeliveryService } from '../src/delivery/send-runs.js';
import { createSmtpTestMessenger } from './helpers/smtp-messenger.js';
import { replies, startSmtpReceiver } from './helpers/smtp-receiver.js';
import { tempDir, testConfig, insertPapers, insertSubscribers, openTestStore, testDigest } from './helpers/delivery-fixtures.js';

const messageIdOf = (raw: Buffer) => /^Message-ID:\s*(<[^>\r\n]+>)/im.exec(raw.toString('latin1'))?.[1] ?? null;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A fresh install: its own DATA_DIR, no SECRET_KEY set (so one is generated there), one subscriber, one paper. */
async function install(port: number) {
  const tmp = tempDir();
  cleanups.push(() => tmp.cleanup());
  const config = testConfig(tmp.dir, { SECRET_KEY: '' });
  const store: Store = openTestStore(config);
  cleanups.push(() => store.close());
  const clock = new FakeClock(new Date('2026-11-23T10:00:00.000Z'));
  const messenger = createSmtpTestMessenger(port);
  cleanups.push(() => messenger.close());
  const svc = createDeliveryService({ config, store, clock, log: silentLogger, messenger, digest: testDigest(store, config, clock) }, { pollMs: 10 });
  insertPapers(store, 3);
  insertSubscribers(store, 1);
  return { svc, store, clock };
}

describe('Message-ID', () => {
  it('differs between two fresh installs sending their delivery 1 of edition 1', async () => {
    const smtp = await startSmtpReceiver();
    cleanups.push(() => smtp.close());
    const a = await install(smtp.port);
    const b = await install(smtp.port);
    await a.svc.run({ trigger: 'cli', mode: 'due' });
    await b.svc.run({ trigger: 'cli', mode: 'due' });
    // Both installs numbered their first delivery and edition 1: only the ids on the wire may tell them apart.
    for (const s of [a, b]) {
      expect(s.store.db.prepare('SELECT id, edition_id FROM deliveries').all()).toEqual([{ id: 1, edition_id: 1 }]);
    }
    expect(smtp.arrived).toHaveLength(2);
    const [ida, idb] = smtp.arrived.map((x) => messageIdOf(x.raw));
    expect(ida).toMatch(/^<[^<>\s]+@paperboy\.example>$/);
    expect(idb).toMatch(/^<[^<>\s]+@paperboy\.example>$/);
    expect(ida).not.toBe(idb);
  });

  it('stays the same when one delivery is retried after a 4xx', async () => {
    // The server keeps the text of every DATA, including the one it answers 451.
    const smtp = await startSmtpReceiver();
    smtp.data = (_m, n) => (n === 1 ? replies.tryLater : 'accept');
    cleanups.push(() => smtp.close());
    const a = await install(smtp.port);
    await a.svc.run({ trigger: 'cli', mode: 'due' });
    const row = () =>
      a.store.db.prepare('SELECT status, attempts, next_attempt_at FROM deliveries').get() as { status: string; attempts: number; next_attempt_at: string };
    expect(row()).toMatchObject({ status: 'queued', attempts: 1 });
    a.clock.set(new Date(row().next_attempt_at));
    await a.svc.drain();
    expect(row().status).toBe('sent');
    expect(smtp.arrived.map((x) => x.answer === 'accept')).toEqual([false, true]);
    const ids = smtp.arrived.map((x) => messageIdOf(x.raw));
    expect(ids[0]).toMatch(/^<[^<>\s]+@paperboy\.example>$/);
    expect(ids[1]).toBe(ids[0]);
  });
});
