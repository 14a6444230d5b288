// Issue 17: the dashboard's figures over time, from each subscriber's dated events (src/admin/dashboard.ts).
import { describe, expect, it } from 'vitest';
import { configWarnings, lastDays, stackedBars, subscribersOverTime } from '../src/admin/dashboard.js';

const days = lastDays(new Date('2026-12-05T12:00:00Z'), 5); // 12-01 .. 12-05

const row = (status: string, created: string, confirmed: string | null, unsub: string | null = null, bounced: string | null = null) => ({
  status,
  created_at: `${created}T09:00:00.000Z`,
  confirmed_at: confirmed && `${confirmed}T10:00:00.000Z`,
  unsubscribed_at: unsub && `${unsub}T10:00:00.000Z`,
  bounced_at: bounced && `${bounced}T10:00:00.000Z`,
});

describe('subscribers by status per day', () => {
  it('counts each subscriber under the status of its latest event up to that day', () => {
    const series = subscribersOverTime(
      [
        row('active', '2026-12-01', '2026-12-02'), // pending on the 1st, active from the 2nd
        row('unsubscribed', '2026-12-01', '2026-12-01', '2026-12-04'),
        row('bounced', '2026-12-03', '2026-12-03', null, '2026-12-05'),
        row('pending', '2026-12-04', null),
        row('active', '2026-11-01', '2026-11-01', '2026-11-10'), // resubscribed: today's stored status from its last event on
      ],
      days,
    );
    const by = Object.fromEntries(series.map((s) => [s.name, s.values]));
    expect(days).toEqual(['2026-12-01', '2026-12-02', '2026-12-03', '2026-12-04', '2026-12-05']);
    expect(by.pending).toEqual([1, 0, 0, 1, 1]);
    expect(by.active).toEqual([2, 3, 4, 3, 2]);
    expect(by.unsubscribed).toEqual([0, 0, 0, 1, 1]);
    expect(by.bounced).toEqual([0, 0, 0, 0, 1]);
  });

  it('draws stacked bars with a title per figure and nothing for an empty day', () => {
    const chart = stackedBars(
      ['2026-12-01', '2026-12-02'],
      [
        { name: 'sent', fill: '#c2410c', values: [4, 0] },
        { name: 'failed', fill: '#b42318', values: [2, 0] },
      ],
    );
    expect(chart.bars.map((b) => b.title)).toEqual(['2026-12-01: 4 sent', '2026-12-01: 2 failed']);
    expect(chart.bars[0]!.y + chart.bars[0]!.h).toBe(chart.height);
    expect(chart.bars[1]!.y + chart.bars[1]!.h).toBe(chart.bars[0]!.y);
    expect(chart.max).toBe(6);
  });

  it('warns about settings that keep mail or papers from moving', () => {
    const w = configWarnings({ MAIL_TRANSPORT: 'smtp', SCHEDULER_ENABLED: false, FETCH_ENABLED: true, INBOUND_SMTP_ENABLED: false });
    expect(w.map((x) => x.setting)).toEqual(['SCHEDULER_ENABLED', 'INBOUND_SMTP_ENABLED']);
    expect(configWarnings({ MAIL_TRANSPORT: 'smtp', SCHEDULER_ENABLED: true, FETCH_ENABLED: true, INBOUND_SMTP_ENABLED: true })).toEqual([]);
  });
});
