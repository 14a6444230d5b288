// The whole loop with real Postfix: paperboy -> Postfix (own instance, loopback) -> smtp-sink refusing one address with
// 550 5.1.1; Postfix's own DSN comes back to the VERP address through paperboy's inbound listener, and that subscriber
// is suppressed before the next edition.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { insertSubscribers } from '../helpers/delivery-fixtures.js';
import { freePort } from '../helpers/free-port.js';
import { startPostfixRelay, type PostfixRelay } from '../helpers/postfix-relay.js';
import { startTestService, type RunningService } from '../helpers/running-service.js';
import { tempDir } from '../helpers/tmp.js';

const GONE = 'gone@example.test';
const READER = 'reader@example.test';

describe('a hard bounce through real Postfix', () => {
  const dir = tempDir();
  const clock = new FakeClock(new Date('2026-11-23T10:00:00Z'));
  let relay: PostfixRelay;
  let run: RunningService;

  beforeAll(async () => {
    const inboundPort = await freePort();
    relay = await startPostfixRelay({ rejectAddress: GONE, bounceDomain: 'bounce.paperboy.test', bounceTo: { host: '127.0.0.1', port: inboundPort } });
    run = await startTestService(
      dir,
      {
        SMTP_URL: `smtp://127.0.0.1:${relay.port}`,
        MAIL_FROM: 'paperboy <digest@paperboy.test>',
        MAIL_DOMAIN: 'paperboy.test',
        BOUNCE_DOMAIN: 'bounce.paperboy.test',
        INBOUND_SMTP_ENABLED: 'true',
        INBOUND_SMTP_PORT: String(inboundPort),
      },
      { clock },
    );
    insertSubscribers(run.app.store, 2, (i) => ({ email: i === 1 ? GONE : READER }));
  }, 60_000);
  afterAll(async () => {
    await run?.stop();
    await relay?.stop();
  });

  const statusOf = (email: string) => (run.app.store.db.prepare('SELECT status FROM subscribers WHERE email = ?').get(email) as { status: string }).status;

  it('Postfix takes both digests; its DSN for the refused one suppresses that subscriber through the VERP address', async () => {
    const summary = await run.service.delivery.service.run({ trigger: 'cli', mode: 'force' });
    // Postfix accepted both at once: the refusal happens later, downstream, and comes back by mail.
    expect(summary.drained.sent).toBe(2);
    await relay.sink.waitFor(1, 20_000);
    const deadline = Date.now() + 30_000;
    while (statusOf(GONE) !== 'bounced' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(statusOf(GONE), relay.log()).toBe('bounced');
    expect(statusOf(READER)).toBe('active');
    const bounce = run.app.store.db.prepare('SELECT severity, status, action, source, delivery_id, diagnostic FROM bounces').all() as {
      severity: string;
      status: string;
      action: string;
      source: string;
      delivery_id: number;
      diagnostic: string;
    }[];
    const gone = run.app.store.db.prepare('SELECT d.id FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE s.email = ?').get(GONE) as {
      id: number;
    };
    expect(bounce).toHaveLength(1);
    expect(bounce[0]).toMatchObject({ severity: 'hard', status: '5.1.1', action: 'failed', source: 'dsn', delivery_id: gone.id });
    expect(bounce[0]!.diagnostic).toContain('User unknown');
  }, 60_000);

  it('the next edition goes only to the reader', async () => {
    clock.advance(86_400_000);
    const summary = await run.service.delivery.service.run({ trigger: 'cli', mode: 'force' });
    expect(summary.drained.sent).toBe(1);
    await relay.sink.waitFor(2, 20_000);
    expect(relay.sink.messages().map((m) => m.to)).toEqual([[READER], [READER]]);
  }, 60_000);
});
