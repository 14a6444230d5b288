// Sixty days of a daily subscriber with the clock injected: each morning the scheduler's fetch reads the last days'
// listings from a local server that lists new papers every day (and more votes for the last days' ones), then the
// due send goes out. Never an empty digest while the source has new papers, never a paper twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../src/clock.js';
import { silentLogger } from '../src/log.js';
import type { AppConfig } from '../src/app.js';
import { ingestPaths } from '../src/corpus/ingest.js';
import { createFetcher, datesBetween } from '../src/corpus/fetcher.js';
import { startFetchScheduler } from '../src/corpus/fetch-scheduler.js';
import { createDeliveryService } from '../src/delivery/send-runs.js';
import { digestSourceFor } from '../src/app.js';
import type { Store } from '../src/db/open.js';
import { startSmtpReceiver, type SmtpReceiver } from './helpers/smtp-receiver.js';
import { createSmtpTestMessenger } from './helpers/smtp-messenger.js';
import { tempDir, testConfig, insertSubscribers, openTestStore } from './helpers/delivery-fixtures.js';
import { startPapersApi, dailyItem, type PapersApi } from './helpers/papers-api.js';

const DAYS = datesBetween('2026-01-05', '2026-03-05'); // 60 days
const PER_DAY = 12;
const SIZE = 10;

/** Day d's listing as the API has it on day `today`: its papers keep gaining votes for the days after. */
function listing(d: number, today: number): unknown[] {
  const date = DAYS[d]!;
  return Array.from({ length: PER_DAY }, (_, i) =>
    dailyItem(
      `26${String(d + 10).padStart(2, '0')}.${String(i + 1).padStart(5, '0')}`,
      `Day ${d + 1} paper ${i + 1}: ${['diffusion', 'agents', 'robotics', 'scaling'][i % 4]} at work`,
      {
        upvotes: (PER_DAY - i) * (1 + today - d),
        publishedAt: `${DAYS[Math.max(0, d - 1)]}T12:00:00.000Z`,
        submittedOnDailyAt: `${date}T00:00:00.000Z`,
      },
    ),
  );
}

describe('sixty days of a daily subscriber with a fetch each day', () => {
  const { dir, cleanup } = tempDir('paperboy-60-days-');
  const clock = new FakeClock(new Date(`${DAYS[0]}T06:00:00Z`));
  let api: PapersApi;
  let sink: SmtpReceiver;
  let store: Store;
  let config: AppConfig;

  beforeAll(async () => {
    api = await startPapersApi();
    sink = await startSmtpReceiver();
    config = testConfig(dir, { DAILY_PAPERS_URL: api.url, FETCH_DAYS: '3', FETCH_RETRIES: '0' }) as AppConfig;
    store = openTestStore(config);
    // The seeds too, as `npm start` has them: old papers the live ones should outrank.
    expect(ingestPaths(store, ['seeds'], clock).added).toBe(247);
  });
  afterAll(async () => {
    store.close();
    await sink.close();
    await api.close();
    cleanup();
  });

  it("sends a full digest every day, never a paper twice, each with that day's papers on top", async () => {
    const [subscriber] = insertSubscribers(store, 1, { digest_size: SIZE, delivery_hour: 8, kind: 'trending' });
    const fetching = startFetchScheduler(createFetcher({ store, clock, config }), silentLogger, { schedule: 'off', atStart: false });
    const messenger = createSmtpTestMessenger(sink.port);
    const delivery = createDeliveryService({ config, store, clock, log: silentLogger, messenger, digest: digestSourceFor({ store, clock, config }) });
    const seen = new Set<number>();
    const listedOn = store.db.prepare('SELECT first_listed_on FROM papers WHERE id = ?').pluck();
    try {
      for (let d = 0; d < DAYS.length; d++) {
        // What the API lists today: today's papers, and the last days' with more votes.
        api.days.clear();
        for (let back = 0; back < 3 && d - back >= 0; back++) api.days.set(DAYS[d - back]!, listing(d - back, d));
        clock.set(`${DAYS[d]}T07:30:00Z`);
        const report = await fetching.fetchNow('cron');
        expect(report!.sources[0]).toMatchObject({ status: 'ok', added: PER_DAY });

        clock.set(`${DAYS[d]}T08:05:00Z`);
        const run = await delivery.run({ trigger: 'cron', mode: 'due' });
        expect([DAYS[d], run.counts.sent, run.plan.skipped]).toEqual([DAYS[d], 1, 0]);
        const ids = JSON.parse(
          store.db.prepare('SELECT paper_ids FROM deliveries WHERE subscriber_id = ? AND period = ?').pluck().get(subscriber, DAYS[d]) as string,
        ) as number[];
        expect(ids).toHaveLength(SIZE);
        for (const id of ids) {
          expect(seen.has(id)).toBe(false);
          seen.add(id);
        }
        // Trending on the day: the fresh listing leads (the seeds are old, yesterday's papers were sent already).
        expect(listedOn.get(ids[0]!)).toBe(DAYS[d]);
      }
    } finally {
      await fetching.stop();
      await delivery.close();
      await messenger.close();
    }
    expect(seen.size).toBe(DAYS.length * SIZE);
    expect(sink.received).toHaveLength(DAYS.length);
    const sent = store.db.prepare('SELECT COUNT(*) FROM sent_papers WHERE subscriber_id = ?').pluck().get(subscriber);
    expect(sent).toBe(DAYS.length * SIZE);
  });
});
