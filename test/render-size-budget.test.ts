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
    // 80 characters: five links a card start with it (two of them feedback links, issue 16).
    const publicUrl = `https://paperboy.example/${'deep/'.repeat(10)}site`;
    const d = await longAbstractDigest({ papers: 30, email: LONG_EMAIL, publicUrl });
    const html = await htmlPart(d.raw);
    expect(Buffer.byteLength(html), 'HTML part bytes').toBeLessThan(BUDGET);
    expectFooter(html, d.links, LONG_EMAIL);
    expect(d.links.unsubscribeUrl.startsWith(publicUrl)).toBe(true);
    // Still a digest with excerpts, only shorter ones, and the text part keeps them too.
    expect(html.match(/<div style="color:#33373d">/g)?.length).toBe(30);
  });

  it('a 460-character PUBLIC_URL: when no excerpt length fits, the last cards go, never the footer', async () => {
    const publicUrl = `https://paperboy.example/${'deep/'.repeat(90)}site`;
    const d = await longAbstractDigest({ papers: 30, email: LONG_EMAIL, publicUrl });
    expect(d.selected).toHaveLength(30);
    // Fewer cards than selected, the first ones in rank order, and the message says how many it carries.
    expect(d.count).toBeLessThan(30);
    expect(d.count).toBeGreaterThan(0);
    expect(d.shown).toEqual(d.selected.slice(0, d.count));
    for (const raw of [d.raw, d.renderedRaw]) {
      const html = await htmlPart(raw);
      expect(Buffer.byteLength(html), 'HTML part bytes').toBeLessThan(BUDGET);
      expectFooter(html, d.links, LONG_EMAIL);
    }
    const html = await htmlPart(d.raw);
    expect(html.match(/class="why"/g)).toHaveLength(d.count);
    const mail = await simpleParser(d.raw);
    // The Subject counts the cards the message carries, not the ones selected.
    expect(mail.subject).toContain(`+ ${d.count - 1} more new papers`);
    // The full render (a test send's path) keeps the same first cards.
    const rendered = d.rendered.paperIds ?? [];
    expect(rendered.length).toBeLessThan(30);
    expect(rendered).toEqual(d.selected.slice(0, rendered.length));
  });

  it('one paper: in budget, with the footer', async () => {
    const d = await longAbstractDigest({ papers: 1, email: LONG_EMAIL });
    expect(d.count).toBe(1);
    const html = await htmlPart(d.raw);
    expect(Buffer.byteLength(html)).toBeLessThan(BUDGET);
    expectFooter(html, d.links, LONG_EMAIL);
  });
});
