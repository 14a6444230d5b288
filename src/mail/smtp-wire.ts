// Owns the SMTP wire format: the connection URL, reply parsing, and dot-stuffing a message body once.

/** What an `SMTP_URL` asks for. */
export interface SmtpTarget {
  host: string;
  port: number;
  /** smtps://: TLS from the first byte. */
  implicitTls: boolean;
  /** smtp:// only: `required` fails without STARTTLS, `opportunistic` upgrades when offered, `never` stays plain. */
  starttls: 'required' | 'opportunistic' | 'never';
  user?: string;
  pass?: string;
  /** Accept self-signed certificates (`?tls_reject_unauthorized=false`), for tests and local relays. */
  rejectUnauthorized: boolean;
  /** Name given in EHLO (`?name=`), defaults to the machine's host name. */
  name?: string;
}

/**
 * smtp://user:pass@host:587?starttls=required | smtps://host:465 | smtp://localhost:25?starttls=never.
 * Plain smtp:// upgrades with STARTTLS when the server offers it (like nodemailer), unless told otherwise.
 */
export function parseSmtpUrl(url: string): SmtpTarget {
  const u = new URL(url);
  const implicitTls = u.protocol === 'smtps:';
  if (!implicitTls && u.protocol !== 'smtp:') throw new Error(`SMTP URL must start with smtp:// or smtps://, got ${u.protocol}//`);
  const q = u.searchParams;
  const starttlsParam = (q.get('starttls') ?? 'opportunistic').toLowerCase();
  const starttls =
    starttlsParam === 'required' || starttlsParam === 'true' || starttlsParam === '1'
      ? 'required'
      : starttlsParam === 'never' || starttlsParam === 'false' || starttlsParam === '0'
        ? 'never'
        : 'opportunistic';
  const reject = (q.get('tls_reject_unauthorized') ?? 'true').toLowerCase();
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost',
    port: u.port ? Number(u.port) : implicitTls ? 465 : 587,
    implicitTls,
    starttls: implicitTls ? 'never' : starttls,
    user: u.username ? decodeURIComponent(u.username) : undefined,
    pass: u.password ? decodeURIComponent(u.password) : undefined,
    rejectUnauthorized: !(reject === 'false' || reject === '0' || reject === 'no'),
    name: q.get('name') ?? undefined,
  };
}

/** One complete (possibly multi-line) server reply. */
export interface SmtpReply {
  code: number;
  /** RFC 3463 code such as "5.1.1", when the server gave one. */
  enhanced?: string;
  /** Every line joined by newlines, codes included, as the server wrote them. */
  text: string;
  /** Lines without the leading "250-" / "250 ". */
  lines: string[];
}

const ENHANCED = /^([245]\.\d{1,3}\.\d{1,3})\b/;

/**
 * Splits the server's byte stream into replies. Replies are tiny and arrive in order, so a latin1 string
 * buffer is enough; `onReply` is called once per complete reply.
 */
export class ReplyParser {
  private buf = '';
  private lines: string[] = [];
  private raw: string[] = [];

  constructor(private readonly onReply: (reply: SmtpReply) => void) {}

  push(chunk: Buffer): void {
    this.buf += chunk.toString('latin1');
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) !== -1) {
      const line = this.buf.charCodeAt(nl - 1) === 13 ? this.buf.slice(0, nl - 1) : this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      this.raw.push(line);
      this.lines.push(line.slice(4));
      // "250-" continues a reply, "250 " (or a bare "250") ends it.
      if (line.length <= 3 || line.charCodeAt(3) !== 45 /* - */) {
        const code = Number(line.slice(0, 3));
        const lines = this.lines;
        const text = this.raw.join('\n');
        this.lines = [];
        this.raw = [];
        const m = ENHANCED.exec(lines[lines.length - 1] ?? '') ?? ENHANCED.exec(lines[0] ?? '');
        this.onReply({ code: Number.isFinite(code) ? code : 0, enhanced: m?.[1], text, lines });
      }
    }
    // A server that never ends a line is broken; keep memory bounded.
    if (this.buf.length > 64 * 1024) throw new Error('SMTP server sent a line longer than 64 KiB');
  }
}

/** Extensions from an EHLO reply: keyword (upper case) -> parameters. */
export function parseEhlo(reply: SmtpReply): Map<string, string> {
  const ext = new Map<string, string>();
  for (const line of reply.lines.slice(1)) {
    const [kw, ...params] = line.trim().split(/\s+/);
    if (kw) ext.set(kw.toUpperCase(), params.join(' '));
  }
  return ext;
}

