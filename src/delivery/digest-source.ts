// Owns the bridge from delivery's DigestSource port to a selector, a renderer and signed links, all passed in.
import type { DigestSource, RecipientLinks } from './ports.js';
import type { Selection, Selector } from '../digest/select.js';
import type { Renderer } from '../render/renderer.js';

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
    prepare: (_kind, date) => {
      // One composer per (kind, date): its wrappers and blocks are the edition's, rendered once each.
      const composer = renderer.createComposer();
      return {
        select(sub) {
          const r = selector.selectForSubscriber(sub, date);
          return r.status === 'selected' ? r.selection : { nothing: r.message };
        },
        // With the slot tokens in (the renderer's default): the sender fills each recipient's values in.
        render: (sel) => renderer.renderDigest(sel as Selection),
        compose: (sel) => composer.compose(sel as Selection),
      };
    },
    links: (id) => deps.links(id),
  };
}
