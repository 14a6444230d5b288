// Owns the small contracts delivery needs from its neighbours: the digest (selection + rendering + links) and the subscriber row.
import { z } from 'zod';
import type { RenderedDigest } from '../render/renderer.js';
import type { RecipientLinks } from '../render/placeholders.js';

export type { RecipientLinks };

export const DigestKind = z.enum(['trending', 'new', 'both']);
export type DigestKind = z.infer<typeof DigestKind>;

export const Frequency = z.enum(['daily', 'weekly', 'paused']);
export type Frequency = z.infer<typeof Frequency>;

/** The subscriber columns delivery reads (parsed with zod as they leave the database). */
export const DeliverySubscriber = z.object({
  id: z.number().int(),
  email: z.string(),
  status: z.enum(['pending', 'active', 'unsubscribed', 'bounced']),
  frequency: Frequency,
  weekday: z.number().int().min(0).max(6),
  kind: DigestKind,
  topics: z.string(),
  digest_size: z.number().int(),
  delivery_hour: z.number().int().min(0).max(23),
  time_zone: z.string(),
  created_at: z.string(),
  confirmed_at: z.string().nullable(),
});
export type DeliverySubscriber = z.infer<typeof DeliverySubscriber>;

/** What one subscriber gets. Subscribers whose selections share a `key` get the same rendered message. */
export interface Selection {
  /** Identifies everything that changes the rendered message (e.g. the paper ids in order, the topics shown). */
  key: string;
  /** The papers in the digest; written to sent_papers when the delivery is marked sent. */
  paperIds: number[];
}

/** "Nothing to send", with the reason recorded on the skipped delivery. */
export interface NothingToSend {
  nothing: string;
}

/** What delivery needs of a rendered digest (src/render/renderer.ts owns the type). */
export type DigestMessage = Pick<RenderedDigest, 'subject' | 'html' | 'text'> & Partial<Pick<RenderedDigest, 'paperIds'>>;

/** A digest for one (kind, local date): selects per subscriber, renders per distinct selection. */
export interface PreparedDigest<S extends Selection = Selection> {
  select(subscriber: DeliverySubscriber): S | NothingToSend | Promise<S | NothingToSend>;
  /**
   * Renders a selection with the slot tokens of src/render/placeholders.ts wherever the recipient's links and
   * address go, in HTML and text; the sender fills in the real values per message.
   */
  render(selection: S): DigestMessage | Promise<DigestMessage>;
  /**
   * The selection as a recipe over blocks rendered once per edition: what the planner stores when it is there, so a
   * reader's digest costs string work, not an MJML render (render stays for test sends).
   */
  compose?(selection: S): Promise<ComposedDigest>;
}

/**
 * A selection as the ledger stores it when the digest is assembled from blocks: a recipe (the reader's own strings and
 * the keys of the wrapper and blocks) and the pieces it names, each stored once per edition (src/render/blocks.ts).
 */
export interface ComposedDigest {
  subject: string;
  recipe: string;
  pieces: { key: string; html: string; text: string }[];
  /** The papers it shows: the selection's, or its first ones when not all fit the size budget. */
  paperIds: number[];
}

export interface DigestSource {
  /** Called once per (kind, local date) the run meets; `date` is YYYY-MM-DD in the subscriber's time zone. */
  prepare(kind: DigestKind, date: string): PreparedDigest | Promise<PreparedDigest>;
  /** The real links of one subscriber (signed tokens). Values must hold no CR, LF or angle brackets. */
  links(subscriberId: number): RecipientLinks;
}

export function isNothing(x: Selection | NothingToSend): x is NothingToSend {
  return typeof (x as NothingToSend).nothing === 'string';
}
