// The digest's HTML part stays under 90 KB at any size, with its footer: the longest abstracts, the longest links.
import { describe, expect, it } from 'vitest';
import { simpleParser } from 'mailparser';
import { longAbstractDigest } from './helpers/long-digest.js';

const BUDGET = 90 * 1024;
const LONG_EMAIL = `${'a'.repeat(50)}.reader@${'sub'.repeat(20)}.example.org`;

async function htmlPart(raw: Buffer): Promise<string> {
  const mail = await simpleParser(raw);
  if (typeof mail.html !== 'string') throw new Error('no HTML part');
  return mail.html;
}

function expectFooter(html: string, links: { unsubscribeUrl: string; manageUrl: string }, email: string): void {
  expect(html).toContain(`href="${links.unsubscribeUrl}"`);
  expect(html).toContain('>Unsubscribe</a>');
  expect(html).toContain(`href="${links.manageUrl}"`);
  expect(html).toContain(`You get this because ${email} subscribed`);
}

describe('digest size budget', () => {
  it('30 papers with the longest abstracts of the seeds stay under 90 KB, footer and unsubscribe link in', async () => {
    const d = await longAbstractDigest({ papers: 30, email: LONG_EMAIL });
    expect(d.count).toBe(30);
    const html = await htmlPart(d.raw);
    expect(Buffer.byteLength(html), 'HTML part bytes').toBeLessThan(BUDGET);
    expectFooter(html, d.links, LONG_EMAIL);
  });

  it('a long PUBLIC_URL (in every paper link) shortens the excerpts, never the footer', async () => {
    // 80 characters: with two feedback links per card (issue 16) five links a card start with it; 30 cards of the
    // 460-character URL tested before no longer fit whatever the excerpts (from about 140 characters they go to none).
    const publicUrl = `https://paperboy.example/${'deep/'.repeat(10)}site`;
    const d = await longAbstractDigest({ papers: 30, email: LONG_EMAIL, publicUrl });
    const html = await htmlPart(d.raw);
    expect(Buffer.byteLength(html), 'HTML part bytes').toBeLessThan(BUDGET);
    expectFooter(html, d.links, LONG_EMAIL);
    expect(d.links.unsubscribeUrl.startsWith(publicUrl)).toBe(true);
    // Still a digest with excerpts, only shorter ones, and the text part keeps them too.
    expect(html.match(/<div style="color:#33373d">/g)?.length).toBe(30);
  });

  it('one paper: in budget, with the footer', async () => {
    const d = await longAbstractDigest({ papers: 1, email: LONG_EMAIL });
    expect(d.count).toBe(1);
    const html = await htmlPart(d.raw);
    expect(Buffer.byteLength(html)).toBeLessThan(BUDGET);
    expectFooter(html, d.links, LONG_EMAIL);
  });
});
