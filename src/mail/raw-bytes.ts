// Owns turning a RawMessage into the plain message bytes (undoing SMTP dot-stuffing when the sender did it up front).
import type { RawMessage } from './messenger.js';

const DOT = 0x2e;

/**
 * The smtp branch lets a sender dot-stuff a prebuilt message once per variant (`RawMessage.dotStuffed`).
 * nodemailer stuffs on the wire itself and the outbox stores the message as read, so both need it undone:
 * one leading dot removed from every line that starts with two.
 */
export function rawBytes(msg: RawMessage): Buffer {
  const buf = typeof msg.raw === 'string' ? Buffer.from(msg.raw, 'utf8') : Buffer.isBuffer(msg.raw) ? msg.raw : Buffer.concat(msg.raw);
  if (!(msg as RawMessage & { dotStuffed?: boolean }).dotStuffed) return buf;
  const parts: Buffer[] = [];
  let from = buf[0] === DOT && buf[1] === DOT ? 1 : 0;
  let at = buf.indexOf('\r\n..', from);
  while (at !== -1) {
    parts.push(buf.subarray(from, at + 2));
    from = at + 3;
    at = buf.indexOf('\r\n..', from);
  }
  parts.push(buf.subarray(from));
  return Buffer.concat(parts);
}
