// Owns turning a RawMessage into the plain message bytes (undoing SMTP dot-stuffing when the sender did it up front).
import type { RawMessage } from './messenger.js';
import { unStuff } from './smtp-wire.js';

/**
 * A sender may dot-stuff a prebuilt message once per variant (`RawMessage.dotStuffed`) for the pipelining client.
 * nodemailer stuffs on the wire itself and the outbox stores the message as read, so both need it undone.
 */
export function rawBytes(msg: RawMessage): Buffer {
  const buf = typeof msg.raw === 'string' ? Buffer.from(msg.raw, 'utf8') : Buffer.isBuffer(msg.raw) ? msg.raw : Buffer.concat(msg.raw);
  return msg.dotStuffed ? unStuff(buf) : buf;
}
