// The scheduler's "is due" over DST changes with a fake clock: one digest per local date, one catch-up after an outage.
import { describe, it, expect, afterEach } from 'vitest';
import { FakeClock } from '../src/clock.js';
import { silentLogger } from '../src/log.js';
import { dueSlot, latestSlot, zonedInstant, localDateOf, localParts, isoWeekKey } from '../src/delivery/schedule.js';
import { createDeliveryService } from '../src/delivery/send-runs.js';
import { startScheduler } from '../src/delivery/scheduler.js';
import { startSmtpReceiver, type SmtpReceiver } from './helpers/smtp-receiver.js';
import { createSmtpTestMessenger } from './helpers/smtp-messenger.js';
import { tempDir, testConfig, insertPapers, insertSubscribers, openTestStore, testDigest } from './helpers/delivery-fixtures.js';

const ZONES = ['America/New_York', 'Europe/London', 'Asia/Kolkata'] as const;
// Windows around 2026's changes: New York springs forward Mar 8 and falls back Nov 1; London Mar 29 and Oct 25.
const WINDOWS = [
  ['2026-03-06T00:00:00Z', '2026-03-11T00:00:00Z'],
  ['2026-03-27T00:00:00Z', '2026-04-01T00:00:00Z'],
  ['2026-10-23T00:00:00Z', '2026-10-28T00:00:00Z'],
  ['2026-10-30T00:00:00Z', '2026-11-04T00:00:00Z'],
] as const;
const STEP = 15 * 60_000;

function prefs(time_zone: string, delivery_hour: number, frequency: 'daily' | 'weekly' = 'daily', weekday = 0) {
  return { frequency, weekday, delivery_hour, time_zone, created_at: '2026-01-01T00:00:00Z', confirmed_at: '2026-01-01T00:00:00Z' };
}

/** Steps a fake "now" through [from, to) with the pure due check and a ledger of periods; returns the sends. */
function simulate(p: ReturnType<typeof prefs>, from: string, to: string, down?: [number, number]) {
  const sends: { at: number; period: string; localDate: string }[] = [];
  let latest: string | null = null;
  for (let t = Date.parse(from); t < Date.parse(to); t += STEP) {
    if (down && t >= down[0] && t < down[1]) continue;
    const slot = dueSlot(p, new Date(t), latest);
    if (slot) {
      sends.push({ at: t, period: slot.period, localDate: slot.localDate });
      latest = slot.period;
    }
  }
  return sends;
}

describe('zonedInstant', () => {
  it('maps wall-clock hours to instants across gaps and overlaps', () => {
    expect(zonedInstant('2026-03-08', 2, 'America/New_York').toISOString()).toBe('2026-03-08T07:00:00.000Z'); // 02:00 does not exist: 03:00 EDT
    expect(zonedInstant('2026-03-08', 3, 'America/New_York').toISOString()).toBe('2026-03-08T07:00:00.000Z');
    expect(zonedInstant('2026-11-01', 1, 'America/New_York').toISOString()).toBe('2026-11-01T05:00:00.000Z'); // first 01:00 (EDT)
    expect(zonedInstant('2026-11-01', 2, 'America/New_York').toISOString()).toBe('2026-11-01T07:00:00.000Z');
    expect(zonedInstant('2026-03-29', 1, 'Europe/London').toISOString()).toBe('2026-03-29T01:00:00.000Z'); // 01:00 GMT does not exist: 02:00 BST
    expect(zonedInstant('2026-10-25', 1, 'Europe/London').toISOString()).toBe('2026-10-25T00:00:00.000Z'); // first 01:00 (BST)
    expect(zonedInstant('2026-06-01', 8, 'Asia/Kolkata').toISOString()).toBe('2026-06-01T02:30:00.000Z');
    expect(localDateOf(new Date('2026-06-01T20:00:00Z'), 'Asia/Kolkata')).toBe('2026-06-02');
    expect(isoWeekKey('2026-01-01')).toBe('2026-W01');
    expect(isoWeekKey('2027-01-03')).toBe('2026-W53');
    expect(isoWeekKey('2026-11-23')).toBe('2026-W48');
  });
});

