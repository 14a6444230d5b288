// Owns remembering MJML's output by its input in the ledger, so a compile done once is never done again.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Store } from '../db/open.js';
import type { Clock } from '../clock.js';
import { mjml2html, type MjmlOptions, type MjmlResult } from './mjml.js';

export type CompileMjml = (source: string, options: MjmlOptions) => Promise<MjmlResult>;

/** How many compiles the table keeps: each edition has a few wrappers, previews a few whole digests. */
const KEEP = 500;

/** MJML's version is part of every key: an upgrade compiles afresh. */
const MJML_VERSION = (createRequire(import.meta.url)('mjml/package.json') as { version: string }).version;

export function mjmlKey(source: string, options: MjmlOptions): string {
  return createHash('sha256')
    .update(`${MJML_VERSION}\0${JSON.stringify(options)}\0${source}`)
    .digest('hex');
}

/**
 * A compile that asks the ledger first. A source with `<mj-include` is always compiled (what it includes is not in
 * the key). Why: MJML costs a thread, a second of CPU to load and some 36 MB while loaded (render/mjml.ts), and the
 * wrapper of an edition is the same MJML for every run that sends it (each delivery hour, a resumed send).
 */
export function cachedMjml(store: Store, clock: Clock, compile: CompileMjml = mjml2html): CompileMjml {
  return async (source, options) => {
    if (source.includes('<mj-include')) return compile(source, options);
    const key = mjmlKey(source, options);
    const hit = store.q('mjml-compiled-get').get(key);
    if (hit) return { html: hit.html, errors: JSON.parse(hit.errors) as MjmlResult['errors'] };
    const r = await compile(source, options);
    store.q('mjml-compiled-put').run({ key, html: r.html, errors: JSON.stringify(r.errors), created_at: clock.now().toISOString() });
    store.q('mjml-compiled-prune').run({ keep: KEEP });
    return r;
  };
}
