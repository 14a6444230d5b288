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

const mailsTo = (lower: string) => h.sink.mails.filter((m) => m.envelope.to.some((t) => t.toLowerCase() === lower));

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
