// Owns the addresses mail comes back to: each digest's VERP envelope sender (bounces+TOKEN@BOUNCE_DOMAIN) and the
// complaints address for feedback loops, and reading a delivery back out of a VERP address.
import type { Config } from '../config.js';
import { signSubscriberToken, verifySubscriberToken } from '../subscriptions/tokens.js';

type ReturnConfig = Pick<Config, 'MAIL_DOMAIN' | 'BOUNCE_DOMAIN' | 'COMPLAINTS_ADDRESS'>;

const VERP_PREFIX = 'bounces+';

export function bounceDomain(config: ReturnConfig): string {
  return (config.BOUNCE_DOMAIN ?? config.MAIL_DOMAIN).toLowerCase();
}

export function complaintsAddress(config: ReturnConfig): string {
  return (config.COMPLAINTS_ADDRESS ?? `abuse@${config.MAIL_DOMAIN}`).toLowerCase();
}

/**
 * The envelope sender of one delivery. Signed, so a bounce names its delivery without guessing from the report's
 * text, and nobody can make paperboy count bounces against a delivery they never saw (the token is only in the
 * Return-Path of that one message). At most 52 characters of local part: under RFC 5321's 64.
 */
export function verpSender(deliveryId: number, secret: string, config: ReturnConfig): string {
  return `${VERP_PREFIX}${signSubscriberToken(deliveryId, 'bounce', secret)}@${bounceDomain(config)}`;
}

/** The token of `bounces+TOKEN@BOUNCE_DOMAIN`, unverified, or null for any other address. */
export function verpToken(address: string, config: ReturnConfig): string | null {
  const at = address.lastIndexOf('@');
  if (at < 1 || address.slice(at + 1).toLowerCase() !== bounceDomain(config)) return null;
  const local = address.slice(0, at);
  if (!local.toLowerCase().startsWith(VERP_PREFIX)) return null;
  const token = local.slice(VERP_PREFIX.length);
  return /^[0-9]{1,15}-(?:[0-9a-f]{28}|[0-9a-f]{32})$/i.test(token) ? token : null;
}

/** The delivery a VERP token was signed for, or null when it does not verify. */
export function verpDeliveryId(token: string, secret: string): number | null {
  return verifySubscriberToken(token, 'bounce', secret);
}
