// Owns the short excerpt of an abstract shown on a paper card: its first two or three sentences, no raw URLs.

const ABBREVIATIONS = /(?:\b(?:e\.g|i\.e|et al|vs|etc|Fig|Eq|Sec|cf|approx|resp|No|Dr|St)\.|\b[A-Z]\.)$/;
const URL = /\bhttps?:\/\/\S+/gi;
const HAS_URL = /\bhttps?:\/\//i; // not global: .test() must not carry lastIndex from one sentence to the next

/** Sentences of a text; a period after "e.g." or an initial does not end one. */
export function sentences(text: string): string[] {
  const out: string[] = [];
  let current = '';
  for (const piece of text
    .replace(/\s+/g, ' ')
    .trim()
    .split(/(?<=[.!?])\s+(?=["“'([]?[A-Z0-9])/)) {
    current = current ? `${current} ${piece}` : piece;
    if (!ABBREVIATIONS.test(current)) {
      out.push(current);
      current = '';
    }
  }
  if (current) out.push(current);
  return out;
}

/**
 * Whole sentences, two or three when they fit in `maxChars`; only a first sentence longer than that is cut
 * (at a word, with an ellipsis). Sentences that carry a link ("Code is available at https://…") are left out:
 * the card shows links as buttons.
 */
export function excerpt(abstract: string, maxChars = 420): string {
  const all = sentences(abstract);
  const plain = all.filter((s) => !HAS_URL.test(s));
  const pool = plain.length ? plain : all.map((s) => s.replace(URL, '').replace(/\s+([.,;:])/g, '$1'));
  let out = '';
  for (const [count, s] of pool.entries()) {
    if (count >= 3) break;
    if (count > 0 && out.length + 1 + s.length > maxChars) break;
    out = out ? `${out} ${s}` : s;
  }
  if (out.length > maxChars) {
    const cut = out.slice(0, maxChars);
    out = cut.slice(0, Math.max(cut.lastIndexOf(' '), maxChars * 0.6)).replace(/[\s,;:.]+$/, '') + '…';
  }
  return out;
}
