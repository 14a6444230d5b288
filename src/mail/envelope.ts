// Owns checking addresses before they reach an SMTP command or a header line: one mailbox, no control characters.
import addressparser from 'nodemailer/lib/addressparser';
import { SendError } from './messenger.js';

/**
 * An addr-spec as paperboy sends to: printable, no spaces, quotes, angle brackets, commas or semicolons.
 * Stricter than RFC 5321 on purpose (quoted local parts are legal but are how addresses get smuggled).
 * nodemailer would otherwise "repair" `a@x.org\r\nRCPT TO:<evil@y.org>` into a send to evil@y.org.
 */
const MAILBOX = /^[^\s@"<>(),;:\\[\]\x00-\x1f\x7f]{1,64}@[^\s@"<>(),;:\\[\]\x00-\x1f\x7f]{1,253}$/u;

export function isMailbox(address: string): boolean {
  return address.length <= 254 && MAILBOX.test(address);
}

function refuse(what: string, value: string): never {
  throw new SendError(`invalid ${what} ${JSON.stringify(value.slice(0, 200))}`, 'permanent');
}

/** Throws a permanent SendError unless every envelope address is one plain mailbox. */
export function checkEnvelope(envelope: { from: string; to: string[] }): void {
  // The empty reverse path (<>) is legal: it is what bounces and auto-replies use.
  if (envelope.from !== '' && !isMailbox(envelope.from)) refuse('envelope sender', envelope.from);
  if (envelope.to.length === 0) throw new SendError('no envelope recipients', 'permanent');
  for (const to of envelope.to) if (!isMailbox(to)) refuse('envelope recipient', to);
}

/** `To:` of a composed message: exactly one mailbox, with or without a display name. */
export function checkSingleRecipient(to: string): void {
  if (/[\r\n\x00]/.test(to)) refuse('recipient', to);
  const parsed = addressparser(to, { flatten: true });
  if (parsed.length !== 1 || !parsed[0]!.address || !isMailbox(parsed[0]!.address)) refuse('recipient', to);
}

/** The envelope sender: the address inside MAIL_FROM's angle brackets, or all of it. */
export function envelopeFrom(mailFrom: string): string {
  const m = /<([^<>\s]+)>\s*$/.exec(mailFrom);
  return m ? m[1]! : mailFrom.trim();
}
