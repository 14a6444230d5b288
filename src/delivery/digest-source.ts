// Owns the bridge from delivery's DigestSource port to the real selector, renderer and signed links.
import type { DigestSource } from './ports.js';
import type { Store } from '../db/open.js';
import type { Clock } from '../clock.js';
import type { AppConfig } from '../app.js';
import { createSelector, type Selection, type Selector } from '../digest/select.js';
import { createRenderer, personalize, DEFAULT_TEMPLATES_DIR, type Renderer } from '../render/renderer.js';
import { subscriberLinks } from '../subscriptions/links.js';

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
      async render(sel, slots) {
        const rendered = await renderer.renderDigest(sel as Selection);
        // The renderer's per-recipient tokens become delivery's slots, which the sender fills per message.
        const body = personalize(rendered, { unsubscribeUrl: slots.unsubscribeUrl, manageUrl: slots.manageUrl, email: slots.email });
        return { subject: rendered.subject, html: body.html, text: body.text };
      },
    }),
    links: (id) => subscriberLinks(deps.config, deps.config.SECRET_KEY, id),
  };
}
