// Owns reading urlencoded form bodies: one string per field, whatever a client sends.
export type FormBody = Record<string, unknown>;

/** The field's value as one string: the first of repeated fields, '' when missing or not text. */
export function field(body: unknown, name: string): string {
  if (!body || typeof body !== 'object') return '';
  const v = (body as FormBody)[name];
  const first = Array.isArray(v) ? v[0] : v;
  return typeof first === 'string' ? first : '';
}
