// Owns the bench's stand-in digest: one ~45 KB multipart message built once, personalised per recipient by substitution.
import { createHmac } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';
import { dotStuff } from '../../src/mail/smtp-wire.js';
import { compileRawTemplate, type RawTemplate } from '../../src/mail/raw-template.js';

export const PLACEHOLDERS = { to: 'pb-to@placeholder.invalid', messageId: '%%PB_MSGID%%', unsubscribe: '%%PB_UNSUB%%' } as const;

export interface DigestFixture {
  /** Size of one personalised message in bytes (before stuffing). */
  size: number;
  stuffed: RawTemplate;
  plain: RawTemplate;
  values(i: number): Record<string, string>;
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
  const text0 = papers.map((p) => `${p.title}\n${p.abstract}\n${p.url}\n`).join('\n') + `\nUnsubscribe:\n${PLACEHOLDERS.unsubscribe}\n`;
  while (html.length + text0.length < targetBytes * 0.93) html += `<tr><td style="padding:4px;color:#777;font-size:12px">${'More trending papers this week. '.repeat(3)}</td></tr>\n`;
  html += `<tr><td><a href="https://paperboy.example.org/manage">Manage your subscription</a></td></tr></table></body></html>`;
  const node = new MailComposer({
    from: 'paperboy <digest@paperboy.example.org>',
    to: PLACEHOLDERS.to,
    subject: 'Your daily papers: 10 trending',
    messageId: `<${PLACEHOLDERS.messageId}>`,
    html,
    text: text0,
    headers: {
      'List-Unsubscribe': `<${PLACEHOLDERS.unsubscribe}>, <mailto:unsubscribe@paperboy.example.org>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      'List-Id': 'paperboy daily <daily.paperboy.example.org>',
    },
  }).compile();
  const raw = await node.build();
  const names = Object.values(PLACEHOLDERS);
  const plain = compileRawTemplate(raw, names, { dotStuffed: false });
  const stuffed = compileRawTemplate(dotStuff(raw), names, { dotStuffed: true });
  for (const p of names) if (!plain.slots.includes(p)) throw new Error(`placeholder ${p} did not survive MIME encoding`);
  const secret = 'bench-secret-key-bench-secret-key';
  const fixture: DigestFixture = {
    size: 0,
    stuffed,
    plain,
    envelopeFrom: 'bounces@paperboy.example.org',
    recipient: (i) => `reader${i}@example.org`,
    values(i) {
      const sig = createHmac('sha256', secret).update(`unsub:${i}`).digest('base64url').slice(0, 22);
      return {
        [PLACEHOLDERS.to]: `reader${i}@example.org`,
        [PLACEHOLDERS.messageId]: `d${i}.e20261123@paperboy.example.org`,
        [PLACEHOLDERS.unsubscribe]: `https://paperboy.example.org/u/${i}.${sig}`,
      };
    },
  };
  fixture.size = plain.render(fixture.values(12345)).length;
  return fixture;
}
