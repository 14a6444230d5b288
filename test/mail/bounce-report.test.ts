// Reading bounces and complaints as MTAs and feedback loops write them, through mailparser as the listener does.
import { describe, expect, it } from 'vitest';
import { simpleParser } from 'mailparser';
import { bounceSeverity, parseBounce, parseComplaint } from '../../src/mail/bounce-report.js';

const parse = (lines: string[]) => simpleParser(lines.join('\r\n'));

describe('bounceSeverity: one classification for DSNs, text bounces and SMTP replies', () => {
  it.each([
    ['5.1.1', {}, 'hard'],
    ['5.1.10', {}, 'hard'],
    ['5.2.1', {}, 'hard'],
    ['5.4.4', {}, 'hard'],
    ['5.4.1', {}, 'hard'],
    ['5.1.8', {}, 'soft'],
    ['5.2.2', {}, 'soft'],
    ['5.7.1', {}, 'soft'],
    ['5.7.26', {}, 'soft'],
    ['5.3.4', {}, 'soft'],
    ['4.2.2', {}, 'soft'],
    ['5.1.1', { action: 'delayed' as const }, 'soft'],
    ['2.0.0', { action: 'delivered' as const }, null],
    [null, { replyCode: 550, diagnostic: '550 No such user here' }, 'hard'],
    [null, { replyCode: 554, diagnostic: '554 Message looks like spam' }, 'soft'],
    [null, { replyCode: 451 }, 'soft'],
    ['5.0.0', { diagnostic: '550 5.0.0 <x@y>... User unknown' }, 'hard'],
  ])('%s %j -> %s', (status, opts, expected) => {
    expect(bounceSeverity(status, opts)).toBe(expected);
  });
});

describe('parseBounce', () => {
  it('reads a DSN reporting two recipients, one failed and one delivered, and a group with no Status', async () => {
    const mail = await parse([
      'From: MAILER-DAEMON@mx.example.net',
      'Subject: Delivery Status Notification',
      'MIME-Version: 1.0',
      'Content-Type: multipart/report; report-type=delivery-status; boundary="b"',
      '',
      '--b',
      'Content-Type: text/plain',
      '',
      'Report.',
      '--b',
      'Content-Type: message/delivery-status',
      '',
      'Reporting-MTA: dns; mx.example.net',
      '',
      'Final-Recipient: rfc822; Gone@Example.ORG',
      'Action: failed',
      'Status: 5.1.1 (bad destination mailbox address)',
      'Diagnostic-Code: smtp; 550-5.1.1 The email account that you tried to reach',
      '    does not exist.',
      '',
      'Final-Recipient: rfc822; here@example.org',
      'Action: delivered',
      'Status: 2.0.0',
      '',
      'Final-Recipient: rfc822; odd@example.org',
      'Action: failed',
      'Diagnostic-Code: smtp; 552 mailbox full',
      '',
      '--b--',
    ]);
    const r = parseBounce(mail)!;
    expect(r.format).toBe('dsn');
    expect(r.recipients).toEqual([
      {
        recipient: 'Gone@example.org',
        action: 'failed',
        status: '5.1.1',
        diagnostic: '550-5.1.1 The email account that you tried to reach does not exist.',
        remoteMta: null,
        severity: 'hard',
      },
      { recipient: 'here@example.org', action: 'delivered', status: '2.0.0', diagnostic: null, remoteMta: null, severity: null },
      { recipient: 'odd@example.org', action: 'failed', status: null, diagnostic: '552 mailbox full', remoteMta: null, severity: 'soft' },
    ]);
  });

  it('reads an Exim text bounce', async () => {
    const mail = await parse([
      'From: Mail Delivery System <Mailer-Daemon@mail.example.net>',
      'Subject: Mail delivery failed: returning message to sender',
      '',
      'This message was created automatically by mail delivery software.',
      '',
      'A message that you sent could not be delivered to one or more of its',
      'recipients. This is a permanent error. The following address(es) failed:',
      '',
      '  reader@example.org',
      '    host mx.example.org [192.0.2.1]',
      '    SMTP error from remote mail server after RCPT TO:<reader@example.org>:',
      '    550 5.1.1 <reader@example.org>: Recipient address rejected: User unknown',
    ]);
    expect(parseBounce(mail)).toEqual({
      format: 'text',
      recipients: [
        {
          recipient: 'reader@example.org',
          action: 'failed',
          status: '5.1.1',
          diagnostic: '550 5.1.1 <reader@example.org>: Recipient address rejected: User unknown',
          remoteMta: null,
          severity: 'hard',
        },
      ],
    });
  });

  it('reads a qmail bounce without an enhanced code by its words', async () => {
    const mail = await parse([
      'From: MAILER-DAEMON@qmail.example.net',
      'Subject: failure notice',
      '',
      'Hi. This is the qmail-send program at qmail.example.net.',
      "I'm afraid I wasn't able to deliver your message to the following addresses.",
      '',
      '<old@example.org>:',
      'Sorry, no mailbox here by that name. (#5.1.1)',
    ]);
    const r = parseBounce(mail)!;
    expect(r.recipients[0]).toMatchObject({ recipient: 'old@example.org', status: '5.1.1', severity: 'hard' });
  });

  it('reads a delay warning as soft', async () => {
    const mail = await parse([
      'From: MAILER-DAEMON@mx.example.net',
      'Subject: Delayed Mail (still being retried)',
      '',
      'This is the mail system. Your message could not be delivered for 4 hours. It will retry until 5 days.',
      '<slow@example.org>: connect to mx.example.org: Connection timed out',
    ]);
    expect(parseBounce(mail)!.recipients[0]).toMatchObject({ action: 'delayed', severity: 'soft' });
  });

  it('is null for a vacation reply and for a person writing back', async () => {
    expect(
      parseBounce(await parse(['From: reader@example.org', 'Subject: Out of office', 'Auto-Submitted: auto-replied', '', 'I am away until Monday.'])),
    ).toBeNull();
    expect(parseBounce(await parse(['From: reader@example.org', 'Subject: Re: your digest', '', 'Thanks, 550 papers is a lot.']))).toBeNull();
  });

  it('reads a report whose status part is garbage as text, or not at all', async () => {
    const mail = await parse([
      'From: postmaster@mx.example.net',
      'Subject: Undeliverable: digest',
      'Content-Type: multipart/report; report-type=delivery-status; boundary="b"',
      '',
      '--b',
      'Content-Type: message/delivery-status',
      '',
      '%%% not fields at all',
      '--b--',
    ]);
    expect(parseBounce(mail)).toBeNull();
  });
});

