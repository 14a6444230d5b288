// The confirmation email's parts: the HTML escapes what it is given, and the plain text (html-to-text, compiled once
// at load) shows the link once, leaves out the hidden preview line, and wraps at 78 columns.
import { describe, expect, it } from 'vitest';
import { loadConfirmEmail } from '../src/subscriptions/confirm-email.js';

const data = {
  email: 'reader+<b>x</b>@example.org',
  confirmUrl: 'https://papers.example.org/confirm/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcde',
  ttlHours: 48,
  senderLine: 'Paperboy, 1 Main Street, Springfield',
};

describe('confirmation email', () => {
  it('renders the same text for every message, with the link once and no preview line or repeated hrefs', async () => {
    const renderer = await loadConfirmEmail();
    const first = renderer.render(data);
    // A second render with other values must not carry anything over from the first.
    const other = renderer.render({ ...data, email: 'other@example.org', confirmUrl: 'https://papers.example.org/confirm/other', ttlHours: 24 });
    const again = renderer.render(data);
    expect(again).toEqual(first);
    expect(other.text).toContain('https://papers.example.org/confirm/other');
    expect(other.text).toContain('expires in 24 hours');
    expect(other.text).not.toContain(data.confirmUrl);

    const text = first.text;
    expect(text.split(data.confirmUrl)).toHaveLength(2);
    expect(text).not.toContain('One click to start getting research papers');
    expect(text).not.toMatch(/\[https?:/);
    expect(text).toContain('Confirm my subscription');
    expect(text).toContain('reader+<b>x</b>@example.org');
    expect(text).toContain('Paperboy, 1 Main Street, Springfield');
    for (const line of text.split('\n')) if (!line.includes('https://')) expect(line.length).toBeLessThanOrEqual(78);
    expect(first.html).toContain('reader+&lt;b&gt;x&lt;/b&gt;@example.org');
    expect(first.html).not.toContain('<b>x</b>');
  });
});
