// Issue 16: the per-reader model (feedback, topics, muted topics), the trend knob, followed authors, the code filter,
// threshold mode and the reasons, on a real SQLite file.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { join } from 'node:path';
import { openStore, type Store } from '../src/db/open.js';
import { FakeClock } from '../src/clock.js';
import { createSelector, type Selection, type SelectionResult } from '../src/digest/select.js';
import { createRelevance, LEARN } from '../src/learn/relevance.js';
import { decodeModel } from '../src/learn/model-codec.js';
import { createDigestSource } from '../src/delivery/digest-source.js';
import { createRenderer, DEFAULT_TEMPLATES_DIR } from '../src/render/renderer.js';
import { loadConfig } from '../src/config.js';
import { addPaper, addSubscriber, recordSent } from './helpers/corpus.js';
import { tempDir } from './helpers/tmp.js';

const DATE = '2026-03-10';
const clock = new FakeClock(new Date('2026-03-10T09:00:00Z'));
const dir = tempDir('paperboy-relevance-');
let store: Store;
let n = 0;

beforeEach(() => {
  store = openStore(join(dir, `p${++n}.db`));
});
afterEach(() => store.close());

function selected(r: SelectionResult): Selection {
  if (r.status !== 'selected') throw new Error(`expected a selection, got ${r.status}: ${r.message}`);
  return r.selection;
}
const titles = (s: Selection) => s.sections.flatMap((x) => x.items.map((i) => i.paper.title));

const DIFFUSION =
  'Denoising diffusion sampler for image synthesis. We train a score network with a denoising objective and sample images with fewer diffusion steps.';
const GRAPHS = 'Message passing graph neural network for molecules. Node embeddings are aggregated over graph edges to predict molecular properties.';
const PROTEIN = 'Protein folding with structure prediction. A protein language model predicts folding contacts and the protein backbone.';

/** Graph papers trend (many upvotes), diffusion papers are quiet, one protein paper trends most of all. */
function corpus(store: Store) {
  const ids = {
    likedA: addPaper(store, { title: 'Diffusion sampler A', abstract: DIFFUSION + ' Variant one.', upvotes: 1, publishedOn: '2026-03-02' }),
    likedB: addPaper(store, { title: 'Diffusion image model B', abstract: DIFFUSION + ' Variant two.', upvotes: 2, publishedOn: '2026-03-03' }),
    dislikedGraph: addPaper(store, { title: 'Graph network Z', abstract: GRAPHS + ' Variant zero.', upvotes: 60, publishedOn: '2026-03-03' }),
    diff1: addPaper(store, { title: 'Faster diffusion sampling', abstract: DIFFUSION + ' Fast.', upvotes: 2, publishedOn: '2026-03-09' }),
    diff2: addPaper(store, { title: 'Denoising score images', abstract: DIFFUSION + ' Sharp.', upvotes: 1, publishedOn: '2026-03-08' }),
    graph1: addPaper(store, { title: 'Graph networks for chemistry', abstract: GRAPHS + ' Chemistry.', upvotes: 50, publishedOn: '2026-03-09' }),
    graph2: addPaper(store, { title: 'Molecular message passing', abstract: GRAPHS + ' Scale.', upvotes: 40, publishedOn: '2026-03-09' }),
    graph3: addPaper(store, { title: 'Graph property prediction', abstract: GRAPHS + ' Property.', upvotes: 30, publishedOn: '2026-03-08' }),
    protein: addPaper(store, { title: 'Protein folding at scale', abstract: PROTEIN, upvotes: 90, publishedOn: '2026-03-09' }),
    protein2: addPaper(store, { title: 'Protein backbone prediction', abstract: PROTEIN + ' Backbone.', upvotes: 3, publishedOn: '2026-02-01' }),
  };
  return ids;
}

