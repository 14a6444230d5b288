// The prebuilt message: placeholders found wherever quoted-printable put them, filled in per recipient, parsed back intact.
import { SLOT_TOKENS } from '../src/render/placeholders.js';
import { describe, it, expect } from 'vitest';
import { simpleParser } from 'mailparser';
import MailComposer from 'nodemailer/lib/mail-composer';
import { buildTemplate, personalise, RecipientError } from '../src/delivery/mime.js';

const cfg = { from: 'paperboy <digest@paperboy.example>', mailDomain: 'paperboy.example', listId: 'paperboy digest <digest.paperboy.example>' };
const links = {
  unsubscribeUrl: 'https://paperboy.example/unsubscribe/17-0123456789abcdef0123456789abcdef?x=1&y=2',
  unsubscribeMailto: 'mailto:unsubscribe+17-0123456789abcdef0123456789abcdef@paperboy.example',
  manageUrl: 'https://paperboy.example/preferences/17-fedcba9876543210fedcba9876543210',
};

describe('buildTemplate + personalise', () => {
  it('fills placeholders at every offset of a quoted-printable line, in HTML (escaped) and text', async () => {
    let split = 0;
    for (let pad = 0; pad < 90; pad += 7) {
      const filler = 'é'.repeat(pad % 5) + 'x'.repeat(pad);
      const html = `<p>${filler}<a href="${SLOT_TOKENS.unsubscribeUrl}">unsubscribe</a>${filler}<a href="${SLOT_TOKENS.manageUrl}">prefs</a></p>`;
      const text = `${filler}${SLOT_TOKENS.unsubscribeUrl} ${filler}${SLOT_TOKENS.unsubscribeMailto}\nbye`;
      // Count the cases where quoted-printable's own line breaking cut a placeholder: those are the hard ones.
      const plain = (await new MailComposer({ from: cfg.from, subject: 's', html, text, textEncoding: 'quoted-printable' }).compile().build()).toString(
        'latin1',
      );
      split += Object.values(SLOT_TOKENS).filter((p) => !plain.includes(p)).length;
      const t = await buildTemplate({ subject: 'Digest — 3 papers', html, text }, cfg);
      expect(t.found).toEqual({ unsubscribeUrl: 2, unsubscribeMailto: 1, manageUrl: 1, email: 0 });
      const raw = await personalise(t, { email: 'a@example.test', messageId: '<d1.e1@paperboy.example>', links, date: new Date('2026-11-23T10:00:00Z') });
      const lines = raw.toString('latin1').split('\r\n');
      const body = lines.slice(lines.indexOf('') + 1);
      expect(Math.max(...body.map((l) => l.length)), `pad ${pad}`).toBeLessThanOrEqual(76);
      const mail = await simpleParser(raw);
      expect(mail.html).toBe(
        `<p>${filler}<a href="${links.unsubscribeUrl.replace(/&/g, '&amp;')}">unsubscribe</a>${filler}<a href="${links.manageUrl}">prefs</a></p>`,
      );
      expect(mail.text).toBe(`${filler}${links.unsubscribeUrl} ${filler}${links.unsubscribeMailto}\nbye`);
      expect(mail.messageId).toBe('<d1.e1@paperboy.example>');
    }
    expect(split).toBeGreaterThan(0);
  });

  it('refuses addresses and links that could inject headers', async () => {
    const t = await buildTemplate({ subject: 's', html: '<p>x</p>', text: 'x' }, cfg);
    const base = { email: 'a@example.test', messageId: '<d1.e1@paperboy.example>', links, date: new Date() };
    for (const email of ['a@example.test\r\nBcc: x@evil.test', '"a"@example.test', 'a@example.test, b@example.test', 'A <a@example.test>', 'no-at-sign']) {
      await expect(personalise(t, { ...base, email })).rejects.toBeInstanceOf(RecipientError);
    }
    await expect(personalise(t, { ...base, links: { ...links, unsubscribeUrl: 'https://x/\r\nBcc: x@evil.test' } })).rejects.toBeInstanceOf(RecipientError);
    await expect(personalise(t, { ...base, messageId: '<a@b>\r\nX: y' })).rejects.toBeInstanceOf(RecipientError);
  });
});