describe('dueSlot over DST changes', () => {
  it('gives exactly one digest per local date, at the delivery hour, in three zones', () => {
    for (const zone of ZONES) {
      for (const [from, to] of WINDOWS) {
        // The hours DST moves (00-03) and a few ordinary ones.
        for (const hour of [0, 1, 2, 3, 7, 12, 23]) {
          const sends = simulate(prefs(zone, hour), from, to);
          const dates = sends.map((s) => s.localDate);
          expect(new Set(dates).size, `${zone} ${hour}h ${from}`).toBe(dates.length);
          // Every full local date inside the window got its digest.
          const first = localDateOf(new Date(Date.parse(from) + 86_400_000), zone);
          const last = localDateOf(new Date(Date.parse(to) - 86_400_000), zone);
          for (let d = first; d < last; d = localDateOf(new Date(Date.parse(d + 'T12:00:00Z') + 86_400_000), 'UTC')) {
            expect(dates, `${zone} ${hour}h ${d}`).toContain(d);
          }
          for (const s of sends.slice(1)) {
            // Sent at the first tick at or after the hour (or the first instant after a spring-forward gap).
            const due = zonedInstant(s.localDate, hour, zone).getTime();
            expect(s.at - due, `${zone} ${hour}h ${s.localDate}`).toBeGreaterThanOrEqual(0);
            expect(s.at - due).toBeLessThan(STEP);
            expect(s.period).toBe(s.localDate);
            const local = localParts(new Date(s.at), zone);
            expect(local.hour === hour || (local.hour === hour + 1 && due !== Date.parse(`${s.localDate}T00:00:00Z`))).toBe(true);
          }
        }
      }
    }
  });

  it("weekly: one per ISO week on the subscriber's weekday", () => {
    for (const zone of ZONES) {
      const sends = simulate(prefs(zone, 9, 'weekly', 3), '2026-10-01T00:00:00Z', '2026-11-30T00:00:00Z');
      const weeks = sends.map((s) => s.period);
      expect(new Set(weeks).size).toBe(weeks.length);
      expect(weeks.length).toBeGreaterThanOrEqual(8);
      for (const s of sends.slice(1)) expect(localParts(new Date(s.at), zone).weekday).toBe(3);
    }
  });

  it('catches up once after a 6-hour outage over the delivery hour, never twice', () => {
    for (const zone of ZONES) {
      // Down from 05:00 to 11:00 local on Nov 1 (New York's fall-back day); delivery hour 8.
      const downFrom = zonedInstant('2026-11-01', 5, zone).getTime();
      const sends = simulate(prefs(zone, 8), '2026-10-30T00:00:00Z', '2026-11-04T00:00:00Z', [downFrom, downFrom + 6 * 3_600_000]);
      const onDay = sends.filter((s) => s.localDate === '2026-11-01');
      expect(onDay).toHaveLength(1);
      expect(onDay[0]!.at).toBe(downFrom + 6 * 3_600_000); // the first tick back
      expect(new Set(sends.map((s) => s.localDate)).size).toBe(sends.length);
      // Down over midnight with a late hour: yesterday's digest goes out once on return, today's still at its hour.
      const lateFrom = zonedInstant('2026-11-01', 22, zone).getTime();
      const late = simulate(prefs(zone, 23), '2026-10-30T00:00:00Z', '2026-11-04T00:00:00Z', [lateFrom, lateFrom + 6 * 3_600_000]);
      expect(late.filter((s) => s.localDate === '2026-11-01')).toHaveLength(1);
      expect(late.filter((s) => s.localDate === '2026-11-02')).toHaveLength(1);
      expect(new Set(late.map((s) => s.localDate)).size).toBe(late.length);
    }
  });

  it('never reaches back before the subscriber confirmed, and skips paused subscribers', () => {
    const p = { ...prefs('Europe/London', 8), confirmed_at: '2026-11-23T09:00:00Z' };
    expect(latestSlot(p, new Date('2026-11-23T10:00:00Z'))).toBeNull();
    expect(latestSlot(p, new Date('2026-11-24T08:00:00Z'))?.period).toBe('2026-11-24');
    expect(latestSlot({ ...p, frequency: 'paused' }, new Date('2026-11-24T08:00:00Z'))).toBeNull();
  });
});

