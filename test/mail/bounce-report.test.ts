import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { bounceSeverity, parseBounce, parseComplaint } from '../../src/mail/bounce-report.js';

const dir = join(import.meta.dirname, '..', 'fixtures', 'bounces');
const raw = (name: string) => readFileSync(join(dir, name));
// The options src/mail/inbound.ts parses with, and the one that keeps message/delivery-status as an attachment.
const INBOUND = { skipHtmlToText: true, skipImageLinks: true, skipTextLinks: true };
const both = [
  ['inbound options', INBOUND],
  ['keepDeliveryStatus', { keepDeliveryStatus: true }],
] as const;
const parse = (name: string, opts: object = INBOUND) => simpleParser(raw(name), opts);

describe('parseBounce: RFC 3464 DSNs', () => {
  for (const [label, opts] of both) {
    it(`Postfix 550 5.1.1 user unknown is one hard recipient (${label})`, async () => {
      expect(parseBounce(await parse('postfix-dsn-user-unknown.eml', opts))).toEqual({
        format: 'dsn',
        recipients: [
          {
            recipient: 'Bob@example.com',
            action: 'failed',
            status: '5.1.1',
            diagnostic: '550 5.1.1 <Bob@Example.COM>: Recipient address rejected: User unknown in virtual mailbox table',
            remoteMta: 'mail.example.com',
            severity: 'hard',
          },
        ],
      });
    });
  }

  it('Postfix delayed 4.4.1 is soft, X-Postfix diagnostic type stripped', async () => {
    expect(parseBounce(await parse('postfix-dsn-delayed.eml'))?.recipients).toEqual([
      {
        recipient: 'carol@slow.example',
        action: 'delayed',
        status: '4.4.1',
        diagnostic: 'connect to mx.slow.example[198.51.100.7]:25: Connection timed out',
        remoteMta: null,
        severity: 'soft',
      },
    ]);
  });

  it('two recipients: mailbox full is soft, the delivered one has no severity', async () => {
    const r = parseBounce(await parse('dsn-two-recipients.eml'));
    expect(r?.recipients.map((x) => [x.recipient, x.action, x.status, x.severity, x.remoteMta])).toEqual([
      ['ivan@full.example', 'failed', '5.2.2', 'soft', 'mx.full.example'],
      ['judy@ok.example', 'delivered', '2.0.0', null, 'mx.ok.example'],
    ]);
  });

  it('missing Status: the code comes from the Diagnostic-Code, brackets and case of the domain cleaned', async () => {
    const [only] = parseBounce(await parse('dsn-no-status.eml'))!.recipients;
    expect(only).toMatchObject({ recipient: 'mallory@old.example', action: 'failed', status: '5.1.1', severity: 'hard' });
    expect(only!.diagnostic).toBe('550-5.1.1 The email account that you tried to reach does not exist. 550 5.1.1 Please check the address.');
  });

  it('a malformed delivery-status part gives a DSN with no recipients, no crash', async () => {
    expect(parseBounce(await parse('dsn-malformed.eml'))).toEqual({ format: 'dsn', recipients: [] });
  });

  it('an unreadable delivery-status part falls back to the Postfix text beside it', async () => {
    const eml = readFileSync(join(dir, 'postfix-dsn-user-unknown.eml'), 'utf8').replace(/Reporting-MTA:[\s\S]*?mailbox table\n/, 'garbage ::: here\n');
    expect(parseBounce(await simpleParser(eml, INBOUND))).toEqual({
      format: 'text',
      recipients: [
        {
          recipient: 'Bob@example.com',
          action: 'failed',
          status: '5.1.1',
          diagnostic:
            'host mail.example.com[192.0.2.25] said: 550 5.1.1 <Bob@Example.COM>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)',
          remoteMta: 'mail.example.com',
          severity: 'hard',
        },
      ],
    });
  });

  it('a diagnostic longer than 500 characters is cut at 500', async () => {
    const long = 'x'.repeat(900);
    const eml = readFileSync(join(dir, 'dsn-two-recipients.eml'), 'utf8').replace('552 5.2.2 Mailbox full', `552 5.2.2 ${long}`);
    const r = parseBounce(await simpleParser(eml, INBOUND));
    expect(r!.recipients[0]!.diagnostic!.length).toBe(500);
  });
});