function tap(store: Store, subscriber: number, paper: number, signal: 1 | -1) {
  store.q('feedback-upsert').run({ subscriber_id: subscriber, paper_id: paper, signal, source: 'email', now: clock.now().toISOString() });
}
const sub = (store: Store, id: number) => store.db.prepare('SELECT * FROM subscribers WHERE id = ?').get(id) as never;
function setPrefs(store: Store, id: number, prefs: Record<string, string | number>) {
  for (const [k, v] of Object.entries(prefs)) store.db.prepare(`UPDATE subscribers SET ${k} = ? WHERE id = ?`).run(v, id);
}

describe('per-reader relevance', () => {
  it('after feedback and a refit, a liked topic rises and a muted one is gone', async () => {
    const ids = corpus(store);
    const reader = addSubscriber(store, { digestSize: 4 });
    const relevance = createRelevance({ store, clock });
    const before = selected(createSelector({ store, clock, relevance }).selectForSubscriber(sub(store, reader), DATE));
    expect(titles(before)).toEqual(['Protein folding at scale', 'Graph networks for chemistry', 'Molecular message passing', 'Graph network Z']);

    recordSent(store, reader, [ids.likedA, ids.likedB, ids.dislikedGraph], '2026-03-09');
    tap(store, reader, ids.likedA, 1);
    tap(store, reader, ids.likedB, 1);
    tap(store, reader, ids.dislikedGraph, -1);
    setPrefs(store, reader, { muted_topics: JSON.stringify(['protein']) });
    relevance.onFeedback(reader);
    await relevance.idle();

    const after = selected(createSelector({ store, clock, relevance }).selectForSubscriber(sub(store, reader), DATE));
    const t = titles(after);
    // At the default knob (50) both diffusion papers, absent before, are in, the first of them on top.
    expect(titles(before)).not.toContain('Faster diffusion sampling');
    expect(t[0]).toBe('Faster diffusion sampling');
    expect(t).toContain('Denoising score images');
    expect(t.some((x) => x.startsWith('Protein'))).toBe(false);
    const first = after.sections[0]!.items[0]!;
    expect(first.why).toMatch(/^because you liked "Diffusion (sampler A|image model B)" · /);
    expect(first.relevance).toBeGreaterThan(0.5);
    // Nothing sent twice: the liked papers were sent, so they are not offered again.
    expect(after.paperIds).not.toContain(ids.likedA);
  });

  it('the knob: 100 keeps the trending order, 0 orders by the model, 50 blends the two (docs/scoring.md)', async () => {
    const ids = corpus(store);
    const reader = addSubscriber(store, { digestSize: 7 });
    const relevance = createRelevance({ store, clock });
    recordSent(store, reader, [ids.likedA, ids.likedB, ids.dislikedGraph], '2026-03-09');
    tap(store, reader, ids.likedA, 1);
    tap(store, reader, ids.likedB, 1);
    tap(store, reader, ids.dislikedGraph, -1);
    relevance.refit(reader);
    const order = (w: number) => {
      setPrefs(store, reader, { trend_weight: w });
      return titles(selected(createSelector({ store, clock, relevance }).selectForSubscriber(sub(store, reader), DATE)));
    };
    const trendOnly = order(100);
    const mine = order(0);
    const half = order(50);
    expect(trendOnly).toEqual([
      'Protein folding at scale',
      'Graph networks for chemistry',
      'Molecular message passing',
      'Graph property prediction',
      'Faster diffusion sampling',
      'Denoising score images',
      'Protein backbone prediction',
    ]);
    expect(mine.slice(0, 2).sort()).toEqual(['Denoising score images', 'Faster diffusion sampling']);
    expect(mine).not.toEqual(trendOnly);
    expect(half).not.toEqual(trendOnly);
    expect(half).not.toEqual(mine);
  });

  it("a followed author's new paper is always in the next digest, with the reason; an old one is not", () => {
    corpus(store);
    const fresh = addPaper(store, { title: 'A quiet new result', abstract: GRAPHS, upvotes: 0, publishedOn: '2026-03-09' });
    const old = addPaper(store, { title: 'An old result', abstract: GRAPHS, upvotes: 0, publishedOn: '2026-01-09' });
    for (const id of [fresh, old])
      store.db.prepare('UPDATE papers SET author_names = ? WHERE id = ?').run(JSON.stringify(['Grace Hopper', 'Ada  Lovelace']), id);
    const reader = addSubscriber(store, { digestSize: 3 });
    const selector = () => createSelector({ store, clock });
    expect(selected(selector().selectForSubscriber(sub(store, reader), DATE)).paperIds).not.toContain(fresh);
    setPrefs(store, reader, { followed_authors: JSON.stringify(['ada lovelace']) });
    const sel = selected(selector().selectForSubscriber(sub(store, reader), DATE));
    expect(sel.paperIds).toContain(fresh);
    expect(sel.paperIds).not.toContain(old);
    expect(sel.count).toBe(3);
    const item = sel.sections[0]!.items.find((i) => i.paper.id === fresh)!;
    expect(item.why).toMatch(/^new paper by Ada {2}Lovelace \(followed\) · /);
  });

  it('only with code sends only papers with a code link, and says so when none is left', () => {
    const withCode = addPaper(store, { title: 'Has code', upvotes: 1, publishedOn: '2026-03-09', links: [{ url: 'https://github.com/x/y', kind: 'code' }] });
    addPaper(store, { title: 'Project page only', upvotes: 50, publishedOn: '2026-03-09', links: [{ url: 'https://x.example/', kind: 'project' }] });
    addPaper(store, { title: 'No links', upvotes: 40, publishedOn: '2026-03-09' });
    const reader = addSubscriber(store, { digestSize: 5 });
    setPrefs(store, reader, { only_with_code: 1 });
    const sel = selected(createSelector({ store, clock }).selectForSubscriber(sub(store, reader), DATE));
    expect(sel.paperIds).toEqual([withCode]);
    recordSent(store, reader, [withCode], '2026-03-09');
    const r = createSelector({ store, clock }).selectForSubscriber(sub(store, reader), DATE);
    expect(r).toMatchObject({ status: 'empty', reason: 'filtered' });
  });

  it('threshold mode sends only papers above the bar, and skips the day (a ledger skip reason) when none is', async () => {
    const ids = corpus(store);
    const reader = addSubscriber(store, { digestSize: 10 });
    setPrefs(store, reader, { selection_mode: 'threshold', relevance_bar: 60 });
    const relevance = createRelevance({ store, clock });
    recordSent(store, reader, [ids.likedA, ids.likedB, ids.dislikedGraph], '2026-03-09');
    tap(store, reader, ids.likedA, 1);
    tap(store, reader, ids.likedB, 1);
    tap(store, reader, ids.dislikedGraph, -1);
    relevance.refit(reader);
    const sel = selected(createSelector({ store, clock, relevance }).selectForSubscriber(sub(store, reader), DATE));
    expect(titles(sel).sort()).toEqual(['Denoising score images', 'Faster diffusion sampling']);
    for (const i of sel.sections[0]!.items) expect(i.relevance!).toBeGreaterThanOrEqual(0.6);

    // Once those are sent, nothing left reaches the bar: the day is skipped with the reason delivery records.
    recordSent(store, reader, sel.paperIds, '2026-03-10');
    const r = createSelector({ store, clock, relevance }).selectForSubscriber(sub(store, reader), DATE);
    expect(r).toMatchObject({ status: 'empty', reason: 'below-bar' });
    const config = { ...loadConfig({ PUBLIC_URL: 'https://p.example.org' }), ADMIN_TOKEN: 'x'.repeat(16), SECRET_KEY: 'k'.repeat(32) };
    const renderer = createRenderer({ templatesDir: DEFAULT_TEMPLATES_DIR, config, validationLevel: 'strict' });
    const source = createDigestSource({ selector: createSelector({ store, clock, relevance }), renderer, links: () => null as never });
    const prepared = await source.prepare('trending', DATE);
    expect(await prepared.select(sub(store, reader))).toEqual({ nothing: expect.stringMatching(/relevance bar/) });
  });

  it('the stored model stays small however much feedback a reader gives', () => {
    for (let i = 0; i < 150; i++) {
      addPaper(store, {
        title: `Paper ${i} on ${['diffusion', 'graphs', 'protein'][i % 3]}`,
        abstract: [DIFFUSION, GRAPHS, PROTEIN][i % 3] + ` Detail ${i % 17} word${i}.`,
        publishedOn: '2026-03-01',
      });
    }
    const reader = addSubscriber(store, { digestSize: 10, topics: ['diffusion', 'graph'] });
    for (let id = 1; id <= 150; id++) tap(store, reader, id, id % 3 === 1 ? 1 : -1);
    const relevance = createRelevance({ store, clock });
    const r = relevance.refit(reader)!;
    expect(r.feedback).toBe(150);
    const row = store.q('learn-model-size').get(reader)!;
    expect(row.bytes).toBeLessThanOrEqual(LEARN.TOP_TERMS * 24 + 8);
    expect(row.bytes).toBeLessThan(3500);
    const stored = store.db.prepare('SELECT weights, liked FROM reader_models WHERE subscriber_id = ?').get(reader) as { weights: Buffer; liked: string };
    expect(decodeModel(stored.weights)!.terms.length).toBeLessThanOrEqual(LEARN.TOP_TERMS);
    expect(JSON.parse(stored.liked)).toHaveLength(LEARN.LIKED_KEPT);
  });

  it('refits in the background: onFeedback returns at once, a send meanwhile reads the old model and does not wait', async () => {
    const ids = corpus(store);
    const reader = addSubscriber(store, { digestSize: 4 });
    const relevance = createRelevance({ store, clock });
    recordSent(store, reader, [ids.likedA, ids.likedB], '2026-03-09');
    tap(store, reader, ids.likedA, 1);
    tap(store, reader, ids.likedB, 1);
    relevance.onFeedback(reader);
    relevance.onFeedback(reader);
    expect(relevance.pending).toBe(1);
    expect(store.q('learn-model-size').get(reader)).toBeUndefined();
    // The send in the same tick: trending order, no model read or fitted for it.
    const during = selected(createSelector({ store, clock, relevance }).selectForSubscriber(sub(store, reader), DATE));
    expect(during.sections[0]!.items[0]!.relevance).toBeNull();
    expect(titles(during)[0]).toBe('Protein folding at scale');
    await relevance.idle();
    expect(store.q('learn-model-size').get(reader)).toMatchObject({ feedback_count: 2 });
    setPrefs(store, reader, { trend_weight: 0 });
    const later = selected(createSelector({ store, clock, relevance }).selectForSubscriber(sub(store, reader), DATE));
    expect(titles(later).slice(0, 2).sort()).toEqual(['Denoising score images', 'Faster diffusion sampling']);
  });

  it('cold start: typed topics and muted topics train the first model, undoing every input goes back to none', () => {
    corpus(store);
    const reader = addSubscriber(store, { digestSize: 3, topics: ['diffusion'] });
    setPrefs(store, reader, { trend_weight: 0 });
    const relevance = createRelevance({ store, clock });
    // Before any refit: the typed topic itself ranks (the keyword digest).
    const cold = selected(createSelector({ store, clock, relevance }).selectForSubscriber(sub(store, reader), DATE));
    expect(cold.sections[0]!.items.every((i) => i.matchedTopics.includes('diffusion'))).toBe(true);
    expect(relevance.refit(reader)!.examples).toBeGreaterThan(0);
    setPrefs(store, reader, { topics: '[]' });
    expect(relevance.refit(reader)).toMatchObject({ examples: 0 });
    expect(store.q('learn-model-size').get(reader)).toBeUndefined();
  });
});
