import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { openStore, type Store } from '../src/db/open.js';
import { FakeClock } from '../src/clock.js';
import { createSelector, type Selection, type SelectionResult } from '../src/digest/select.js';
import { scorePaper, SCORING } from '../src/digest/score.js';
import { ftsPhrase } from '../src/digest/pool.js';
import { addPaper, addSubscriber, recordSent } from './helpers/corpus.js';

const DATE = '2026-03-10';
let store: Store;
const clock = new FakeClock(new Date('2026-03-10T09:00:00Z'));

beforeEach(() => {
  store = openStore(':memory:');
});
afterEach(() => store.close());

function selected(r: SelectionResult): Selection {
  if (r.status !== 'selected') throw new Error(`expected a selection, got ${r.status}: ${r.message}`);
  return r.selection;
}
const titles = (s: Selection) => s.sections.flatMap((x) => x.items.map((i) => i.paper.title));

describe('trending score', () => {
  it('is log2(1 + upvotes + 2·(lists−1)) minus age over the half-life', () => {
    const s = scorePaper({ id: 1, upvotes: 7, lists: 1, publishedOn: '2026-03-03', firstListedOn: null, firstSeenAt: '2026-03-01T00:00:00Z' }, DATE);
    expect(s.weight).toBe(8);
    expect(s.ageDays).toBe(7);
    expect(s.score).toBeCloseTo(3 - 7 / SCORING.HALF_LIFE_DAYS, 10);
    const listed = scorePaper({ id: 2, upvotes: 0, lists: 3, publishedOn: null, firstListedOn: '2026-03-09', firstSeenAt: '2026-03-09T00:00:00Z' }, DATE);
    expect(listed.dateSource).toBe('listed');
    expect(listed.weight).toBe(5);
  });
});

