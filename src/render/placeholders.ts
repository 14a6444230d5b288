// Owns the per-recipient slots of a rendered digest: unguessable tokens, split once, filled by string joins.
import { randomBytes } from 'node:crypto';

export const PLACEHOLDER_NAMES = ['UNSUBSCRIBE_URL', 'MANAGE_URL', 'EMAIL', 'GREETING'] as const;
export type PlaceholderName = (typeof PLACEHOLDER_NAMES)[number];
export type Placeholders = Record<PlaceholderName, string>;

/**
 * Tokens like `PBX5f0c…e1XUNSUBSCRIBE_URLX`: a fresh 128-bit nonce per renderer, so corpus text cannot
 * contain one, and only [A-Za-z0-9_] so neither MJML, HTML attribute quoting nor URL handling alters them.
 */
export function makePlaceholders(): Placeholders {
  const nonce = randomBytes(16).toString('hex');
  return Object.fromEntries(PLACEHOLDER_NAMES.map((n) => [n, `PBX${nonce}X${n}X`])) as Placeholders;
}

/** A template split at its placeholders: even entries are literal text, odd entries placeholder names. */
export type Parts = readonly string[];

export function splitParts(text: string, placeholders: Placeholders): Parts {
  const byToken = new Map(Object.entries(placeholders).map(([name, token]) => [token, name]));
  const nonce = placeholders.UNSUBSCRIBE_URL.slice(0, 3 + 32);
  const re = new RegExp(`${nonce}X([A-Z_]+)X`, 'g');
  const parts: string[] = [];
  let last = 0;
  for (const m of text.matchAll(re)) {
    const name = byToken.get(m[0]);
    if (!name) throw new Error(`unknown placeholder ${m[0]}`);
    parts.push(text.slice(last, m.index), name);
    last = m.index + m[0].length;
  }
  parts.push(text.slice(last));
  return parts;
}

export function fillParts(parts: Parts, values: Record<PlaceholderName, string>): string {
  let out = parts[0]!;
  for (let i = 1; i < parts.length; i += 2) out += values[parts[i] as PlaceholderName] + parts[i + 1]!;
  return out;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}
