import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../src/db/open.js';
import { FakeClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { ingestPaths } from '../src/corpus/ingest.js';
import { createSelector } from '../src/digest/select.js';
import { createRenderer, DEFAULT_TEMPLATES_DIR } from '../src/render/renderer.js';
import { cachedMjml, mjmlKey, type CompileMjml } from '../src/render/mjml-cache.js';
import { mjml2html, type MjmlResult } from '../src/render/mjml.js';
import { SEEDS_DIR } from '../bench/lib/paperboy-world.js';
import { tempDir } from './helpers/tmp.js';

const clock = new FakeClock(new Date('2026-03-10T07:00:00Z'));
const DOC = (w: string) =>
  `<mjml><mj-body><mj-section><mj-column><mj-text>${w}</mj-text><mj-text bogus="1">x</mj-text></mj-column></mj-section></mj-body></mjml>`;

/** The real compile (MJML on its thread), counted: what the cache must save is calls to it. */
function counted(): CompileMjml & { calls: number } {
  const f = (async (s, o) => {
    f.calls++;
    return mjml2html(s, o);
  }) as CompileMjml & { calls: number };
  f.calls = 0;
  return f;
}

const config = loadConfig({ PUBLIC_URL: 'https://papers.example.org', SENDER_ADDRESS_LINE: 'Paperboy Labs, 1 Example Street' });
let store: Store;
let corpus: Store;
beforeAll(() => {
  // A real file: the cache is for other processes too (the next run of an edition).
  store = openStore(`${tempDir()}/paperboy.db`);
  corpus = openStore(':memory:');
  ingestPaths(corpus, [SEEDS_DIR], clock);
});
afterAll(() => {
  store.close();
  corpus.close();
});

/** A selection from the seed corpus. */
function seedSelection(kind: 'trending' | 'new', size: number) {
  const res = createSelector({ store: corpus, clock }).select({ kind, size }, '2026-03-10');
  if (res.status !== 'selected') throw new Error('nothing selected');
  return res.selection;
}

/** The app's kind of renderer (MJML through the ledger cache), its real compiles counted. */
function cachingRenderer() {
  const compile = counted();
  return { compile, renderer: createRenderer({ templatesDir: DEFAULT_TEMPLATES_DIR, config, compileMjml: cachedMjml(store, clock, compile) }) };
}

describe('MJML remembered in the ledger', () => {
  it('compiles a source once; the next call, in this process or another, reads the same HTML and warnings back', async () => {
    const compile = counted();
    const first = await cachedMjml(store, clock, compile)(DOC('once'), { validationLevel: 'soft' });
    expect(compile.calls).toBe(1);
    expect(first.errors).toHaveLength(1);
    // A second connection to the same file, as the next `paperboy send` has.
    const other = openStore(store.db.name);
    try {
      const again = await cachedMjml(other, clock, compile)(DOC('once'), { validationLevel: 'soft' });
      expect(compile.calls).toBe(1);
      expect(again).toEqual(first);
    } finally {
      other.close();
    }
  });

  it('keys on the options and the source: either changed compiles again', async () => {
    const compile = counted();
    const c = cachedMjml(store, clock, compile);
    await c(DOC('keys'), { validationLevel: 'soft' });
    await c(DOC('keys'), { validationLevel: 'soft', keepComments: false });
    await c(DOC('keys!'), { validationLevel: 'soft' });
    expect(compile.calls).toBe(3);
    expect(mjmlKey('a', {})).not.toBe(mjmlKey('a', { fonts: {} }));
  });

  it('never answers a source that includes files (what they hold is not in the key), nor stores a failed compile', async () => {
    const compile = counted();
    const c = cachedMjml(store, clock, compile);
    const including = DOC('inc').replace('<mj-body>', '<mj-body><mj-raw><!-- <mj-include path="x.mjml" /> --></mj-raw>');
    await c(including, {});
    await c(including, {});
    expect(compile.calls).toBe(2);
    const before = store.db.prepare('SELECT count(*) AS n FROM mjml_compiled').get() as { n: number };
    await expect(c(DOC('strict'), { validationLevel: 'strict' })).rejects.toThrow(/bogus/);
    await expect(c(DOC('strict'), { validationLevel: 'strict' })).rejects.toThrow(/bogus/);
    expect(compile.calls).toBe(4);
    expect(store.db.prepare('SELECT count(*) AS n FROM mjml_compiled').get()).toEqual(before);
  });

  it('keeps the newest 500 compiles', async () => {
    const made: CompileMjml = async (s): Promise<MjmlResult> => ({ html: `<p>${s}</p>`, errors: [] });
    const c = cachedMjml(store, clock, made);
    for (let i = 0; i < 505; i++) {
      clock.advance(1000);
      await c(`source ${i}`, {});
    }
    const rows = store.db.prepare('SELECT html FROM mjml_compiled ORDER BY created_at').all() as { html: string }[];
    expect(rows).toHaveLength(500);
    expect(rows[0]!.html).toBe('<p>source 5</p>');
    expect(rows.at(-1)!.html).toBe('<p>source 504</p>');
  });

  it('a later run of an edition composes its digests without compiling MJML, to the same bytes', async () => {
    const selection = seedSelection('trending', 10);
    const run = async () => {
      const { compile, renderer } = cachingRenderer();
      return { composed: await renderer.createComposer().compose(selection), calls: compile.calls };
    };
    const first = await run();
    const second = await run();
    expect(first.calls).toBeGreaterThan(0);
    expect(second.calls).toBe(0);
    expect(second.composed.pieces).toEqual(first.composed.pieces);
    expect(second.composed.recipe).toEqual(first.composed.recipe);
  });

  it('never stores a preview as a subscriber (their address and signed links are in its HTML); a tokens-only render is', async () => {
    const selection = seedSelection('new', 4);
    const { compile, renderer } = cachingRenderer();
    const rows = () => (store.db.prepare('SELECT count(*) AS n FROM mjml_compiled').get() as { n: number }).n;
    // Empty, so a row this render adds is seen (the test before fills the table to its limit).
    store.db.exec('DELETE FROM mjml_compiled');
    const before = rows();
    const slots = {
      email: 'private.reader@example.org',
      unsubscribeUrl: 'https://papers.example.org/unsubscribe/7-secret',
      unsubscribeMailto: 'mailto:unsubscribe+7-secret@papers.example.org',
      manageUrl: 'https://papers.example.org/preferences/7-secret',
    };
    const preview = await renderer.renderDigest(selection, { slots });
    expect(preview.html).toContain('private.reader@example.org');
    expect(compile.calls).toBe(0);
    expect(rows()).toBe(before);
    const leaked = store.db.prepare("SELECT count(*) AS n FROM mjml_compiled WHERE html LIKE '%private.reader%' OR html LIKE '%7-secret%'").get();
    expect(leaked).toEqual({ n: 0 });
    await renderer.renderDigest(selection);
    await renderer.renderDigest(selection);
    expect(compile.calls).toBeGreaterThan(0);
    const once = compile.calls;
    await renderer.renderDigest(selection);
    expect(compile.calls).toBe(once);
    expect(rows()).toBeGreaterThan(before);
  });
});
