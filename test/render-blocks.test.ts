// The digest assembled from per-edition blocks is the digest a full MJML render of the same selection gives.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { openStore, type Store } from '../src/db/open.js';
import { FakeClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { ingestPaths } from '../src/corpus/ingest.js';
import { createSelector, type Selection } from '../src/digest/select.js';
import { createRenderer, DEFAULT_TEMPLATES_DIR } from '../src/render/renderer.js';
import { assembleStrings, decodeRecipe, ITEM_TOKENS, type Piece } from '../src/render/blocks.js';
import { SLOT_TOKENS } from '../src/render/placeholders.js';
import { feedbackUrl } from '../src/subscriptions/subscriber-links.js';
import { SEEDS_DIR } from '../bench/lib/paperboy-world.js';

const clock = new FakeClock(new Date('2026-03-10T07:00:00Z'));
const config = loadConfig({
  PUBLIC_URL: 'https://papers.example.org',
  MAIL_DOMAIN: 'papers.example.org',
  SENDER_ADDRESS_LINE: 'Paperboy Labs, 1 Example Street',
});
const SECRET = 'render-blocks-test-secret-0123456789';
const renderer = createRenderer({ templatesDir: DEFAULT_TEMPLATES_DIR, config, validationLevel: 'strict' });
let store: Store;

beforeAll(() => {
  store = openStore(':memory:');
  ingestPaths(store, [SEEDS_DIR], clock);
});
afterAll(() => store.close());

const reader = (id: number) => ({
  unsubscribeUrl: `https://papers.example.org/unsubscribe/${id}-abc`,
  unsubscribeMailto: `mailto:unsubscribe+${id}-abc@papers.example.org`,
  manageUrl: `https://papers.example.org/preferences/${id}-def`,
  email: `reader${id}@example.org`,
});
const feedbackFor = (id: number) => (paperId: number, signal: 'more' | 'less') => feedbackUrl(config, SECRET, id, paperId, signal);

function selections(): Selection[] {
  const selector = createSelector({ store, clock });
  const date = '2026-03-10';
  const reqs = [
    { kind: 'trending' as const, size: 10 },
    { kind: 'trending' as const, size: 7, topics: ['diffusion', 'language model'] },
    { kind: 'new' as const, size: 5, topics: ['video'] },
    { kind: 'both' as const, size: 12, topics: ['agent'] },
    { kind: 'trending' as const, size: 1 },
  ];
  return reqs.map((r) => {
    const res = selector.select(r, date);
    if (res.status !== 'selected') throw new Error('nothing selected');
    return res.selection;
  });
}

describe('a digest assembled from blocks', () => {
  it('has the HTML and text of a full MJML render of the same selection, reasons and feedback links included', async () => {
    const composer = renderer.createComposer();
    const sels = selections();
    expect(new Set(sels.map((s) => s.key)).size).toBe(sels.length);
    for (const [n, sel] of sels.entries()) {
      const id = 100 + n;
      const full = await renderer.renderDigest(sel, { slots: reader(id), feedback: feedbackFor(id) });
      const composed = await composer.compose(sel);
      const pieces = new Map<string, Piece>(composed.pieces.map((p) => [p.key, p]));
      const recipient = Object.fromEntries(Object.entries(reader(id)).map(([k, v]) => [SLOT_TOKENS[k as keyof typeof SLOT_TOKENS], v]));
      const got = assembleStrings(decodeRecipe(composed.recipe), (k) => pieces.get(k)!, feedbackFor(id), recipient);
      expect(composed.subject).toBe(full.subject);
      expect(got.html).toBe(full.html);
      expect(got.text).toBe(full.text);
      // What the reader sees: per paper its reason and both links, in both parts.
      for (const item of sel.sections.flatMap((s) => s.items)) {
        const more = feedbackFor(id)(item.paper.id, 'more');
        const less = feedbackFor(id)(item.paper.id, 'less');
        for (const part of [got.html, got.text]) {
          expect(part).toContain(more);
          expect(part).toContain(less);
        }
        expect(got.text).toContain(item.why.slice(0, 30));
      }
      expect(got.html).toContain('More like this');
      expect(got.html).toContain('Less like this');
      for (const t of Object.values(ITEM_TOKENS)) expect(got.html + got.text).not.toContain(t);
    }
  });

  it('renders each paper block once per edition, whoever reads it', async () => {
    const composer = renderer.createComposer();
    const [a, , , , b] = selections();
    const ca = await composer.compose(a!);
    const cb = await composer.compose(b!);
    const shared = a!.paperIds.filter((id) => b!.paperIds.includes(id));
    expect(shared.length).toBeGreaterThan(0);
    const ra = decodeRecipe(ca.recipe);
    const rb = decodeRecipe(cb.recipe);
    expect(rb.wrapper).toBe(ra.wrapper);
    const blockOf = (r: typeof ra, paperId: number) => r.sections.flat().find((x) => x.item.paperId === paperId)!.block;
    for (const id of shared) expect(blockOf(rb, id)).toBe(blockOf(ra, id));
    // The per-reader record is small: the blocks and the wrapper are stored once.
    expect(Buffer.byteLength(ca.recipe)).toBeLessThan(6_000);
  });
});
