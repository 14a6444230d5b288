// What a restart does with deliveries a dead sender left `sending` (RESEND_UNKNOWN), partial rejects, and the sender lease.
import { describe, it, expect, afterEach } from 'vitest';
import { spawn } from 'node:child_process';
import { FakeClock } from '../src/clock.js';
import { silentLogger } from '../src/log.js';
import type { Messenger, RawMessage } from '../src/mail/messenger.js';
import { createDeliveryService } from '../src/delivery/send-runs.js';
import { acquireLease } from '../src/delivery/lease.js';
import { startSmtpReceiver, type SmtpReceiver } from './helpers/smtp-receiver.js';
import { createSmtpTestMessenger } from './helpers/smtp-messenger.js';
import { tempDir, testConfig, insertPapers, insertSubscribers, openTestStore, testDigest } from './helpers/delivery-fixtures.js';

let sink: SmtpReceiver | undefined;
let tmp: ReturnType<typeof tempDir> | undefined;
afterEach(async () => {
  await sink?.close();
  tmp?.cleanup();
});

async function leftSending(resend: 'true' | 'false') {
  tmp = tempDir();
  sink = await startSmtpReceiver();
  const config = testConfig(tmp.dir, { RESEND_UNKNOWN: resend });
  const store = openTestStore(config);
  insertPapers(store, 5);
  insertSubscribers(store, 4);
  const clock = new FakeClock(new Date('2026-11-23T10:00:00.000Z'));
  const messenger = createSmtpTestMessenger(sink.port);
  const service = createDeliveryService({ config, store, clock, log: silentLogger, messenger, digest: testDigest(store, config, clock) });
  // Plan only (a send to nowhere is not needed): put rows in the ledger, then fake a sender that died mid-send.
  store.db.prepare("INSERT INTO leases (name, holder, expires_at) VALUES ('sender', 'otherhost:1:dead', '2026-11-23T10:00:30.000Z')").run();
  const planned = service.start({ trigger: 'cli', mode: 'due' });
  // The run waits for the lease; once rows exist, mark three of them as caught mid-send by the dead holder: two
  // with their body on the wire (the wire journal's on_wire_at), one claimed but not yet handed to the socket.
  while ((store.db.prepare('SELECT COUNT(*) FROM deliveries').pluck().get() as number) < 4) await new Promise((r) => setTimeout(r, 5));
  store.db
    .prepare(
      "UPDATE deliveries SET status = 'sending', attempts = 1, message_id = '<d' || id || '.e' || edition_id || '@paperboy.example>' WHERE subscriber_id IN (1, 2, 3)",
    )
    .run();
  store.db.prepare("UPDATE deliveries SET on_wire_at = '2026-11-23T09:59:59.000Z' WHERE subscriber_id IN (1, 2)").run();
  // The dead holder's lease runs out.
  clock.advance(31_000);
  const summary = await planned.done;
  await messenger.close();
  return { store, summary };
}

describe('restart after a crash', () => {
  it('a row claimed but never on the wire is queued again with its attempt given back, never unknown', async () => {
    const { store } = await leftSending('false');
    const row = store.db.prepare('SELECT status, attempts, was_unknown FROM deliveries WHERE subscriber_id = 3').get();
    // Given back to 0 at recovery, then spent once by the send that delivered it.
    expect(row).toEqual({ status: 'sent', attempts: 1, was_unknown: 0 });
    expect(sink!.received.filter((r) => r.to[0] === 'reader3@example.test')).toHaveLength(1);
    store.close();
  });

  it('RESEND_UNKNOWN=false: rows left on the wire become unknown, are not resent, and their papers count as sent', async () => {
    const { store, summary } = await leftSending('false');
    expect(summary.counts).toMatchObject({ sent: 2, unknown: 2 });
    expect(sink!.received.map((r) => r.to[0]).sort()).toEqual(['reader3@example.test', 'reader4@example.test']);
    expect(store.db.prepare('SELECT COUNT(*) FROM sent_papers WHERE subscriber_id IN (1, 2)').pluck().get()).toBe(6);
    expect(store.db.prepare("SELECT COUNT(*) FROM deliveries WHERE was_unknown = 1 AND status = 'unknown'").pluck().get()).toBe(2);
    store.close();
  });

  it('RESEND_UNKNOWN=true: they are sent again with the same Message-ID', async () => {
    const { store, summary } = await leftSending('true');
    expect(summary.counts).toMatchObject({ sent: 4, unknown: 0 });
    expect(sink!.received).toHaveLength(4);
    const row = store.db.prepare('SELECT message_id, was_unknown FROM deliveries WHERE subscriber_id = 1').get() as { message_id: string; was_unknown: number };
    expect(row.was_unknown).toBe(1);
    expect(sink!.received.find((r) => r.to[0] === 'reader1@example.test')!.messageId).toBe(row.message_id);
    store.close();
  });
});

