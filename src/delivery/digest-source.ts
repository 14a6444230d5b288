// Owns the bridge from delivery's DigestSource port to the real selector, renderer and signed links.
import type { DigestSource } from './ports.js';
import type { Store } from '../db/open.js';
import type { Clock } from '../clock.js';
import type { AppConfig } from '../app.js';
import { createSelector, type Selection, type Selector } from '../digest/select.js';
import { createRenderer, DEFAULT_TEMPLATES_DIR, type Renderer } from '../render/renderer.js';
import { subscriberLinks } from '../subscriptions/subscriber-links.js';

/** Templates are compiled here, once; the selector scores the corpus once per date and reuses it. */
export function createDigestSource(deps: { store: Store; clock: Clock; config: AppConfig; selector?: Selector; renderer?: Renderer }): DigestSource {
  const selector = deps.selector ?? createSelector({ store: deps.store, clock: deps.clock });
  const renderer = deps.renderer ?? createRenderer({ config: deps.config, templatesDir: DEFAULT_TEMPLATES_DIR });
  return {
    prepare: (_kind, date) => ({
      select(sub) {
        const r = selector.selectForSubscriber(sub, date);
        return r.status === 'selected' ? r.selection : { nothing: r.message };
      },
      // With the slot tokens in (the renderer's default): the sender fills each recipient's values in.
      render: (sel) => renderer.renderDigest(sel as Selection),
    }),
    links: (id) => subscriberLinks(deps.config, deps.config.SECRET_KEY, id),
  };
}
