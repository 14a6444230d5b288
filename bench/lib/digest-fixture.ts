// Owns the bench's stand-in digest: one ~45 KB multipart message built once by the sender's own message builder
// (src/delivery/mime.ts), personalised per recipient the way the sender does it.
import { createHmac } from 'node:crypto';
import { buildTemplate, personalise, personaliseForWire, type Recipient } from '../../src/delivery/mime.js';
import { SLOT_TOKENS } from '../../src/render/placeholders.js';

export interface DigestFixture {
  /** Size of one personalised message in bytes (before stuffing). */
  size: number;
  /** Recipient i's message as the sender hands it to SMTP: pre-stuffed chunks of the shared template. */
  wire(i: number): Promise<{ raw: Buffer[]; dotStuffed: boolean }>;
  /** The same message unstuffed, in one buffer (what a client that stuffs per message gets). */
  plain(i: number): Promise<Buffer>;
  messageId(i: number): string;
  envelopeFrom: string;
  recipient(i: number): string;
}

/** Ten papers' worth of HTML and text, padded to about `targetBytes`. */
export async function buildDigestFixture(targetBytes = 45_000): Promise<DigestFixture> {
  const papers = Array.from({ length: 10 }, (_, i) => ({
    title: `Paper ${i + 1}: Scaling laws for Schrödinger-bridge diffusion in ${['vision', 'language', 'audio', 'robotics'][i % 4]}`,
    abstract: 'We study how representation quality scales with data and compute. '.repeat(12),
    url: `https://papers.example.org/p/${1000 + i}`,
  }));
  const card = (p: (typeof papers)[number]) =>
    `<tr><td style="padding:16px;font-family:Helvetica,Arial,sans-serif"><h2 style="font-size:18px;margin:0 0 8px">${p.title}</h2>` +
    `<p style="font-size:14px;line-height:1.5;color:#333">${p.abstract}</p><a href="${p.url}" style="background:#2d6cdf;color:#fff;padding:8px 12px;border-radius:4px;text-decoration:none">Read</a></td></tr>\n`;
  let html = `<!doctype html><html><body><table width="100%" cellpadding="0" cellspacing="0">\n${papers.map(card).join('')}`;
  const text0 = papers.map((p) => `${p.title}\n${p.abstract}\n${p.url}\n`).join('\n') + `\nUnsubscribe:\n${SLOT_TOKENS.unsubscribeUrl}\n`;
  while (html.length + text0.length < targetBytes * 0.93)
    html += `<tr><td style="padding:4px;color:#777;font-size:12px">${'More trending papers this week. '.repeat(3)}</td></tr>\n`;
  html += `<tr><td><a href="${SLOT_TOKENS.manageUrl}">Manage your subscription</a> · sent to ${SLOT_TOKENS.email}</td></tr></table></body></html>`;
  const template = await buildTemplate(
    { subject: 'Your daily papers: 10 trending', html, text: text0 },
    { from: 'paperboy <digest@paperboy.example.org>', mailDomain: 'paperboy.example.org', listId: 'paperboy daily <daily.paperboy.example.org>' },
  );
  for (const [slot, n] of Object.entries(template.found))
    if (slot !== 'unsubscribeMailto' && n === 0) throw new Error(`slot ${slot} did not survive MIME encoding`);
  const secret = 'bench-secret-key-bench-secret-key';
  const recipient = (i: number) => `reader${i}@example.org`;
  const messageId = (i: number) => `<d${i}.e20261123@paperboy.example.org>`;
  const date = new Date('2026-11-23T06:00:00Z');
  const values = (i: number): Recipient => {
    const sig = createHmac('sha256', secret).update(`unsub:${i}`).digest('base64url').slice(0, 22);
    return {
      email: recipient(i),
      messageId: messageId(i),
      date,
      links: {
        unsubscribeUrl: `https://paperboy.example.org/u/${i}.${sig}`,
        unsubscribeMailto: `mailto:unsubscribe+${i}.${sig}@paperboy.example.org`,
        manageUrl: `https://paperboy.example.org/m/${i}.${sig}`,
      },
    };
  };
  return {
    size: (await personalise(template, values(12345))).length,
    wire: (i) => personaliseForWire(template, values(i)),
    plain: (i) => personalise(template, values(i)),
    messageId,
    envelopeFrom: 'bounces@paperboy.example.org',
    recipient,
  };
}
