// Owns the bridge from delivery's DigestSource port to a selector, a renderer and signed links, all passed in.
import type { DigestSource, RecipientLinks } from './ports.js';
import type { Selection, Selector } from '../digest/select.js';
import { personalize, type Renderer } from '../render/renderer.js';

export interface DigestSourceDeps {
  /** Scores the corpus once per date and reuses it. */
  selector: Selector;
  /** Templates compiled once. */
  renderer: Renderer;
  /** A subscriber's real links (signed tokens). */
  links(subscriberId: number): RecipientLinks;
}

export function createDigestSource(deps: DigestSourceDeps): DigestSource {
  const { selector, renderer } = deps;
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
    links: (id) => deps.links(id),
  };
}
