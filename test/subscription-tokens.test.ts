// Signed link tokens: what they look like in mail, and that links mailed before the MAC was shortened still work.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signFeedbackToken, signSubscriberToken, verifyFeedbackToken, verifySubscriberToken } from '../src/subscriptions/tokens.js';

const SECRET = 'a-link-signing-key-of-enough-length';
// SpamAssassin's __BITCOIN_ID body rule (72_active.cf), the one behind PDS_BTC_ID.
const BITCOIN_ID =
  /\b(?<!=)(?:[13](?:(?:[-_=\s][a-km-zA-HJ-NP-Z1-9]){29,34}|[a-km-zA-HJ-NP-Z1-9]{29,34})|bc1[acdefghjklmnpqrstuvwxyz234567890]{30,90}|b[-_=\s]c[-_=\s]1(?:[-_=\s][acdefghjklmnpqrstuvwxyz234567890]){30,90})\b/;

describe('subscriber tokens', () => {
  it('never look like a Bitcoin address to SpamAssassin, in a link or a mailto', () => {
    const hits: string[] = [];
    for (let id = 1; id <= 5000; id++) {
      for (const purpose of ['manage', 'unsubscribe'] as const) {
        const t = signSubscriberToken(id, purpose, SECRET);
        const text = `https://news.example.org/preferences/${t}\nmailto:unsubscribe+${t}@news.example.org`;
        if (BITCOIN_ID.test(text)) hits.push(t);
      }
    }
    expect(hits).toEqual([]);
  });

  it('verify for their purpose only; a 32-hex token from mail sent before still verifies, a wrong one does not', () => {
    const t = signSubscriberToken(42, 'unsubscribe', SECRET);
    expect(t).toMatch(/^42-[0-9a-f]{28}$/);
    expect(verifySubscriberToken(t, 'unsubscribe', SECRET)).toBe(42);
    expect(verifySubscriberToken(t, 'manage', SECRET)).toBeNull();
    const old = `42-${createHmac('sha256', SECRET).update('paperboy:unsubscribe:42').digest('hex').slice(0, 32)}`;
    expect(verifySubscriberToken(old, 'unsubscribe', SECRET)).toBe(42);
    expect(verifySubscriberToken(old.toUpperCase(), 'unsubscribe', SECRET)).toBe(42);
    expect(verifySubscriberToken(`${old.slice(0, -1)}${old.endsWith('0') ? '1' : '0'}`, 'unsubscribe', SECRET)).toBeNull();
    expect(verifySubscriberToken(`42-${old.slice(3, 33)}`, 'unsubscribe', SECRET)).toBeNull();
  });
});

describe('feedback tokens', () => {
  it('name one reader and one paper, and nothing else opens them', () => {
    const t = signFeedbackToken(7, 1234, SECRET);
    expect(t).toMatch(/^7-1234-[0-9a-f]{28}$/);
    expect(verifyFeedbackToken(t, SECRET)).toEqual({ subscriberId: 7, paperId: 1234 });
    // The same MAC on another paper or reader, another key, or a subscriber token: all refused.
    const mac = t.split('-')[2];
    expect(verifyFeedbackToken(`7-1235-${mac}`, SECRET)).toBeNull();
    expect(verifyFeedbackToken(`8-1234-${mac}`, SECRET)).toBeNull();
    expect(verifyFeedbackToken(t, `${SECRET}-other`)).toBeNull();
    expect(verifyFeedbackToken(signSubscriberToken(7, 'manage', SECRET), SECRET)).toBeNull();
    expect(verifyFeedbackToken('7-0-abc', SECRET)).toBeNull();
  });

  it('never look like a Bitcoin address in a link', () => {
    const hits: string[] = [];
    for (let id = 1; id <= 3000; id++) {
      const t = signFeedbackToken(id, 100 + id, SECRET);
      if (BITCOIN_ID.test(`https://news.example.org/feedback/${t}/more`)) hits.push(t);
    }
    expect(hits).toEqual([]);
  });
});
