// A handful of papers written straight into the corpus tables, for pages that show papers.
import type { Store } from '../../src/db/open.js';

export const SAMPLE_PAPERS = [
  {
    title: 'Scaling Diffusion Transformers to Long Video',
    abstract:
      'We train diffusion transformers on minute-long clips and show that temporal attention windows, not model size, limit coherence. A simple curriculum over clip length fixes most failures.',
    upvotes: 182,
    published_on: '2025-06-12',
    links: [
      { url: 'https://github.com/example/long-video', kind: 'code' },
      { url: 'javascript:alert(1)', kind: 'project' },
    ],
  },
  {
    title: 'Reasoning Models Know When They Are Wrong <script>alert(1)</script>',
    abstract:
      'Probing hidden states of reasoning models reveals a linear direction that predicts whether the final answer is correct, well before the answer is written.',
    upvotes: 97,
    published_on: '2025-06-11',
    links: [{ url: 'https://example.org/probe', kind: 'project' }],
  },
  {
    title: 'A Tiny Robot Policy That Fits on a Microcontroller',
    abstract:
      'We distil a vision-language-action policy into 2 MB and run it at 30 Hz on a microcontroller, keeping 90% of the success rate on tabletop tasks.',
    upvotes: 41,
    published_on: '2025-06-10',
    links: [],
  },
];

export function insertSamplePapers(store: Store): void {
  const ins = store.db.prepare(
    `INSERT INTO papers (title_key, title, abstract, upvotes, published_on, links, first_seen_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, '2025-06-12T00:00:00Z', '2025-06-12T00:00:00Z')`,
  );
  for (const p of SAMPLE_PAPERS) ins.run(p.title.toLowerCase(), p.title, p.abstract, p.upvotes, p.published_on, JSON.stringify(p.links));
}