describe('selection', () => {
  it('orders trending by score, and a fresh paper with votes beats an old one with the same votes', () => {
    addPaper(store, { title: 'Old famous', upvotes: 20, publishedOn: '2026-01-01' });
    addPaper(store, { title: 'Fresh twenty', upvotes: 20, publishedOn: '2026-03-09' });
    addPaper(store, { title: 'Fresh five on three lists', upvotes: 5, publishedOn: '2026-03-09', lists: 3 });
    addPaper(store, { title: 'Fresh five', upvotes: 5, publishedOn: '2026-03-09' });
    addPaper(store, { title: 'From the future', upvotes: 99, publishedOn: '2026-03-11' });
    const sel = selected(createSelector({ store, clock }).select({ kind: 'trending', size: 10 }, DATE));
    expect(titles(sel)).toEqual(['Fresh twenty', 'Fresh five on three lists', 'Fresh five', 'Old famous']);
    const first = sel.sections[0]!.items[0]!;
    expect(first.why).toBe('20 upvotes, on 1 list, published yesterday');
    expect(sel.sections[0]!.items[1]!.why).toBe('5 upvotes, on 3 lists, published yesterday');
    expect(first.rank).toBe(1);
  });

  it('breaks ties deterministically: newer date first, then lower id', () => {
    const a = addPaper(store, { title: 'Tie A', upvotes: 3, publishedOn: '2026-03-08' });
    const b = addPaper(store, { title: 'Tie B', upvotes: 3, publishedOn: '2026-03-08' });
    const sel = selected(createSelector({ store, clock }).select({ kind: 'trending', size: 10 }, DATE));
    expect(sel.paperIds).toEqual([a, b]);
  });

  it('orders new by publication date, else listing date, else first seen', () => {
    addPaper(store, { title: 'Published Mar 1', publishedOn: '2026-03-01', upvotes: 50 });
    addPaper(store, { title: 'Listed Mar 5', firstListedOn: '2026-03-05' });
    addPaper(store, { title: 'Seen Mar 3', firstSeenAt: '2026-03-03T10:00:00.000Z' });
    addPaper(store, { title: 'Published Mar 9', publishedOn: '2026-03-09' });
    const sel = selected(createSelector({ store, clock }).select({ kind: 'new', size: 10 }, DATE));
    expect(titles(sel)).toEqual(['Published Mar 9', 'Listed Mar 5', 'Seen Mar 3', 'Published Mar 1']);
    expect(sel.sections[0]!.title).toBe('New');
  });

  it('puts topic matches first and names the topic; user keywords with FTS syntax are safe', () => {
    addPaper(store, { title: 'Popular transformers', upvotes: 40, publishedOn: '2026-03-09' });
    addPaper(store, { title: 'Score-based Diffusion for audio', upvotes: 1, publishedOn: '2026-03-01' });
    addPaper(store, { title: 'Quiet paper', abstract: 'We train diffusion models on graphs. It works.', upvotes: 2, publishedOn: '2026-03-08' });
    const selector = createSelector({ store, clock });
    // The knob at 0 (only my topics) is today's keyword digest: matches first, in trending order, then the rest.
    const sel = selected(selector.select({ kind: 'trending', size: 10, topics: ['diffusion', 'NEAR(" OR *', '  '], trendWeight: 0 }, DATE));
    expect(titles(sel)).toEqual(['Quiet paper', 'Score-based Diffusion for audio', 'Popular transformers']);
    // At 100 (only trending) the topics only name themselves; at 50 a strong trend beats the weaker match.
    const trend = selected(selector.select({ kind: 'trending', size: 10, topics: ['diffusion'], trendWeight: 100 }, DATE));
    expect(titles(trend)).toEqual(['Popular transformers', 'Quiet paper', 'Score-based Diffusion for audio']);
    const half = selected(selector.select({ kind: 'trending', size: 10, topics: ['diffusion'], trendWeight: 50 }, DATE));
    expect(titles(half)).toEqual(['Quiet paper', 'Popular transformers', 'Score-based Diffusion for audio']);
    expect(sel.sections[0]!.items[0]!.matchedTopics).toEqual(['diffusion']);
    expect(sel.sections[0]!.items[0]!.why).toMatch(/^matches: diffusion · 2 upvotes/);
    expect(sel.sections[0]!.items[2]!.matchedTopics).toEqual([]);
    expect(ftsPhrase('a "b" c')).toBe('"a ""b"" c"');
  });

  it('splits both into a trending and a new section with no paper in both', () => {
    for (let i = 1; i <= 6; i++) addPaper(store, { title: `P${i}`, upvotes: i * 10, publishedOn: `2026-03-0${i}` });
    const sel = selected(createSelector({ store, clock }).select({ kind: 'both', size: 4 }, DATE));
    expect(sel.sections.map((s) => s.kind)).toEqual(['trending', 'new']);
    expect(sel.count).toBe(4);
    expect(new Set(sel.paperIds).size).toBe(4);
    expect(sel.sections[0]!.items).toHaveLength(2);
  });

  it('caps at the size, never repeats a sent paper across consecutive days, and says why when nothing is left', () => {
    for (let i = 1; i <= 5; i++) addPaper(store, { title: `Paper ${i}`, upvotes: i, publishedOn: '2026-03-05' });
    const sub = addSubscriber(store, { digestSize: 2 });
    const prefs = { id: sub, kind: 'trending' as const, topics: '[]', digest_size: 2 };
    const seen: number[] = [];
    const days = ['2026-03-10', '2026-03-11', '2026-03-12'];
    for (const day of days) {
      const sel = selected(createSelector({ store, clock }).selectForSubscriber(prefs, day));
      expect(sel.count).toBeLessThanOrEqual(2);
      for (const id of sel.paperIds) expect(seen).not.toContain(id);
      seen.push(...sel.paperIds);
      recordSent(store, sub, sel.paperIds, day);
    }
    expect(seen).toHaveLength(5);
    const r = createSelector({ store, clock }).selectForSubscriber(prefs, '2026-03-13');
    expect(r).toMatchObject({ status: 'empty', reason: 'all-sent' });
    const empty = createSelector({ store: openStore(':memory:'), clock }).select({ kind: 'new', size: 3 }, DATE);
    expect(empty).toMatchObject({ status: 'empty', reason: 'empty-corpus' });
  });

  it('gives the same key to the same selection and a different key otherwise', () => {
    for (let i = 1; i <= 4; i++) addPaper(store, { title: `K${i}`, upvotes: i, publishedOn: '2026-03-05' });
    const selector = createSelector({ store, clock });
    const a = selected(selector.select({ kind: 'trending', size: 3 }, DATE));
    const b = selected(selector.select({ kind: 'trending', size: 3 }, DATE));
    const c = selected(selector.select({ kind: 'trending', size: 2 }, DATE));
    const d = selected(selector.select({ kind: 'trending', size: 3, topics: ['K1'] }, DATE));
    const weekly = selected(selector.select({ kind: 'trending', size: 3, frequency: 'weekly' }, DATE));
    expect(a.key).toBe(b.key);
    expect(weekly.paperIds).toEqual(a.paperIds);
    expect(new Set([a.key, c.key, d.key, weekly.key]).size).toBe(4);
  });
});