describe('parseBounce: plain-text bounces', () => {
  it('Exim: address, remote host and the 550 5.1.1 reply; the returned copy is not read', async () => {
    expect(parseBounce(await parse('exim-text.eml'))).toEqual({
      format: 'text',
      recipients: [
        {
          recipient: 'dave@exim.example',
          action: 'failed',
          status: '5.1.1',
          diagnostic:
            'host mx.exim.example [203.0.113.9] SMTP error from remote mail server after RCPT TO:<dave@exim.example>: 550 5.1.1 <dave@exim.example>: Recipient address rejected: User unknown',
          remoteMta: 'mx.exim.example',
          severity: 'hard',
        },
      ],
    });
  });

  it('qmail: "no mailbox here by that name (#5.1.1)" is hard', async () => {
    expect(parseBounce(await parse('qmail-text.eml'))?.recipients).toEqual([
      {
        recipient: 'erin@qmail.example',
        action: 'failed',
        status: '5.1.1',
        diagnostic: 'Sorry, no mailbox here by that name. (#5.1.1)',
        remoteMta: null,
        severity: 'hard',
      },
    ]);
  });

  it("Gmail's Address not found has no code: the words make it hard", async () => {
    const [only] = parseBounce(await parse('gmail-text.eml'))!.recipients;
    expect(only).toMatchObject({ recipient: 'frank.nobody@gmail.com', action: 'failed', status: null, severity: 'hard' });
    expect(only!.diagnostic).toMatch(/^The email account that you tried to reach does not exist\./);
  });

  it('Office 365: 5.4.1 access denied is hard', async () => {
    expect(parseBounce(await parse('o365-ndr-541.eml'))?.recipients).toEqual([
      {
        recipient: 'grace@contoso.com',
        action: 'failed',
        status: '5.4.1',
        diagnostic: '550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [AM0PR01MB1234.eurprd01.prod.exchangelabs.com]',
        remoteMta: null,
        severity: 'hard',
      },
    ]);
  });

  it('Exchange: 5.7.1 policy rejection is soft', async () => {
    expect(parseBounce(await parse('exchange-ndr-571.eml'))?.recipients).toEqual([
      {
        recipient: 'heidi@fabrikam.com',
        action: 'failed',
        status: '5.7.1',
        diagnostic: '550 5.7.1 RESOLVER.RST.NotAuthorized; not authorized',
        remoteMta: null,
        severity: 'soft',
      },
    ]);
  });

  it('an HTML-only NDR is read too (inbound parses with skipHtmlToText, so mail.text is empty)', async () => {
    const eml = [
      'From: Microsoft Outlook <postmaster@contoso.onmicrosoft.com>',
      'To: bounces+12@example.org',
      'Subject: Undeliverable: Your paperboy digest',
      'MIME-Version: 1.0',
      'Content-Type: text/html; charset="us-ascii"',
      '',
      "<html><body><p>Your message to <b>olga@contoso.com</b> couldn't be delivered.</p>",
      '<p>Diagnostic information for administrators:</p><p>olga@contoso.com<br>',
      "Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup'</p></body></html>",
      '',
    ].join('\r\n');
    const mail = await simpleParser(eml, INBOUND);
    expect(mail.text ?? '').toBe('');
    expect(parseBounce(mail)?.recipients.map((r) => [r.recipient, r.status, r.severity])).toEqual([['olga@contoso.com', '5.1.10', 'hard']]);
  });

  it('an ordinary message, a forwarded one and a complaint are no bounce', async () => {
    expect(parseBounce(await parse('not-a-bounce.eml'))).toBeNull();
    expect(parseBounce(await parse('forwarded-message.eml'))).toBeNull();
    expect(parseBounce(await parse('arf-yahoo.eml'))).toBeNull();
  });
});

