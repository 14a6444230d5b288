// Owns reading the few flat text fields of a small multipart/form-data body (the RFC 8058 one-click POST).
export function parseMultipartFields(body: string, contentType: string): Record<string, string> {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  const out: Record<string, string> = {};
  if (!boundary) return out;
  for (const part of body.split(`--${boundary}`)) {
    const split = part.indexOf('\r\n\r\n');
    if (split < 0) continue;
    const name = /content-disposition:[^\r\n]*\bname="([^"]*)"/i.exec(part.slice(0, split))?.[1];
    if (name !== undefined && !(name in out)) out[name] = part.slice(split + 4).replace(/\r\n$/, '');
  }
  return out;
}
