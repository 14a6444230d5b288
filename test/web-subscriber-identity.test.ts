// One mailbox, one subscriber: case-insensitive identity, pending preferences, resubscribe from the signed link (issue 13, defects 1, 8, 9).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../src/clock.js';
import { signSubscriberToken } from '../src/subscriptions/tokens.js';
import { startHarness, postForm, confirmLinkFrom, TEST_SECRET, type Harness } from './helpers/web-harness.js';

const HOUR = 3600_000;
const clock = new FakeClock(new Date('2026-03-02T09:00:00Z'));
let h: Harness;

beforeAll(async () => {
  h = await startHarness({}, { clock });
});
afterAll(async () => {
  await h.close();
});

const subscribe = (email: string, extra: Record<string, string> = {}) =>
  postForm(`${h.url}/subscribe`, { email, frequency: 'daily', kind: 'trending', topics: '', ...extra });

async function settle(): Promise<void> {
  await h.worker.runOnce();
  await h.worker.idle();
}

const mailsTo = (lower: string) => h.sink.received.filter((m) => m.to.some((t) => t.toLowerCase() === lower));

describe('address identity is case-insensitive', () => {
  it('three spellings of one mailbox make one row and one confirmation', async () => {
    for (const email of ['victim@example.org', 'Victim@example.org', 'VICTIM@Example.ORG']) {
      expect((await subscribe(email)).status).toBe(303);
    }
    await settle();
    await h.sink.waitFor(1, 'victim@example.org');
    await new Promise((r) => setTimeout(r, 300)); // a second confirmation, if one were queued, would be on its way by now
    await settle();
    const rows = h.store.db.prepare(`SELECT email, status FROM subscribers WHERE lower(email) = 'victim@example.org'`).all();
    expect(rows).toEqual([{ email: 'victim@example.org', status: 'pending' }]);
    expect(mailsTo('victim@example.org')).toHaveLength(1);
  });

  it('the address is kept as first typed, and found by any spelling', async () => {
    await subscribe('Mixed.Case@example.org');
    expect(h.service.repo.byEmail('mixed.case@EXAMPLE.org')!.email).toBe('Mixed.Case@example.org');
    await h.sink.waitFor(1, 'Mixed.Case@example.org');
  });
});

/** Subscribes through the form and confirms from the emailed link; returns the row id. */
async function activeSubscriber(email: string, extra: Record<string, string> = {}): Promise<number> {
  expect((await subscribe(email, extra)).status).toBe(303);
  const [mail] = await h.sink.waitFor(1, email);
  expect((await postForm(confirmLinkFrom(mail!.parsed.text!), {})).status).toBe(200);
  const s = h.service.repo.byEmail(email)!;
  expect(s.status).toBe('active');
  return s.id;
}

const prefsOf = (id: number) =>
  h.store.db.prepare('SELECT frequency, kind, topics FROM subscribers WHERE id = ?').get(id) as { frequency: string; kind: string; topics: string };

describe("the form never changes an existing person's preferences before they confirm", () => {
  it('an unsubscribed address keeps its preferences until the owner confirms from the email', async () => {
    const email = 'left@example.org';
    const id = await activeSubscriber(email, { frequency: 'daily', kind: 'trending', topics: 'robotics' });
    const unsub = signSubscriberToken(id, 'unsubscribe', TEST_SECRET);
    expect((await postForm(`${h.url}/unsubscribe/${unsub}`, {})).status).toBe(200);
    clock.advance(25 * HOUR); // past the daily cap of the first confirmation

    // Someone else types this address with other choices.
    expect((await subscribe(email, { frequency: 'weekly', kind: 'new', topics: 'spam, more spam' })).status).toBe(303);
    expect(prefsOf(id)).toEqual({ frequency: 'daily', kind: 'trending', topics: '["robotics"]' });
    // Nor its status: it stays unsubscribed (no digest, not counted as pending) until the owner says otherwise.
    expect(h.service.repo.byId(id)!.status).toBe('unsubscribed');
    const manage = await fetch(`${h.url}/preferences/${signSubscriberToken(id, 'manage', TEST_SECRET)}`);
    expect(await manage.text()).not.toContain('spam');

    // Only the owner's click on the emailed link makes them count.
    await settle();
    const mails = await h.sink.waitFor(2, email);
    // The link that first confirmed it, mailed before the unsubscribe, does not bring the address back.
    await postForm(confirmLinkFrom(mails[0]!.parsed.text!), {});
    expect(h.service.repo.byId(id)!.status).toBe('unsubscribed');
    expect((await postForm(confirmLinkFrom(mails[1]!.parsed.text!), {})).status).toBe(200);
    expect(h.service.repo.byId(id)!.status).toBe('active');
    expect(prefsOf(id)).toEqual({ frequency: 'weekly', kind: 'new', topics: '["spam","more spam"]' });
    expect(h.service.repo.byId(id)!.pending_preferences).toBeNull();
  });

  it('an active address keeps its preferences, and a later unsubscribe drops what was waiting', async () => {
    const email = 'stays@example.org';
    const id = await activeSubscriber(email, { frequency: 'daily', kind: 'both', topics: '' });
    expect((await subscribe(email, { frequency: 'weekly', kind: 'new', topics: 'x' })).status).toBe(303);
    expect(prefsOf(id)).toEqual({ frequency: 'daily', kind: 'both', topics: '[]' });
    const unsub = signSubscriberToken(id, 'unsubscribe', TEST_SECRET);
    await postForm(`${h.url}/unsubscribe/${unsub}`, {});
    await subscribe(email, { frequency: 'weekly', kind: 'new', topics: 'x' });
    expect(h.service.repo.byId(id)!.pending_preferences).not.toBeNull();
    await postForm(`${h.url}/unsubscribe/${unsub}`, {});
    expect(h.service.repo.byId(id)!.pending_preferences).toBeNull();
    expect(prefsOf(id)).toEqual({ frequency: 'daily', kind: 'both', topics: '[]' });
  });
});

describe('resubscribing from the signed link', () => {
  it('is immediate, even the same day as the last confirmation, and the pages promise nothing else', async () => {
    const email = 'comeback@example.org';
    const id = await activeSubscriber(email);
    const token = signSubscriberToken(id, 'unsubscribe', TEST_SECRET);
    const page = await postForm(`${h.url}/unsubscribe/${token}`, {});
    const html = await page.text();
    expect(html).toContain(`/resubscribe/${token}`);
    expect(html).not.toMatch(/confirmation email/i);
    const mailsBefore = h.sink.received.length;

    const res = await postForm(`${h.url}/resubscribe/${token}`, {});
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).toContain('subscribed again');
    expect(body).toContain(email);
    expect(body).not.toMatch(/check your inbox|confirmation/i);
    const s = h.service.repo.byId(id)!;
    expect(s.status).toBe('active');
    await settle();
    expect(h.sink.received.length).toBe(mailsBefore);

    // Pressing it again is harmless.
    expect((await postForm(`${h.url}/resubscribe/${token}`, {})).status).toBe(200);
    expect(h.service.repo.byId(id)!.status).toBe('active');
  });

  it('a bounced address is told the truth and stays suppressed', async () => {
    const id = await activeSubscriber('bounced@example.org');
    h.service.repo.markBounced(id, '550 5.1.1 no such user', clock.now().toISOString());
    const res = await postForm(`${h.url}/resubscribe/${signSubscriberToken(id, 'unsubscribe', TEST_SECRET)}`, {});
    expect(res.status).toBe(409);
    expect(await res.text()).toContain('bounced');
    expect(h.service.repo.byId(id)!.status).toBe('bounced');
  });
});