describe('parseComplaint', () => {
  it('Yahoo ARF with an inline message/rfc822 original: type, agent, recipient; Message-ID and List-Unsubscribe from the raw', async () => {
    const eml = raw('arf-yahoo.eml');
    const mail = await simpleParser(eml, INBOUND);
    expect(parseComplaint(mail, eml)).toEqual({
      feedbackType: 'abuse',
      userAgent: 'Yahoo!-Mail-Feedback/2.0',
      originalRecipient: 'Kim@yahoo.com',
      originalMessageId: '<d5.e2.abcd@example.org>',
      listUnsubscribe: '<mailto:unsubscribe+12-abcdef0123456789@example.org>, <https://x.example/u/12-abcdef0123456789>',
    });
    // mailparser inlines that part and drops its headers: without the raw they are unknown, not made up.
    expect(parseComplaint(mail)).toMatchObject({ feedbackType: 'abuse', originalMessageId: null, listUnsubscribe: null });
  });

  it('AOL-style ARF with text/rfc822-headers only', async () => {
    expect(parseComplaint(await parse('arf-headers-only.eml'))).toEqual({
      feedbackType: 'fraud',
      userAgent: 'AOL SComp',
      originalRecipient: 'lee@aol.com',
      originalMessageId: '<d6.f3.abcd@example.org>',
      listUnsubscribe: '<https://x.example/u/13-0123>',
    });
  });

  it('not-spam keeps its type; a Message-ID without brackets gets them', async () => {
    expect(parseComplaint(await parse('arf-not-spam.eml'))).toEqual({
      feedbackType: 'not-spam',
      userAgent: 'ISPFeedback/1.0',
      originalRecipient: 'mia@isp.example',
      originalMessageId: '<d7.g4.abcd@example.org>',
      listUnsubscribe: null,
    });
  });

  it('Microsoft JMRP (only the original attached) counts as abuse, recipient from X-HmXmrOriginalRecipient', async () => {
    expect(parseComplaint(await parse('jmrp.eml'))).toEqual({
      feedbackType: 'abuse',
      userAgent: null,
      originalRecipient: 'nick@outlook.com',
      originalMessageId: '<d8.h5.abcd@example.org>',
      listUnsubscribe: '<https://x.example/u/14-ffff>',
    });
  });

  it('a forwarded message, a bounce and an ordinary message are no complaint', async () => {
    expect(parseComplaint(await parse('forwarded-message.eml'))).toBeNull();
    expect(parseComplaint(await parse('postfix-dsn-user-unknown.eml'))).toBeNull();
    expect(parseComplaint(await parse('not-a-bounce.eml'))).toBeNull();
  });
});

describe('bounceSeverity', () => {
  const cases: [string, Parameters<typeof bounceSeverity>[0], Parameters<typeof bounceSeverity>[1], ReturnType<typeof bounceSeverity>][] = [
    ['5.1.1 bad mailbox', '5.1.1', {}, 'hard'],
    ['5.1.2 bad domain', '5.1.2', {}, 'hard'],
    ['5.1.10 (Office 365)', '5.1.10', {}, 'hard'],
    ['5.1.7 bad sender address', '5.1.7', {}, 'soft'],
    ['5.1.8 bad sender domain', '5.1.8', {}, 'soft'],
    ['5.2.1 mailbox disabled', '5.2.1', {}, 'hard'],
    ['5.2.2 mailbox full', '5.2.2', {}, 'soft'],
    ['5.4.4 unable to route', '5.4.4', {}, 'hard'],
    ['5.4.1 Exchange access denied', '5.4.1', {}, 'hard'],
    ['5.7.1 policy', '5.7.1', {}, 'soft'],
    ['5.3.4 message too big', '5.3.4', {}, 'soft'],
    ['5.6.0 content', '5.6.0', {}, 'soft'],
    ['4.2.2 temporary', '4.2.2', {}, 'soft'],
    ['4.4.1 timeout', '4.4.1', { action: 'failed' }, 'soft'],
    ['delayed wins', '5.1.1', { action: 'delayed' }, 'soft'],
    ['delivered', '2.0.0', { action: 'delivered' }, null],
    ['relayed', null, { action: 'relayed' }, null],
    ['expanded', '5.1.1', { action: 'expanded' }, null],
    ['4xx reply wins over 5.1.1', '5.1.1', { replyCode: 450 }, 'soft'],
    ['550 user unknown, no code', null, { replyCode: 550, diagnostic: '550 User unknown' }, 'hard'],
    ['550 no such user, no code', undefined, { replyCode: 550, diagnostic: 'No such user here' }, 'hard'],
    ['550 5.0.0 mailbox unavailable', '5.0.0', { replyCode: 550, diagnostic: 'Requested action not taken: mailbox unavailable' }, 'hard'],
    ['550 5.0.0 invalid recipient', '5.0.0', { diagnostic: 'invalid recipient' }, 'hard'],
    ['550 spam, no code', null, { replyCode: 550, diagnostic: 'Message rejected as spam' }, 'soft'],
    ['5.7.1 text says does not exist: the code wins', '5.7.1', { diagnostic: 'user does not exist' }, 'soft'],
    ['failed, nothing known', null, { action: 'failed' }, 'soft'],
    ['nothing at all', null, {}, null],
    ['a whole reply as status', '550 5.1.1 <x@y.org>: Recipient address rejected', {}, 'hard'],
    ['a whole 4xx reply as status', '452 4.2.2 Mailbox full', {}, 'soft'],
  ];
  it.each(cases)('%s', (_label, status, opts, expected) => {
    expect(bounceSeverity(status, opts)).toBe(expected);
  });
});
