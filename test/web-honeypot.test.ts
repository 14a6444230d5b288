// The subscribe form's honeypot (issue 13 defect 10 f): a value in any repetition of `website` marks a bot, in
// urlencoded and multipart bodies alike, against the listening server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './helpers/web-harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

async function settle(): Promise<void> {
  await h.worker.runOnce();
  await h.worker.idle();
}

const rows = () => h.store.db.prepare('SELECT COUNT(*) FROM subscribers').pluck().get() as number;
const queued = () => h.store.db.prepare('SELECT COUNT(*) FROM confirmation_queue').pluck().get() as number;

function urlencoded(body: string) {
  return fetch(`${h.url}/subscribe`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
}

function multipart(fields: [string, string][]) {
  const form = new FormData();
  for (const [k, v] of fields) form.append(k, v);
  return fetch(`${h.url}/subscribe`, { method: 'POST', redirect: 'manual', body: form });
}

const base = (email: string) => `email=${encodeURIComponent(email)}&frequency=daily&kind=trending&topics=`;

describe('the honeypot', () => {
  it('catches website=&website=spam in a urlencoded body: the usual answer, no row, no confirmation', async () => {
    const before = { rows: rows(), queued: queued(), mails: h.sink.received.length };
    for (const tail of ['&website=&website=http%3A%2F%2Fspam.example', '&website=&website=&website=x', '&website=x&website=']) {
      const res = await urlencoded(base('bot1@example.org') + tail);
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/check-inbox');
    }
    await settle();
    expect(h.service.repo.byEmail('bot1@example.org')).toBeNull();
    expect({ rows: rows(), queued: queued(), mails: h.sink.received.length }).toEqual(before);
  });

  it('catches a repeated website in a multipart body too', async () => {
    const before = { rows: rows(), queued: queued(), mails: h.sink.received.length };
    const res = await multipart([
      ['email', 'bot2@example.org'],
      ['frequency', 'daily'],
      ['kind', 'trending'],
      ['website', ''],
      ['website', 'spam'],
    ]);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/check-inbox');
    await settle();
    expect(h.service.repo.byEmail('bot2@example.org')).toBeNull();
    expect({ rows: rows(), queued: queued(), mails: h.sink.received.length }).toEqual(before);
  });

  it('lets a person through whose website fields are all empty, in either encoding', async () => {
    expect((await urlencoded(base('person1@example.org') + '&website=&website=')).status).toBe(303);
    expect(
      (
        await multipart([
          ['email', 'person2@example.org'],
          ['frequency', 'daily'],
          ['kind', 'trending'],
          ['website', ''],
        ])
      ).status,
    ).toBe(303);
    await settle();
    await h.sink.waitFor(1, 'person1@example.org');
    await h.sink.waitFor(1, 'person2@example.org');
    expect(h.service.repo.byEmail('person1@example.org')?.status).toBe('pending');
    expect(h.service.repo.byEmail('person2@example.org')?.status).toBe('pending');
  });
});