describe('parseComplaint', () => {
  const original = [
    'Message-ID: <d5.e2.0123456789abcdef@paperboy.test>',
    'To: reader@example.org',
    'List-Unsubscribe: <https://news.example.org/unsubscribe/12-0123456789abcdef0123456789abcdef>,',
    ' <mailto:unsubscribe+12-0123456789abcdef0123456789abcdef@paperboy.test>',
    'Subject: your digest',
    '',
    'body',
  ];

  it('reads an ARF report: type, agent, recipient, and the original message-id and List-Unsubscribe', async () => {
    const mail = await parse([
      'From: fbl@isp.example',
      'Content-Type: multipart/report; report-type=feedback-report; boundary="f"',
      '',
      '--f',
      'Content-Type: text/plain',
      '',
      'An abuse report.',
      '--f',
      'Content-Type: message/feedback-report',
      '',
      'Feedback-Type: Abuse',
      'User-Agent: YahooMailFBL/1.0',
      'Version: 1',
      'Original-Rcpt-To: reader@example.org',
      '--f',
      'Content-Type: message/rfc822',
      '',
      ...original,
      '--f--',
    ]);
    expect(parseComplaint(mail)).toEqual({
      feedbackType: 'abuse',
      userAgent: 'YahooMailFBL/1.0',
      originalRecipient: 'reader@example.org',
      originalMessageId: '<d5.e2.0123456789abcdef@paperboy.test>',
      listUnsubscribe:
        '<https://news.example.org/unsubscribe/12-0123456789abcdef0123456789abcdef>, <mailto:unsubscribe+12-0123456789abcdef0123456789abcdef@paperboy.test>',
    });
  });

  it('reads a not-spam report with headers only, and a JMRP-style forward with no report part as abuse', async () => {
    const headersOnly = await parse([
      'Content-Type: multipart/report; report-type=feedback-report; boundary="f"',
      '',
      '--f',
      'Content-Type: message/feedback-report',
      '',
      'Feedback-Type: not-spam',
      '--f',
      'Content-Type: text/rfc822-headers',
      '',
      ...original.slice(0, 5),
      '--f--',
    ]);
    expect(parseComplaint(headersOnly)).toMatchObject({ feedbackType: 'not-spam', originalMessageId: '<d5.e2.0123456789abcdef@paperboy.test>' });
    const jmrp = await parse([
      'From: staff@hotmail.com',
      'Content-Type: multipart/mixed; boundary="m"',
      '',
      '--m',
      'Content-Type: message/rfc822',
      '',
      ...original,
      '--m--',
    ]);
    expect(parseComplaint(jmrp)).toMatchObject({ feedbackType: 'abuse', originalRecipient: 'reader@example.org' });
    expect(parseComplaint(await parse(['From: someone@example.org', 'Subject: hi', '', 'hello']))).toBeNull();
  });
});
