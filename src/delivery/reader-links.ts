// Owns what a digest links for one reader: their signed preferences and unsubscribe links, and a feedback link per paper.
import { feedbackUrl, subscriberLinks, type LinkConfig } from '../subscriptions/subscriber-links.js';
import type { RecipientLinks } from '../render/placeholders.js';

export function readerLinks(cfg: LinkConfig, secret: string, subscriberId: number): RecipientLinks {
  const { manageUrl, unsubscribeUrl, unsubscribeMailto } = subscriberLinks(cfg, secret, subscriberId);
  // One HMAC per paper: "more" and "less" share the signed reader+paper token, only the last path segment differs.
  const more = new Map<number, string>();
  const feedback = (paperId: number, signal: 'more' | 'less') => {
    let url = more.get(paperId);
    if (url === undefined) {
      url = feedbackUrl(cfg, secret, subscriberId, paperId, 'more');
      if (more.size > 200) more.clear();
      more.set(paperId, url);
    }
    return signal === 'more' ? url : `${url.slice(0, -'more'.length)}less`;
  };
  return { manageUrl, unsubscribeUrl, unsubscribeMailto, feedback };
}
