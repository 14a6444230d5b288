// Owns which invisible direction controls corpus text may not carry, and removing them: one rule for pages and fetches.

/**
 * Embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) and the marks (U+200E, U+200F, U+061C):
 * a title holding U+202E shows reversed in pages and in a mail client's Subject line, so a title can pose as another.
 * Titles in English need none of them; Arabic and Hebrew text reads right without them.
 */
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const HAS_BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** The text without bidi controls; the same string (no copy) when it has none, as nearly all text does. */
export function stripBidiControls(s: string): string {
  return HAS_BIDI.test(s) ? s.replace(BIDI_CONTROLS, '') : s;
}
