// Owns the URLs and addresses that reach a subscriber's own pages: confirm, preferences, unsubscribe (https and mailto).
import { signFeedbackToken, signSubscriberToken } from './tokens.js';

export interface LinkConfig {
  PUBLIC_URL: string;
  MAIL_DOMAIN: string;
}

export function confirmUrl(cfg: LinkConfig, token: string): string {
  return `${cfg.PUBLIC_URL}/confirm/${token}`;
}

/** Site-relative paths for the pages themselves (links in email need `subscriberLinks`). */
export function subscriberPaths(secret: string, subscriberId: number) {
  return {
    managePath: `/preferences/${signSubscriberToken(subscriberId, 'manage', secret)}`,
    unsubscribePath: `/unsubscribe/${signSubscriberToken(subscriberId, 'unsubscribe', secret)}`,
  };
}

/** Everything a digest or notice needs to let the reader manage or leave; `List-Unsubscribe` is built from these. */
export function subscriberLinks(cfg: LinkConfig, secret: string, subscriberId: number) {
  const unsub = signSubscriberToken(subscriberId, 'unsubscribe', secret);
  return {
    manageUrl: `${cfg.PUBLIC_URL}/preferences/${signSubscriberToken(subscriberId, 'manage', secret)}`,
    unsubscribeUrl: `${cfg.PUBLIC_URL}/unsubscribe/${unsub}`,
    unsubscribeMailto: `mailto:unsubscribe+${unsub}@${cfg.MAIL_DOMAIN}`,
    /** Ready-made RFC 2369 / RFC 8058 headers. */
    headers: {
      'List-Unsubscribe': `<${cfg.PUBLIC_URL}/unsubscribe/${unsub}>, <mailto:unsubscribe+${unsub}@${cfg.MAIL_DOMAIN}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
  };
}

export type FeedbackSignal = 'more' | 'less';

/**
 * `${PUBLIC_URL}/feedback/<signed reader+paper>/<more|less>`: a GET only shows the paper and one button (link
 * scanners follow every GET); the button's POST records the feedback.
 */
export function feedbackUrl(cfg: LinkConfig, secret: string, subscriberId: number, paperId: number, signal: FeedbackSignal): string {
  return `${cfg.PUBLIC_URL}/feedback/${signFeedbackToken(subscriberId, paperId, secret)}/${signal}`;
}

/** The reader's private Atom feed of the digests sent to them: its own token, so the feed URL opens nothing else. */
export function readerFeedPath(secret: string, subscriberId: number): string {
  return `/feeds/${signSubscriberToken(subscriberId, 'feed', secret)}/atom.xml`;
}
