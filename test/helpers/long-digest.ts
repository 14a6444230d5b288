// Builds the real personalised digest of the N seed papers with the longest abstracts, as the sender writes it.
import { join } from 'node:path';
import { FakeClock } from '../../src/clock.js';
import { ingestPaths } from '../../src/corpus/ingest.js';
import { createPapersRepo } from '../../src/corpus/papers-repo.js';
import { buildTemplate, personalise } from '../../src/delivery/mime.js';
import { buildSkeleton, encodeBlock, personaliseAssembled } from '../../src/delivery/assembled-mime.js';
import { decodeRecipe } from '../../src/render/blocks.js';
import { DeliverySubscriber, isNothing } from '../../src/delivery/ports.js';
import { feedbackId, headersConfig } from '../../src/delivery/sender.js';
import { insertSubscribers, openTestStore, tempDir, testConfig, testDigest } from './delivery-fixtures.js';

export const SEEDS_DIR = join(import.meta.dirname, '..', '..', 'seeds');

/**
 * The message subscriber `subscriberId` (ids below it exist too) would get: a daily "new" digest of the `papers` seed
 * papers with the longest abstracts (every other paper removed, so they are the whole corpus).
 */
export async function longAbstractDigest(opts: { papers: number; publicUrl?: string; email?: string; subscriberId?: number }) {
  const tmp = tempDir('paperboy-long-digest-');
  try {
    const config = testConfig(tmp.dir, opts.publicUrl ? { PUBLIC_URL: opts.publicUrl } : {});
    const store = openTestStore(config);
    const clock = new FakeClock(new Date('2026-12-03T08:00:00Z'));
    try {
      ingestPaths(store, [SEEDS_DIR], clock);
      const all = store.db.prepare('SELECT id FROM papers ORDER BY length(abstract) DESC, id').all() as { id: number }[];
      const repo = createPapersRepo(store);
      for (const { id } of all.slice(opts.papers)) repo.remove(id, clock.now());
      const n = opts.subscriberId ?? 1;
      const ids = insertSubscribers(store, n, (i) => ({
        email: i === n ? (opts.email ?? 'reader@example.org') : `other${i}@example.org`,
        kind: 'new',
        digest_size: 30,
      }));
      const id = ids[n - 1]!;
      const source = testDigest(store, config, clock);
      const digest = await source.prepare('new', '2026-12-03');
      const selection = await digest.select(DeliverySubscriber.parse(store.db.prepare('SELECT * FROM subscribers WHERE id = ?').get(id)));
      if (isNothing(selection)) throw new Error(`nothing to send: ${selection.nothing}`);
      const rendered = await digest.render(selection);
      const headers = { ...headersConfig(config), feedbackId: feedbackId('e1', 'daily-new') };
      const email = opts.email ?? 'reader@example.org';
      const links = source.links(id);
      const recipient = { email, messageId: `<d${id}.e1.test@${config.MAIL_DOMAIN}>`, links, date: clock.now() };
      // As the sender assembles it from the edition's blocks, the reader's feedback links in.
      const composed = await digest.compose!(selection);
      const pieces = new Map(composed.pieces.map((p) => [p.key, p]));
      const recipe = decodeRecipe(composed.recipe);
      const skeleton = await buildSkeleton(pieces.get(recipe.wrapper)!, headers);
      const raw = await personaliseAssembled({ skeleton, recipe, blocks: (k) => encodeBlock(pieces.get(k)!) }, recipient, config.PUBLIC_URL);
      // The rendered variant (a test send's path) as well, for the tests that read it.
      const renderedRaw = await personalise(await buildTemplate(rendered, headers), recipient);
      // `count`: the cards the message shows (the first ones of the selection when not all fit the size budget).
      return { raw, renderedRaw, rendered, links, count: composed.paperIds.length, selected: selection.paperIds, shown: composed.paperIds };
    } finally {
      store.close();
    }
  } finally {
    tmp.cleanup();
  }
}
