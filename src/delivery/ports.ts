// Owns the small contracts delivery needs from its neighbours: the digest (selection + rendering + links) and the subscriber row.
import { z } from 'zod';

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

export interface RenderedDigest {
  subject: string;
  html: string;
  text: string;
}

/** The per-recipient links. The sender renders with placeholder values and fills in the real ones per message. */
export interface RecipientLinks {
  /** `${PUBLIC_URL}/unsubscribe/<signed token>`: the https List-Unsubscribe target (GET shows a page, POST unsubscribes). */
  unsubscribeUrl: string;
  /** `mailto:unsubscribe+<signed token>@MAIL_DOMAIN`. */
  unsubscribeMailto: string;
  manageUrl: string;
}

/** What `render` gets: placeholder strings for everything that differs per recipient. */
export interface RecipientSlots extends RecipientLinks {
  /** The recipient's address, e.g. for "sent to x@y" in the footer. */
  email: string;
}

/** A digest for one (kind, local date): selects per subscriber, renders per distinct selection. */
export interface PreparedDigest<S extends Selection = Selection> {
  select(subscriber: DeliverySubscriber): S | NothingToSend | Promise<S | NothingToSend>;
  /**
   * Renders a selection. `slots` holds placeholder strings (URL- or address-shaped: ASCII letters, digits, ':', '/',
   * '.', '-', '@'); the renderer puts them in verbatim (escaping leaves them unchanged) wherever the recipient's links
   * and address go, in HTML and text. The sender fills in the real values per message.
   */
  render(selection: S, slots: RecipientSlots): RenderedDigest | Promise<RenderedDigest>;
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
