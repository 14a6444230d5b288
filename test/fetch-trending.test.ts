// A digest previewed after fetches: each paper links to arXiv, shows its authors and its real dates (never the day
// paperboy stored it), and trending ranks by the upvotes gained lately, so a large total gathered long ago no longer
// keeps a paper on top.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openStore, type Store } from '../src/db/open.js';
import { FakeClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { createFetcher } from '../src/corpus/fetcher.js';
import { createSelector } from '../src/digest/select.js';
import { buildPreview } from '../src/render/preview-builder.js';
import { createRenderer, DEFAULT_TEMPLATES_DIR } from '../src/render/renderer.js';
import { upvoteGains } from '../src/digest/upvote-gains.js';
import { scorePaper } from '../src/digest/score.js';
import { tempDir } from './helpers/tmp.js';
import { startPapersApi, dailyItem, type PapersApi } from './helpers/papers-api.js';

const LISTED = '2026-03-02';
const config = loadConfig({ PUBLIC_URL: 'https://papers.example.org', DIGEST_SIZE_DEFAULT: '5', FETCH_RETRIES: '0' });

describe('trending after fetches', () => {
  const dir = tempDir();
  const clock = new FakeClock(new Date(`${LISTED}T08:00:00Z`));
  let api: PapersApi;
  let store: Store;

  const day = (votes: { stale: number; rising: number; lastWeek: number }) => [
    dailyItem('2603.00001', 'Stale Giant', {
      upvotes: votes.stale,
      publishedAt: '2026-03-01T00:00:00Z',
      submittedOnDailyAt: `${LISTED}T00:00:00Z`,
      authors: [{ name: 'Sofia Kovalevskaya' }],
    }),
    dailyItem('2603.00002', 'Rising Star', {
      upvotes: votes.rising,
      publishedAt: '2026-03-01T00:00:00Z',
      submittedOnDailyAt: `${LISTED}T00:00:00Z`,
      authors: ['Ada Lovelace', 'Alan Turing', 'Grace Hopper', 'Edsger Dijkstra'].map((name) => ({ name })),
      ai_summary: 'Rising fast.',
    }),
    dailyItem('2603.00003', 'Last Week Wonder', { upvotes: votes.lastWeek, publishedAt: '2026-03-01T00:00:00Z', submittedOnDailyAt: `${LISTED}T00:00:00Z` }),
  ];

  beforeAll(async () => {
    api = await startPapersApi();
    store = openStore(join(dir, 'p.db'));
    const fetcher = createFetcher({ store, clock, config: { ...config, DAILY_PAPERS_URL: api.url } });
    const fetchAt = async (iso: string, votes: Parameters<typeof day>[0]) => {
      clock.set(iso);
      api.days.set(LISTED, day(votes));
      const r = await fetcher.run({ trigger: 'cli', dates: [LISTED] });
      expect(r.sources[0]!.status).toBe('ok');
    };
    // The giant's 200 came on its listing day; the wonder's 40 two days later; the star's 35 in the last day.
    await fetchAt(`${LISTED}T08:00:00Z`, { stale: 200, rising: 5, lastWeek: 0 });
    await fetchAt('2026-03-04T08:00:00Z', { stale: 200, rising: 5, lastWeek: 40 });
    await fetchAt('2026-03-09T08:00:00Z', { stale: 200, rising: 5, lastWeek: 40 });
    await fetchAt('2026-03-10T08:00:00Z', { stale: 200, rising: 40, lastWeek: 40 });
    clock.set('2026-03-10T09:00:00Z');
  });
  afterAll(async () => {
    store.close();
    await api.close();
  });

  it('counts what each paper gained in the last day and week from the snapshots', () => {
    const gains = upvoteGains(store, clock.now());
    const byTitle = (t: string) => gains.get(store.db.prepare('SELECT id FROM papers WHERE title = ?').pluck().get(t) as number);
    expect(byTitle('Stale Giant')).toEqual({ day: 0, week: 0 });
    expect(byTitle('Last Week Wonder')).toEqual({ day: 0, week: 40 });
    expect(byTitle('Rising Star')).toEqual({ day: 35, week: 35 });
    // On the day of the first fetch, the first counts were gained that day (their listing day).
    const first = upvoteGains(store, new Date(`${LISTED}T09:00:00Z`));
    expect(first.get(store.db.prepare("SELECT id FROM papers WHERE title = 'Stale Giant'").pluck().get() as number)).toEqual({ day: 200, week: 200 });
  });

  it('ranks more upvotes gained today above a larger but stale total, and says so', async () => {
    const r = await buildPreview(
      {
        store,
        clock,
        config,
        renderer: createRenderer({ templatesDir: DEFAULT_TEMPLATES_DIR, config, validationLevel: 'strict' }),
        selector: createSelector({ store, clock }),
      },
      { kind: 'trending' },
    );
    if (r.status !== 'ready') throw new Error(r.status);
    expect(r.rows.map((x) => [x.title, x.upvotes, x.gained])).toEqual([
      ['Rising Star', 40, '+35 today, +35 week'],
      ['Last Week Wonder', 40, '+0 today, +40 week'],
      ['Stale Giant', 200, '+0 today, +0 week'],
    ]);
    expect(r.rows.map((x) => x.why)).toEqual([
      '+35 upvotes today (40 in all), on 1 list, published 9 days ago',
      '40 upvotes this week, on 1 list, published 9 days ago',
      'no upvotes this week (200 in all), on 1 list, published 9 days ago',
    ]);
    // Each paper links to arXiv (abs and PDF) and its daily-papers page, with names and the real dates.
    for (const id of ['2603.00001', '2603.00002', '2603.00003']) {
      expect(r.html).toContain(`href="https://arxiv.org/abs/${id}"`);
      expect(r.html).toContain(`href="https://arxiv.org/pdf/${id}"`);
      expect(r.html).toContain(`href="https://huggingface.co/papers/${id}"`);
      expect(r.text).toContain(`Read the paper: https://arxiv.org/abs/${id}`);
    }
    expect(r.html).toContain('Ada Lovelace, Alan Turing, Grace Hopper et al.');
    expect(r.html).toContain('Sofia Kovalevskaya');
    expect(r.html).toContain('Listed\u00A0Mar\u00A02,\u00A02026');
    expect(r.html).toContain('arXiv\u00A0Mar\u00A01,\u00A02026');
    expect(r.html).toContain('Rising fast.');
    expect(r.text).toContain('TL;DR: Rising fast.');
    expect(r.text).toContain('Listed Mar 2, 2026 · arXiv Mar 1, 2026');
    expect(r.html).not.toMatch(/Added/);
  });

  it('keeps a sensible score for a paper no fetch has counted: its total, as before', () => {
    const seedLike = scorePaper(
      { id: 1, upvotes: 20, lists: 1, publishedOn: '2026-03-09', firstListedOn: null, firstSeenAt: '2026-03-09T00:00:00Z' },
      '2026-03-10',
    );
    const fetchedToday = scorePaper(
      { id: 2, upvotes: 20, lists: 1, publishedOn: '2026-03-09', firstListedOn: null, firstSeenAt: '2026-03-09T00:00:00Z', gains: { day: 20, week: 20 } },
      '2026-03-10',
    );
    // All votes gained today count as the total does: the two scales meet.
    expect(seedLike.votes).toBe(20);
    expect(fetchedToday.score).toBeCloseTo(seedLike.score, 10);
    const stale = scorePaper(
      { id: 3, upvotes: 200, lists: 1, publishedOn: '2026-03-09', firstListedOn: null, firstSeenAt: '2026-03-09T00:00:00Z', gains: { day: 0, week: 0 } },
      '2026-03-10',
    );
    expect(stale.votes).toBe(0);
    expect(stale.score).toBeLessThan(fetchedToday.score);
  });
});
