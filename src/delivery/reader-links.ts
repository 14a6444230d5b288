// Owns what a digest links for one reader: their signed preferences and unsubscribe links, and a feedback link per paper.
import { feedbackUrl, subscriberLinks, type LinkConfig } from '../subscriptions/subscriber-links.js';
import type { RecipientLinks } from '../render/placeholders.js';

export function readerLinks(cfg: LinkConfig, secret: string, subscriberId: number): RecipientLinks {
  const { manageUrl, unsubscribeUrl, unsubscribeMailto } = subscriberLinks(cfg, secret, subscriberId);
  return { manageUrl, unsubscribeUrl, unsubscribeMailto, feedback: (paperId, signal) => feedbackUrl(cfg, secret, subscriberId, paperId, signal) };
}
