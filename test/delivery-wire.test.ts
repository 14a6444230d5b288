// The dot-stuffed message the sender hands to SMTP: byte for byte what stuffing the personalised message would give,
// whatever dots the template, the links or the address put at line starts; and it reads back as the same mail.
import { SLOT_TOKENS } from '../src/render/placeholders.js';
import { describe, it, expect } from 'vitest';
import { simpleParser } from 'mailparser';
import { buildTemplate, personalise, personaliseForWire } from '../src/delivery/mime.js';
import { dotStuff } from '../src/mail/smtp-wire.js';
import { rawBytes } from '../src/mail/raw-bytes.js';

const cfg = { from: 'paperboy <digest@paperboy.example>', mailDomain: 'paperboy.example', listId: 'paperboy digest <digest.paperboy.example>' };

describe('personaliseForWire', () => {
  it('equals dotStuff(personalise()) with dots at line starts in the template, the links and the address', async () => {
    let stuffedLines = 0;
    for (let pad = 0; pad < 80; pad += 3) {
      const filler = 'x'.repeat(pad);
      // Dots right after line breaks (text part), and a dot-only line; QP keeps text lines, so they stay at line starts.
      const text = `.starts with a dot\n${filler}${SLOT_TOKENS.unsubscribeUrl}\n.\n..two\n${SLOT_TOKENS.email}\n${filler}.${SLOT_TOKENS.manageUrl}`;
      const html = `<p>${filler}<a href="${SLOT_TOKENS.unsubscribeUrl}">u</a>\n.dot line <a href="${SLOT_TOKENS.manageUrl}">m</a> ${SLOT_TOKENS.email}</p>`;
      const t = await buildTemplate({ subject: 'Digest', html, text }, cfg);
      // Links full of dots, so quoted-printable's soft breaks put some of them at line starts.
      const links = {
        unsubscribeUrl: `https://a.b.c.d.e.f.g.h.example/${'.'.repeat(pad % 11)}unsubscribe/${'.x'.repeat(40)}`,
        unsubscribeMailto: 'mailto:unsubscribe+1.2.3@paperboy.example',
        manageUrl: `https://paperboy.example/${'..'.repeat(50)}`,
      };
      const r = { email: '.dotted.reader.@example.test', messageId: '<d1.e1@paperboy.example>', links, date: new Date('2026-11-23T10:00:00Z') };
      const plain = await personalise(t, r);
      const wire = await personaliseForWire(t, r);
      expect(wire.dotStuffed).toBe(true);
      const wireBytes = Buffer.concat(wire.raw);
      expect(wireBytes.toString('latin1'), `pad ${pad}`).toBe(dotStuff(plain).toString('latin1'));
      stuffedLines += wireBytes.toString('latin1').split('\r\n..').length - 1;
      const mail = await simpleParser(rawBytes({ envelope: { from: '', to: [] }, raw: wireBytes, messageId: r.messageId, dotStuffed: true }));
      expect(mail.text).toContain(`.starts with a dot\n${filler}${links.unsubscribeUrl}\n.\n..two\n${r.email}\n`);
    }
    expect(stuffedLines).toBeGreaterThan(0);
  });

  it('leaves stuffing to the SMTP client when DKIM signs (a signature covers the unstuffed bytes)', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const t = await buildTemplate(
      { subject: 's', html: '<p>x</p>', text: `.dot\n${SLOT_TOKENS.unsubscribeUrl}` },
      {
        ...cfg,
        dkim: { domainName: 'paperboy.example', keySelector: 'k', privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() },
      },
    );
    const links = { unsubscribeUrl: 'https://paperboy.example/u/1', unsubscribeMailto: 'mailto:u@paperboy.example', manageUrl: 'https://paperboy.example/m/1' };
    const wire = await personaliseForWire(t, { email: 'a@example.test', messageId: '<d1.e1@paperboy.example>', links, date: new Date() });
    expect(wire.dotStuffed).toBe(false);
    expect(Buffer.concat(wire.raw).toString('latin1')).toMatch(/^DKIM-Signature: /);
    expect(Buffer.concat(wire.raw).toString('latin1')).toContain('\r\n.dot\r\n');
  });
});
