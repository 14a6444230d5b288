// The subscribe endpoint is limited per client IP, and a forged X-Forwarded-For does not reset the count.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, postForm, type Harness } from './helpers/web-harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ SUBSCRIBE_RATE_LIMIT_PER_MIN: '3' });
});
afterAll(async () => {
  await h.close();
});

describe('rate limit', () => {
  it('answers 429 with a page after SUBSCRIBE_RATE_LIMIT_PER_MIN requests from one IP', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await postForm(`${h.url}/subscribe`, { email: `person${i}@example.org`, frequency: 'daily', kind: 'new' });
      expect(r.status).toBe(303);
    }
    const limited = await postForm(`${h.url}/subscribe`, { email: 'person9@example.org', frequency: 'daily', kind: 'new' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toMatch(/^text\/html/);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await limited.text()).toContain('Too many tries');
    expect(h.service.repo.byEmail('person9@example.org')).toBeNull();

    // trustProxy is off: a client cannot pick its own IP.
    const spoofed = await postForm(
      `${h.url}/subscribe`,
      { email: 'person8@example.org', frequency: 'daily', kind: 'new' },
      { 'x-forwarded-for': '203.0.113.9' },
    );
    expect(spoofed.status).toBe(429);
    // Pages that do not send mail are not limited.
    expect((await fetch(`${h.url}/`)).status).toBe(200);
  });
});
