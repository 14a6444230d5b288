// Owns reading the few flat text fields of a small multipart/form-data body (the RFC 8058 one-click POST).
/** Repeated fields become arrays, as @fastify/formbody makes them, so no reader sees only the first one by accident. */
export function parseMultipartFields(body: string, contentType: string): Record<string, string | string[]> {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  // No prototype: a part named __proto__ or toString is a field like any other.
  const out: Record<string, string | string[]> = Object.create(null);
  if (!boundary) return out;
  for (const part of body.split(`--${boundary}`)) {
    const split = part.indexOf('\r\n\r\n');
    if (split < 0) continue;
    const name = /content-disposition:[^\r\n]*\bname="([^"]*)"/i.exec(part.slice(0, split))?.[1];
    if (name === undefined) continue;
    const value = part.slice(split + 4).replace(/\r\n$/, '');
    const had = out[name];
    if (had === undefined) out[name] = value;
    else if (Array.isArray(had)) had.push(value);
    else out[name] = [had, value];
  }
  return out;
}