const LF = 10;
const CR = 13;
const DOT = 46;

/**
 * The body as it goes on the wire after DATA: every line ending CRLF (bare LF or CR become CRLF), a '.'
 * doubled at the start of each line, and a final CRLF. The terminating ".\r\n" is NOT included. Do this once
 * per rendered variant; per recipient only substitute values that contain no line breaks.
 */
export function dotStuff(input: Buffer | string): Buffer {
  const src = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  return stuffCleanCrlf(src) ?? stuffAnything(src);
}

/**
 * The common case (what a CRLF-clean template gives): every LF preceded by CR and every CR followed by LF. Works
 * on a latin1 view (bytes map 1:1 to chars) because V8's string search is far cheaper per call than
 * Buffer.indexOf; only the dots at line starts are spliced in. Null when the line endings need repairing.
 */
function stuffCleanCrlf(src: Buffer): Buffer | null {
  const n = src.length;
  const text = src.toString('latin1');
  const dots: number[] = [];
  if (text.charCodeAt(0) === DOT) dots.push(0);
  let lfs = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) {
    if (text.charCodeAt(at - 1) !== CR) return null;
    if (text.charCodeAt(at + 1) === DOT) dots.push(at + 1);
    lfs++;
  }
  let crs = 0;
  for (let at = text.indexOf('\r'); at !== -1; at = text.indexOf('\r', at + 1)) crs++;
  // Every LF has its CR, so equal counts leave no bare CR.
  if (crs !== lfs) return null;
  const endsClean = n === 0 || text.endsWith('\r\n');
  if (dots.length === 0 && endsClean) return src;
  const out = Buffer.allocUnsafe(n + dots.length + (endsClean ? 0 : 2));
  let o = 0;
  let from = 0;
  for (const at of dots) {
    o += src.copy(out, o, from, at);
    out[o++] = DOT;
    from = at;
  }
  o += src.copy(out, o, from, n);
  if (!endsClean) {
    out[o++] = CR;
    out[o++] = LF;
  }
  return out;
}

/** Bare LFs (MIME composers leave them to the SMTP layer): split into lines and join with CRLF. */
function stuffAnything(src: Buffer): Buffer {
  const text = src.toString('latin1');
  const lines = text.split('\n');
  const last = lines.length - 1;
  for (let i = 0; i <= last; i++) {
    let line = lines[i]!;
    // A CR right before the LF belongs to it; after the last LF there is no LF to belong to.
    if (i < last && line.charCodeAt(line.length - 1) === CR) line = line.slice(0, -1);
    if (line.includes('\r')) return stuffBytes(src);
    if (line.charCodeAt(0) === DOT) line = '.' + line;
    lines[i] = line;
  }
  let out = lines.join('\r\n');
  if (out.length > 0 && !out.endsWith('\r\n')) out += '\r\n';
  return Buffer.from(out, 'latin1');
}

/** Any line endings, bare CRs included: one byte-by-byte pass rewriting them all to CRLF while stuffing. */
function stuffBytes(src: Buffer): Buffer {
  const n = src.length;
  // Worst case every byte becomes two (".\n" lines), plus the final CRLF.
  const out = Buffer.allocUnsafe(n * 2 + 2);
  let o = 0;
  let lineStart = true;
  for (let i = 0; i < n; i++) {
    const c = src[i]!;
    if (c === LF || c === CR) {
      out[o++] = CR;
      out[o++] = LF;
      if (c === CR && src[i + 1] === LF) i++;
      lineStart = true;
      continue;
    }
    if (lineStart && c === DOT) out[o++] = DOT;
    out[o++] = c;
    lineStart = false;
  }
  if (!lineStart) {
    out[o++] = CR;
    out[o++] = LF;
  }
  return Buffer.from(out.subarray(0, o));
}

/** Undoes dotStuff's doubling (for messengers that store rather than speak SMTP, e.g. the outbox). */
export function unStuff(stuffed: Buffer): Buffer {
  const parts: Buffer[] = [];
  let from = 0;
  if (stuffed[0] === DOT && stuffed[1] === DOT) from = 1;
  let at = stuffed.indexOf('\r\n..', from);
  while (at !== -1) {
    parts.push(stuffed.subarray(from, at + 2));
    from = at + 3;
    at = stuffed.indexOf('\r\n..', from);
  }
  if (parts.length === 0 && from === 0) return stuffed;
  parts.push(stuffed.subarray(from));
  return Buffer.concat(parts);
}
