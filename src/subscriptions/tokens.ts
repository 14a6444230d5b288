// Owns the two kinds of link secrets: random single-use confirm tokens, and HMAC-signed manage/unsubscribe tokens.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** 256 random bits, URL-safe; only its sha256 is stored. */
export function newConfirmToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashConfirmToken(token) };
}

export function hashConfirmToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A confirm token as we mint them: 43 base64url characters. Anything else is not looked up at all. */
export function looksLikeConfirmToken(token: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(token);
}

/**
 * `bounce` tokens name a delivery, not a subscriber: the VERP envelope sender of that one message. `feed` opens only
 * the reader's private Atom feed (issue 16): a URL that goes into feed readers must not also open the preferences.
 */
export type TokenPurpose = 'manage' | 'unsubscribe' | 'bounce' | 'feed';

// 112 bits of MAC in lower-case hex: case-insensitive so it survives mail systems that fold the local part of
// `unsubscribe+<token>@domain`, and short enough to keep that local part under 64 characters. Not 32: SpamAssassin's
// __BITCOIN_ID (PDS_BTC_ID, +1.0) reads any 30-35 character base58 word starting with 1 or 3 as a Bitcoin address,
// and a 32-hex MAC is one about 1 time in 60. 28 characters are too short for that rule. Links already mailed carry
// 32 and still verify.
const MAC_HEX = 28;
const OLD_MAC_HEX = 32;

function mac(id: number, purpose: TokenPurpose, secret: string, length = MAC_HEX): string {
  // An empty or toy key would make every link forgeable: refuse rather than sign with it.
  if (secret.length < 16) throw new Error('the link-signing key (SECRET_KEY) is missing or too short');
  return createHmac('sha256', secret).update(`paperboy:${purpose}:${id}`).digest('hex').slice(0, length);
}

/** `<id>-<mac>`: names the subscriber (a delivery, for `bounce`) and proves it came from us, for one purpose only. */
export function signSubscriberToken(id: number, purpose: TokenPurpose, secret: string): string {
  if (!Number.isSafeInteger(id) || id < 1) throw new Error(`not an id: ${id}`);
  return `${id}-${mac(id, purpose, secret)}`;
}

/** The subscriber id when the token is ours and for this purpose, else null. Constant-time on the MAC. */
export function verifySubscriberToken(token: string, purpose: TokenPurpose, secret: string): number | null {
  const m = /^([1-9]\d{0,14})-([0-9a-f]{28}|[0-9a-f]{32})$/.exec(token.trim().toLowerCase());
  if (!m) return null;
  const id = Number(m[1]);
  const given = Buffer.from(m[2]!, 'utf8');
  const expected = Buffer.from(mac(id, purpose, secret, given.length === OLD_MAC_HEX ? OLD_MAC_HEX : MAC_HEX), 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected) ? id : null;
}

/**
 * `<subscriber>-<paper>-<mac>`: a feedback link names one reader and one paper (issue 16), so a link forwarded or
 * scraped from one email cannot rate other papers, and no other token's MAC opens it.
 */
export function signFeedbackToken(subscriberId: number, paperId: number, secret: string): string {
  for (const id of [subscriberId, paperId]) if (!Number.isSafeInteger(id) || id < 1) throw new Error(`not an id: ${id}`);
  return `${subscriberId}-${paperId}-${feedbackMac(subscriberId, paperId, secret)}`;
}

function feedbackMac(subscriberId: number, paperId: number, secret: string): string {
  if (secret.length < 16) throw new Error('the link-signing key (SECRET_KEY) is missing or too short');
  return createHmac('sha256', secret).update(`paperboy:feedback:${subscriberId}:${paperId}`).digest('hex').slice(0, MAC_HEX);
}

/** The reader and paper when the token is ours, else null. Constant-time on the MAC. */
export function verifyFeedbackToken(token: string, secret: string): { subscriberId: number; paperId: number } | null {
  const m = /^([1-9]\d{0,14})-([1-9]\d{0,14})-([0-9a-f]{28})$/.exec(token.trim().toLowerCase());
  if (!m) return null;
  const subscriberId = Number(m[1]);
  const paperId = Number(m[2]);
  const given = Buffer.from(m[3]!, 'utf8');
  const expected = Buffer.from(feedbackMac(subscriberId, paperId, secret), 'utf8');
  return timingSafeEqual(given, expected) ? { subscriberId, paperId } : null;
}