describe('partial rejects', () => {
  it('a reply that accepts the message but lists the recipient as rejected is a failure, not a delivery', async () => {
    tmp = tempDir();
    const config = testConfig(tmp.dir);
    const store = openTestStore(config);
    insertPapers(store, 3);
    insertSubscribers(store, 2);
    const messenger: Messenger = {
      name: 'partial',
      send: async () => {
        throw new Error('unused');
      },
      sendRaw: async (m: RawMessage) =>
        m.envelope.to[0] === 'reader1@example.test'
          ? { accepted: [], rejected: m.envelope.to, response: '250 2.0.0 Ok (but RCPT was refused)', messageId: m.messageId }
          : { accepted: m.envelope.to, rejected: [], response: '250 2.0.0 Ok', messageId: m.messageId },
      close: async () => {},
    };
    const recoveryClock = new FakeClock(new Date('2026-11-23T10:00:00Z'));
    const service = createDeliveryService({
      config,
      store,
      clock: recoveryClock,
      log: silentLogger,
      messenger,
      digest: testDigest(store, config, recoveryClock),
    });
    const summary = await service.run({ trigger: 'cli', mode: 'due' });
    expect(summary.counts).toMatchObject({ sent: 1, failed: 1 });
    expect(store.db.prepare('SELECT smtp_response FROM deliveries WHERE subscriber_id = 1').pluck().get()).toMatch(/recipient rejected/);
    expect(store.db.prepare('SELECT COUNT(*) FROM sent_papers WHERE subscriber_id = 1').pluck().get()).toBe(0);
    store.close();
  });
});

describe('the sender lease', () => {
  it('is held by one holder at a time, renewed by it, taken over when expired or when its process is gone', async () => {
    tmp = tempDir();
    const config = testConfig(tmp.dir);
    const store = openTestStore(config);
    const clock = new FakeClock(new Date('2026-11-23T10:00:00Z'));
    expect(acquireLease(store, clock, 'sender', 'h:1:a', 10_000)).toEqual({ held: true, fresh: true });
    expect(acquireLease(store, clock, 'sender', 'otherhost:2:b', 10_000).held).toBe(false);
    clock.advance(5_000);
    expect(acquireLease(store, clock, 'sender', 'h:1:a', 10_000)).toEqual({ held: true, fresh: false });
    clock.advance(9_000);
    expect(acquireLease(store, clock, 'sender', 'otherhost:2:b', 10_000).held).toBe(false);
    clock.advance(2_000);
    expect(acquireLease(store, clock, 'sender', 'otherhost:2:b', 10_000)).toEqual({ held: true, fresh: true });
    // A holder on this host whose process has exited is taken over at once.
    const child = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => child.on('exit', r));
    const { hostname } = await import('node:os');
    store.db.prepare("UPDATE leases SET holder = ?, expires_at = '2099-01-01T00:00:00Z'").run(`${hostname()}:${child.pid}:x`);
    expect(acquireLease(store, clock, 'sender', 'otherhost:3:c', 10_000)).toEqual({ held: true, fresh: true });
    // ...but not while that process lives.
    store.db.prepare("UPDATE leases SET holder = ?, expires_at = '2099-01-01T00:00:00Z'").run(`${hostname()}:${process.ppid}:x`);
    expect(acquireLease(store, clock, 'sender', 'otherhost:3:c', 10_000).held).toBe(false);
    store.close();
  });
});
