// Owns the per-recipient slots of a digest: the one placeholder scheme from the renderer to the wire.
//
// The renderer writes these tokens wherever a recipient's links and address go; delivery builds the MIME message
// once per rendered variant around them (src/delivery/mime.ts finds them, through quoted-printable soft breaks) and
// fills in each recipient's values as it writes the message. Previews render with the real values instead.

/** The per-recipient links (signed tokens, src/subscriptions/subscriber-links.ts). */
export interface RecipientLinks {
  /** `${PUBLIC_URL}/unsubscribe/<signed token>`: the https List-Unsubscribe target (GET shows a page, POST unsubscribes). */
  unsubscribeUrl: string;
  /** `mailto:unsubscribe+<signed token>@MAIL_DOMAIN`. */
  unsubscribeMailto: string;
  manageUrl: string;
  /** The reader's "More like this" / "Less like this" link for a paper (absent for someone who is no subscriber). */
  feedback?: (paperId: number, signal: 'more' | 'less') => string;
}

/** Everything in a digest that differs per recipient. */
export interface RecipientSlots extends RecipientLinks {
  /** The recipient's address, for "sent to x@y" in the footer. */
  email: string;
}

export const SLOT_NAMES = ['unsubscribeUrl', 'unsubscribeMailto', 'manageUrl', 'email'] as const satisfies readonly (keyof RecipientSlots)[];
export type SlotName = (typeof SLOT_NAMES)[number];

/**
 * What the renderer writes instead of a recipient's values. URL- and address-shaped (a renderer may check), made
 * only of characters that Handlebars escaping, MJML, html-to-text and quoted-printable all leave alone, and distinct
 * enough never to occur by chance in a paper's text.
 */
export const SLOT_TOKENS: RecipientSlots = {
  unsubscribeUrl: 'https://pbx-placeholder.invalid/pbxUnsubscribeUrlXbp',
  unsubscribeMailto: 'mailto:pbxUnsubscribeMailtoXbp@pbx-placeholder.invalid',
  manageUrl: 'https://pbx-placeholder.invalid/pbxManageUrlXbp',
  email: 'pbxRecipientEmailXbp@pbx-placeholder.invalid',
};
