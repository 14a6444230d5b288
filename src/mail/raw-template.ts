// Owns per-recipient personalisation of a prebuilt message: the bytes are split once at placeholders, then each
// recipient costs one allocation and a few copies.

export interface RawTemplate {
  /** Bytes with every placeholder replaced; values must not contain line breaks (no header injection). */
  render(values: Record<string, string>): Buffer;
  /** Placeholders found, in order of appearance (repeats included). */
  readonly slots: readonly string[];
}

const CRLF_BREAK = /[\r\n]/;

/**
 * `prepared` is the message as it will be handed over: for the SMTP fast path already dot-stuffed (smtp-wire
 * `dotStuff`), in which case a value landing at the start of a line that begins with '.' gets its dot doubled.
 * Placeholders are literal tokens (e.g. `%%UNSUB%%`) that the MIME encoding left intact: put them in headers or
 * in 7-bit body lines short enough not to be folded.
 */
export function compileRawTemplate(prepared: Buffer, placeholders: readonly string[], opts: { dotStuffed: boolean }): RawTemplate {
  const tokens = placeholders.map((p) => ({ name: p, bytes: Buffer.from(p, 'utf8') }));
  const statics: Buffer[] = [];
  const slots: string[] = [];
  const atLineStart: boolean[] = [];
  let from = 0;
  for (;;) {
    let best = -1;
    let which = -1;
    for (let t = 0; t < tokens.length; t++) {
      const at = prepared.indexOf(tokens[t]!.bytes, from);
      if (at !== -1 && (best === -1 || at < best)) {
        best = at;
        which = t;
      }
    }
    if (best === -1) break;
    statics.push(prepared.subarray(from, best));
    slots.push(tokens[which]!.name);
    atLineStart.push(best === 0 || prepared[best - 1] === 10);
    from = best + tokens[which]!.bytes.length;
  }
  statics.push(prepared.subarray(from));
  const staticLength = statics.reduce((n, b) => n + b.length, 0);

  return {
    slots,
    render(values) {
      const encoded: Buffer[] = new Array(slots.length);
      let total = staticLength;
      for (let i = 0; i < slots.length; i++) {
        const v = values[slots[i]!];
        if (v === undefined) throw new Error(`no value for placeholder ${slots[i]}`);
        if (CRLF_BREAK.test(v)) throw new Error(`value for ${slots[i]} contains a line break`);
        const b = Buffer.from(opts.dotStuffed && atLineStart[i] && v.startsWith('.') ? '.' + v : v, 'utf8');
        encoded[i] = b;
        total += b.length;
      }
      const out = Buffer.allocUnsafe(total);
      let o = statics[0]!.copy(out, 0);
      for (let i = 0; i < slots.length; i++) {
        o += encoded[i]!.copy(out, o);
        o += statics[i + 1]!.copy(out, o);
      }
      return out;
    },
  };
}
