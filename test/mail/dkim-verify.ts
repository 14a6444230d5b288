// Owns a small DKIM checker for tests (rsa-sha256, relaxed/relaxed), written from RFC 6376 rather than the signer's code.
import { createHash, createVerify, type KeyObject } from 'node:crypto';

function unfold(s: string): string {
  return s.replace(/\r\n(?=[ \t])/g, '');
}

/** RFC 6376 3.4.2 */
function relaxedHeader(name: string, value: string): string {
  return `${name.toLowerCase()}:${unfold(value)
    .replace(/[ \t]+/g, ' ')
    .replace(/\s+$/, '')
    .replace(/^\s+/, '')}`;
}

/** RFC 6376 3.4.4 */
function relaxedBody(body: string): string {
  const lines = body.split('\r\n').map((l) => l.replace(/[ \t]+/g, ' ').replace(/ $/, ''));
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.length === 0 ? '' : lines.join('\r\n') + '\r\n';
}

export interface DkimCheck {
  ok: boolean;
  bodyHashOk: boolean;
  signedHeaders: string[];
  domain: string;
  selector: string;
}

/** Verifies the first DKIM-Signature of `raw` against `publicKey`. */
export function verifyDkim(raw: string, publicKey: KeyObject): DkimCheck {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split + 2);
  const body = raw.slice(split + 4);
  // header fields, folded lines kept with their field
  const fields = head
    .split(/\r\n(?![ \t])/)
    .filter(Boolean)
    .map((f) => {
      const colon = f.indexOf(':');
      return { name: f.slice(0, colon), value: f.slice(colon + 1) };
    });
  const sigField = fields.find((f) => f.name.toLowerCase() === 'dkim-signature');
  if (!sigField) throw new Error('no DKIM-Signature');
  const tags = new Map(
    unfold(sigField.value)
      .split(';')
      .map((t) => t.trim())
      .filter(Boolean)
      .map((t) => [t.slice(0, t.indexOf('=')).trim(), t.slice(t.indexOf('=') + 1).replace(/\s+/g, '')] as [string, string]),
  );
  const signedHeaders = tags
    .get('h')!
    .split(':')
    .map((h) => h.trim().toLowerCase());
  const bodyHash = createHash('sha256').update(relaxedBody(body)).digest('base64');
  // each listed name takes the next instance from the bottom (RFC 6376 5.4.2)
  const used = new Map<string, number>();
  const lines: string[] = [];
  for (const name of signedHeaders) {
    const instances = fields.filter((f) => f.name.toLowerCase() === name && f !== sigField);
    const n = used.get(name) ?? 0;
    const f = instances[instances.length - 1 - n];
    used.set(name, n + 1);
    if (f) lines.push(relaxedHeader(f.name, f.value) + '\r\n');
  }
  const sigWithoutB = relaxedHeader(sigField.name, sigField.value.replace(/(\bb=)[^;]*/, '$1'));
  const verifier = createVerify('RSA-SHA256');
  verifier.update(lines.join('') + sigWithoutB);
  return {
    ok: verifier.verify(publicKey, tags.get('b')!, 'base64'),
    bodyHashOk: tags.get('bh') === bodyHash,
    signedHeaders,
    domain: tags.get('d')!,
    selector: tags.get('s')!,
  };
}
