// Owns the adapter delivery consumes (its DigestSource port): prepare(kind, date) -> select per subscriber,
// render per distinct selection with the sender's placeholder slots put in verbatim.
import type { Store } from '../db/open.js';
import type { Clock } from '../clock.js';
import { createSelector, type DigestKind, type Selection, type SubscriberPrefs } from './select.js';
import { createRenderer, personalize, DEFAULT_TEMPLATES_DIR, type Renderer } from '../render/renderer.js';
import { subscriberLinks } from '../subscriptions/links.js';
import type { AppConfig } from '../app.js';

/** Per-recipient links as the app signs them (`subscriberLinks` in src/subscriptions/links.ts). */
export interface SourceLinks {
  unsubscribeUrl: string;
  unsubscribeMailto: string;
  manageUrl: string;
}

/** Placeholder strings the sender substitutes per message; they must survive HTML escaping unchanged. */
export interface SourceSlots extends SourceLinks {
  email: string;
}

export interface SourceDeps {
  store: Store;
  clock: Clock;
  renderer: Renderer;
  links: (subscriberId: number) => SourceLinks;
}

const SLOT_SAFE = /^[A-Za-z0-9:/.@_+-]*$/;

export function createDigestSource(deps: SourceDeps) {
  return {
    /** One per (kind, local date) a run meets: the candidate pool is built here, once, from the current corpus. */
    prepare(kind: DigestKind, date: string) {
      const selector = createSelector({ store: deps.store, clock: deps.clock });
      return {
        select(subscriber: SubscriberPrefs): Selection | { nothing: string } {
          const r = selector.selectForSubscriber(subscriber, date, { kind });
          return r.status === 'selected' ? r.selection : { nothing: r.message };
        },
        /** Once per distinct selection key; the slots land verbatim where the recipient's links and address go. */
        async render(selection: Selection, slots: SourceSlots): Promise<{ subject: string; preheader: string; html: string; text: string }> {
          for (const [name, value] of Object.entries(slots)) {
            // Escaping in the HTML part would otherwise change the slot and the sender would not find it.
            if (!SLOT_SAFE.test(value)) throw new Error(`slot ${name} holds characters HTML escaping would change: ${JSON.stringify(value)}`);
          }
          const rendered = await deps.renderer.renderDigest(selection);
          const { html, text } = personalize(rendered, { unsubscribeUrl: slots.unsubscribeUrl, manageUrl: slots.manageUrl, email: slots.email });
          return { subject: rendered.subject, preheader: rendered.preheader, html, text };
        },
      };
    },
    links: deps.links,
  };
}
export type DigestSourceAdapter = ReturnType<typeof createDigestSource>;

/** The adapter built from the app: templates compiled once, links signed with the app's SECRET_KEY. */
export function digestSourceFor(app: { store: Store; clock: Clock; config: AppConfig }, renderer?: Renderer): DigestSourceAdapter {
  return createDigestSource({
    store: app.store,
    clock: app.clock,
    renderer: renderer ?? createRenderer({ templatesDir: DEFAULT_TEMPLATES_DIR, config: app.config }),
    links: (id) => subscriberLinks(app.config, app.config.SECRET_KEY, id),
  });
}