describe('the scheduler with the ledger', () => {
  let sink: SmtpReceiver | undefined;
  let tmp: ReturnType<typeof tempDir> | undefined;
  afterEach(async () => {
    await sink?.close();
    tmp?.cleanup();
  });

  it('over a DST weekend with a 6-hour outage: one delivery and one message per subscriber per local date', async () => {
    tmp = tempDir();
    sink = await startSmtpReceiver();
    const config = testConfig(tmp.dir);
    const store = openTestStore(config);
    insertPapers(store, 60);
    const hours = [1, 2, 8, 23];
    const subs = ZONES.flatMap((zone) => hours.map((hour) => ({ zone, hour })));
    insertSubscribers(store, subs.length, (i) => ({
      time_zone: subs[i - 1]!.zone,
      delivery_hour: subs[i - 1]!.hour,
      digest_size: 1,
      confirmed_at: '2026-10-01T00:00:00Z',
    }));
    const clock = new FakeClock(new Date('2026-10-31T00:00:00Z'));
    const messenger = createSmtpTestMessenger(sink.port);
    const service = createDeliveryService({ config, store, clock, log: silentLogger, messenger, digest: testDigest(store, config, clock) }, { pollMs: 5 });
    const scheduler = startScheduler(service, silentLogger, { cron: false });
    const end = Date.parse('2026-11-03T00:00:00Z');
    const outage = [Date.parse('2026-11-01T10:00:00Z'), Date.parse('2026-11-01T16:00:00Z')];
    let ticks = 0;
    while (clock.now().getTime() < end) {
      const t = clock.now().getTime();
      if (t < outage[0]! || t >= outage[1]!) {
        await scheduler.tick();
        ticks++;
      }
      clock.advance(20 * 60_000);
    }
    await scheduler.stop();
    await messenger.close();
    expect(ticks).toBeGreaterThan(180);

    const rows = store.db.prepare('SELECT subscriber_id, period, status FROM deliveries ORDER BY subscriber_id, period').all() as {
      subscriber_id: number;
      period: string;
      status: string;
    }[];
    for (const [i, s] of subs.entries()) {
      const mine = rows.filter((r) => r.subscriber_id === i + 1);
      // The first tick catches up the latest slot before the start (once), then one per local date.
      const start = latestSlot(prefs(s.zone, s.hour), new Date('2026-10-31T00:00:00Z'))!.localDate;
      const expected: string[] = [];
      for (let d = start; d <= '2026-11-04'; d = localDateOf(new Date(Date.parse(d + 'T12:00:00Z') + 86_400_000), 'UTC')) {
        if (zonedInstant(d, s.hour, s.zone).getTime() < end) expected.push(d);
      }
      expect(
        mine.map((r) => r.period),
        `${s.zone} ${s.hour}h`,
      ).toEqual(expected);
      expect(mine.every((r) => r.status === 'sent')).toBe(true);
      const email = `reader${i + 1}@example.test`;
      expect(sink.received.filter((m) => m.to[0] === email)).toHaveLength(expected.length);
    }
    // New York 08:00 EST on Nov 1 is 13:00Z, inside the outage: sent once, at the first tick back (16:00Z).
    const ny8 = store.db
      .prepare(
        "SELECT d.sent_at FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE s.time_zone = 'America/New_York' AND s.delivery_hour = 8 AND d.period = '2026-11-01'",
      )
      .pluck()
      .all();
    expect(ny8).toEqual(['2026-11-01T16:00:00.000Z']);
    // Ticks with nobody due leave no run rows behind; the runs that sent are listed.
    const runs = service.recentRuns(1000);
    expect(runs.length).toBeGreaterThan(0);
    expect(runs.every((r) => r.planned + r.skipped > 0)).toBe(true);
    store.close();
  }, 60_000);

  it('weekly subscribers: one delivery per ISO week on their weekday; --force cannot add a second that week', async () => {
    tmp = tempDir();
    sink = await startSmtpReceiver();
    const config = testConfig(tmp.dir);
    const store = openTestStore(config);
    insertPapers(store, 60);
    // Wednesday 07:00 in New York, Friday 18:00 in Kolkata.
    insertSubscribers(store, 2, (i) => ({
      frequency: 'weekly',
      weekday: i === 1 ? 3 : 5,
      delivery_hour: i === 1 ? 7 : 18,
      time_zone: i === 1 ? 'America/New_York' : 'Asia/Kolkata',
      digest_size: 2,
      confirmed_at: '2026-10-01T00:00:00Z',
    }));
    const clock = new FakeClock(new Date('2026-11-16T00:00:00Z')); // a Monday
    const messenger = createSmtpTestMessenger(sink.port);
    const service = createDeliveryService({ config, store, clock, log: silentLogger, messenger, digest: testDigest(store, config, clock) }, { pollMs: 5 });
    const scheduler = startScheduler(service, silentLogger, { cron: false });
    while (clock.now().getTime() < Date.parse('2026-11-30T00:00:00Z')) {
      await scheduler.tick();
      if (clock.now().toISOString() === '2026-11-26T12:00:00.000Z') {
        // Wednesday's digest is out already; Friday's subscriber gets this week's now, and not again on Friday.
        const forced = await service.run({ trigger: 'cli', mode: 'force' });
        expect(forced.plan).toMatchObject({ queued: 1, already: 1 });
      }
      clock.advance(60 * 60_000);
    }
    await messenger.close();
    const rows = store.db.prepare('SELECT subscriber_id, period, sent_at FROM deliveries ORDER BY subscriber_id, period').all() as {
      subscriber_id: number;
      period: string;
      sent_at: string;
    }[];
    // The first tick (Monday) catches up the week before once; then one per week at the right local time.
    expect(rows.map((r) => `${r.subscriber_id} ${r.period} ${r.sent_at}`)).toEqual([
      '1 2026-W46 2026-11-16T00:00:00.000Z',
      '1 2026-W47 2026-11-18T12:00:00.000Z',
      '1 2026-W48 2026-11-25T12:00:00.000Z',
      '2 2026-W46 2026-11-16T00:00:00.000Z',
      '2 2026-W47 2026-11-20T13:00:00.000Z',
      '2 2026-W48 2026-11-26T12:00:00.000Z',
    ]);
    expect(sink.received).toHaveLength(6);
    store.close();
  });
});
