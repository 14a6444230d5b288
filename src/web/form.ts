// Owns reading urlencoded form bodies: one string per field, whatever a client sends.
export type FormBody = Record<string, unknown>;

/** The field's value as one string: the first of repeated fields, '' when missing or not text. */
export function field(body: unknown, name: string): string {
  if (!body || typeof body !== 'object') return '';
  const v = (body as FormBody)[name];
  const first = Array.isArray(v) ? v[0] : v;
  return typeof first === 'string' ? first : '';
}

/**
 * True when any repetition of the field holds something. For a honeypot: reading only the first value would let a
 * bot send `website=&website=spam` past it, so every value counts, and so does anything that is not a string.
 */
export function anyFilled(body: unknown, name: string): boolean {
  if (!body || typeof body !== 'object') return false;
  const v = (body as FormBody)[name];
  if (v === undefined) return false;
  return (Array.isArray(v) ? v : [v]).some((x) => x !== '');
}
