// The confirmation queue across crashes, give-ups and changes of heart, with a real SMTP server behind it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../src/clock.js';
import { startHarness, type Harness } from './helpers/web-harness.js';
import { createConfirmationWorker } from '../src/subscriptions/confirmation-worker.js';
import { createPipeliningMessenger } from '../src/mail/pipelining-messenger.js';
import { silentLogger } from '../src/log.js';
import { freePort } from './helpers/free-port.js';

const clock = new FakeClock(new Date('2026-05-04T07:00:00Z'));
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ SEND_MAX_ATTEMPTS: '2', SEND_RETRY_BASE_SECONDS: '30' }, { clock, startWorker: false });
});
afterAll(async () => {
  await h.close();
});

const sentTo = (email: string) => h.sink.received.filter((m) => m.to.includes(email)).length;

describe('confirmation worker', () => {
  it('sends what a crash left mid-send when it starts again', async () => {
    const r = h.service.subscribe('crash@example.org', 'web');
    expect(r.ok && r.confirmationQueued).toBe(true);
    const id = r.ok ? r.subscriberId : 0;
    // What a kill between claim and outcome leaves behind.
    h.store.db.prepare("UPDATE confirmation_queue SET status = 'sending', attempts = 1 WHERE subscriber_id = ?").run(id);
    expect(await h.worker.runOnce()).toBe(0);
    h.worker.start();
    await h.sink.waitFor(1, 'crash@example.org');
    await h.worker.stop();
    expect(h.service.repo.confirmationsFor(id)[0]).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('gives up after SEND_MAX_ATTEMPTS temporary failures, backing off in between', async () => {
    // 421 means the server is closing the connection: paperboy's SMTP client tries once more on a fresh one within
    // the same attempt (nothing was sent), so each of the two attempts meets two refusals.
    h.sink.rejectNext(4, 421, '4.7.0 Busy');
    const r = h.service.subscribe('busy@example.org', 'web');
    const id = r.ok ? r.subscriberId : 0;
    await h.worker.runOnce();
    expect(h.service.repo.confirmationsFor(id)[0]).toMatchObject({ status: 'queued', attempts: 1 });
    clock.advance(29_000);
    expect(await h.worker.runOnce()).toBe(0);
    clock.advance(1_000);
    await h.worker.runOnce();
    const [job] = h.service.repo.confirmationsFor(id);
    expect(job).toMatchObject({ status: 'failed', attempts: 2 });
    expect(job!.last_error).toContain('421');
    expect(sentTo('busy@example.org')).toBe(0);
    // A failed confirmation leaves the address pending and no usable token behind.
    expect(h.service.repo.byId(id)!.status).toBe('pending');
    expect(h.store.db.prepare('SELECT COUNT(*) AS n FROM confirm_tokens WHERE subscriber_id = ?').get(id)).toEqual({ n: 0 });
  });

  it('an unreachable mail server spends no attempt: the confirmation waits, with growing pauses, and goes out later', async () => {
    const r = h.service.subscribe('outage@example.org', 'web');
    const id = r.ok ? r.subscriberId : 0;
    // The same queue, sent through a mail server that refuses connections (nothing listens on the port).
    const down = createPipeliningMessenger({ url: `smtp://127.0.0.1:${await freePort()}?starttls=never`, poolSize: 1, timeoutMs: 2000 });
    const worker = createConfirmationWorker({ repo: h.service.repo, messenger: down, renderer: h.renderer, clock, log: silentLogger, config: h.config });
    try {
      // Far more tries than SEND_MAX_ATTEMPTS (2): none is counted, none fails the job.
      for (let i = 0; i < 6; i++) {
        await worker.runOnce();
        const [job] = h.service.repo.confirmationsFor(id);
        expect(job).toMatchObject({ status: 'queued', attempts: 0 });
        // The wait before the next try doubles (SEND_PROBE_INITIAL_MS 1 s by default, up to SEND_PROBE_MAX_MS).
        expect(Date.parse(job!.next_attempt_at) - clock.now().getTime()).toBe(Math.min(1000 * 2 ** i, 60_000));
        clock.advance(Date.parse(job!.next_attempt_at) - clock.now().getTime());
      }
    } finally {
      await down.close();
    }
    // The server is back: the harness's worker sends it.
    await h.worker.runOnce();
    expect(h.service.repo.confirmationsFor(id)[0]).toMatchObject({ status: 'sent', attempts: 1 });
    expect(sentTo('outage@example.org')).toBe(1);
  });

  it('drops a queued confirmation for someone who unsubscribed before it went out', async () => {
    const r = h.service.subscribe('changed-mind@example.org', 'web');
    const id = r.ok ? r.subscriberId : 0;
    h.service.repo.unsubscribe(id, clock.now().toISOString());
    await h.worker.runOnce();
    expect(h.service.repo.confirmationsFor(id)[0]).toMatchObject({ status: 'failed', last_error: 'subscriber is unsubscribed' });
    expect(sentTo('changed-mind@example.org')).toBe(0);
  });

  it('purges long-finished jobs and long-expired tokens', async () => {
    const before = (h.store.db.prepare('SELECT COUNT(*) AS n FROM confirmation_queue').get() as { n: number }).n;
    expect(before).toBeGreaterThan(0);
    clock.advance(40 * 24 * 3600_000);
    h.service.subscribe('later@example.org', 'web');
    await h.worker.runOnce();
    const left = h.store.db.prepare('SELECT s.email, q.status FROM confirmation_queue q JOIN subscribers s ON s.id = q.subscriber_id').all();
    expect(left).toEqual([{ email: 'later@example.org', status: 'sent' }]);
    expect((h.store.db.prepare('SELECT COUNT(*) AS n FROM confirm_tokens').get() as { n: number }).n).toBe(1);
  });
});
