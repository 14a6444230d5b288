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
  // Worst case every byte becomes two (".\n" lines), plus the final CRLF.
  const out = Buffer.allocUnsafe(src.length * 2 + 2);
  let o = 0;
  let lineStart = true;
  let i = 0;
  const n = src.length;
  while (i < n) {
    if (lineStart && src[i] === DOT) out[o++] = DOT;
    // Copy the run up to the next CR or LF in one go.
    let j = i;
    while (j < n) {
      const c = src[j]!;
      if (c === LF || c === CR) break;
      j++;
    }
    if (j > i) {
      src.copy(out, o, i, j);
      o += j - i;
    }
    if (j >= n) {
      lineStart = false;
      i = j;
      break;
    }
    // A line break: CRLF, lone LF or lone CR all become CRLF.
    out[o++] = CR;
    out[o++] = LF;
    i = src[j] === CR && src[j + 1] === LF ? j + 2 : j + 1;
    lineStart = true;
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

/** An address for MAIL FROM / RCPT TO: no brackets, spaces or line breaks (no command injection). */
export function envelopeAddress(addr: string): string {
  if (/[\r\n<>\s]/.test(addr) || addr.length > 320) throw new Error(`invalid envelope address ${JSON.stringify(addr.slice(0, 80))}`);
  return addr;
}
