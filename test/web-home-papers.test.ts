// The home page's papers: order, shown dates and links, and a query that reads the top rows of an index instead of
// sorting the whole corpus on every visit (found by the http bench: at 100,000 papers the sort took ~60 ms a request).
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../src/db/open.js';
import { homePapers } from '../src/web/home-papers.js';
import { insertSamplePapers } from './helpers/papers.js';
import { startHarness, type Harness } from './helpers/web-harness.js';

let store: Store | null = null;
let harness: Harness | null = null;
afterEach(async () => {
  store?.close();
  store = null;
  await harness?.close();
  harness = null;
});

function insertPaper(s: Store, title: string, upvotes: number | null, published_on: string | null, first_listed_on: string | null = null) {
  s.db
    .prepare(
      `INSERT INTO papers (title_key, title, abstract, upvotes, published_on, first_listed_on, links, first_seen_at, updated_at)
       VALUES (?, ?, 'An abstract.', ?, ?, ?, '[]', '2025-06-12T00:00:00Z', '2025-06-12T00:00:00Z')`,
    )
    .run(title.toLowerCase(), title, upvotes, published_on, first_listed_on);
}

describe('home page papers', () => {
  it('orders by upvotes, then date (published, else first listed), then newest id; formats dates; keeps web links only', () => {
    store = openStore(':memory:');
    insertSamplePapers(store);
    insertPaper(store, 'No votes, listed late', null, null, '2025-07-01');
    insertPaper(store, 'No votes, published early', null, '2025-01-02');
    insertPaper(store, 'Tie on votes, older', 41, '2025-06-09');
    insertPaper(store, 'Tie on votes, no date', 41, null);

    const papers = homePapers(store, 6);
    expect(papers.map((p) => [p.title.slice(0, 20), p.upvotes, p.published])).toEqual([
      ['Scaling Diffusion Tr', 182, 'Jun 12, 2025'],
      ['Reasoning Models Kno', 97, 'Jun 11, 2025'],
      ['A Tiny Robot Policy ', 41, 'Jun 10, 2025'],
      ['Tie on votes, older', 41, 'Jun 9, 2025'],
      ['Tie on votes, no dat', 41, null],
      // The listing date orders it, but only a publication date is shown.
      ['No votes, listed lat', null, null],
    ]);
    expect(papers[0]!.links).toEqual([{ url: 'https://github.com/example/long-video', label: 'Code' }]);
    expect(homePapers(store, 2)).toHaveLength(2);
  });

  it('reads the top rows of the papers_home_order index: no full scan, no sort per request', () => {
    store = openStore(':memory:');
    const sql = store.q('web-home-papers').source;
    const plan = (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(5) as { detail: string }[]).map((r) => r.detail);
    expect(plan).toEqual(['SCAN papers USING INDEX papers_home_order']);
  });

  it('shows them on the home page over HTTP, escaped, with formatted dates', async () => {
    harness = await startHarness();
    insertSamplePapers(harness.store);
    const res = await fetch(harness.url + '/');
    expect(res.status).toBe(200);
    const html = await res.text();
    const titles = [...html.matchAll(/<h3><a href="\/papers\/\d+">([^<]+)<\/a><\/h3>/g)].map((m) => m[1]);
    expect(titles).toEqual([
      'Scaling Diffusion Transformers to Long Video',
      'Reasoning Models Know When They Are Wrong &lt;script&gt;alert(1)&lt;/script&gt;',
      'A Tiny Robot Policy That Fits on a Microcontroller',
    ]);
    expect(html).toContain('<span>Published Jun 12, 2025</span>');
    expect(html).not.toContain('javascript:alert');
  });
});
