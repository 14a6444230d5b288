// What a subscribe endpoint must resist: enumeration, mail floods, bots, bad tokens, link scanners, header injection.
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

/** Everything an outsider can observe about an answer, minus what differs per request anyway. */
async function observable(res: Response) {
  const headers = [...res.headers.entries()].filter(([k]) => !['date', 'x-ratelimit-remaining', 'x-ratelimit-reset'].includes(k));
  return { status: res.status, headers, body: await res.text() };
}

async function settle(): Promise<void> {
  await h.worker.runOnce();
  await h.worker.idle();
}

function snapshot() {
  return JSON.stringify([
    h.store.db.prepare('SELECT * FROM subscribers ORDER BY id').all(),
    h.store.db.prepare('SELECT * FROM confirm_tokens ORDER BY token_hash').all(),
    h.store.db.prepare('SELECT * FROM confirmation_queue ORDER BY id').all(),
  ]);
}

async function activeSubscriber(email: string): Promise<{ id: number; link: string }> {
  const res = await subscribe(email);
  expect(res.status).toBe(303);
  const [mail] = await h.sink.waitFor(1, email);
  const link = confirmLinkFrom(mail!.parsed.text!);
  expect((await postForm(link, {})).status).toBe(200);
  const s = h.service.repo.byEmail(email)!;
  expect(s.status).toBe('active');
  return { id: s.id, link };
}

describe('enumeration', () => {
  it('answers identically for new, pending, active and unsubscribed addresses', async () => {
    await subscribe('pending@example.org');
    await activeSubscriber('active@example.org');
    const gone = await activeSubscriber('gone@example.org');
    expect(h.service.unsubscribeByToken(signSubscriberToken(gone.id, 'unsubscribe', TEST_SECRET))!.status).toBe('unsubscribed');

    const answers = [];
    for (const email of ['brand-new@example.org', 'pending@example.org', 'active@example.org', 'gone@example.org']) {
      answers.push(await observable(await subscribe(email)));
    }
    expect(answers[0]!.status).toBe(303);
    for (const a of answers.slice(1)) expect(a).toEqual(answers[0]);
    expect(answers[0]!.headers.find(([k]) => k === 'set-cookie')).toBeUndefined();
    // The unsubscribed address stays unsubscribed until its owner confirms; the request waits aside.
    expect(h.service.repo.byEmail('gone@example.org')!.status).toBe('unsubscribed');
    expect(h.service.repo.byEmail('gone@example.org')!.pending_preferences).not.toBeNull();
  });
});

describe('one confirmation per address per day', () => {
  it('100 subscribe requests for one address send one email; a day later, one more', async () => {
    const email = 'flood@example.org';
    for (let batch = 0; batch < 10; batch++) {
      const rs = await Promise.all(Array.from({ length: 10 }, () => subscribe(email)));
      for (const r of rs) expect(r.status).toBe(303);
    }
    await settle();
    await h.sink.waitFor(1, email);
    expect(h.sink.received.filter((m) => m.to.includes(email))).toHaveLength(1);
    const id = h.service.repo.byEmail(email)!.id;
    expect(h.service.repo.confirmationsFor(id)).toHaveLength(1);

    clock.advance(23 * HOUR);
    await subscribe(email);
    await settle();
    expect(h.service.repo.confirmationsFor(id)).toHaveLength(1);

    clock.advance(HOUR + 1000);
    await subscribe(email);
    await settle();
    await h.sink.waitFor(2, email);
    expect(h.service.repo.confirmationsFor(id)).toHaveLength(2);
  });
});

describe('honeypot', () => {
  it('answers a filled honeypot like a success and stores and sends nothing', async () => {
    const before = snapshot();
    const mailsBefore = h.sink.received.length;
    const res = await subscribe('bot@example.org', { website: 'http://spam.example' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/check-inbox');
    await settle();
    expect(h.service.repo.byEmail('bot@example.org')).toBeNull();
    expect(snapshot()).toBe(before);
    expect(h.sink.received.length).toBe(mailsBefore);
  });
});

describe('confirm tokens', () => {
  it('a replayed token is refused and changes nothing', async () => {
    const { link } = await activeSubscriber('replay@example.org');
    const again = await postForm(link, {});
    expect(again.status).toBe(410);
    expect(await again.text()).toContain('already been used');
    const get = await fetch(link);
    expect(get.status).toBe(410);
  });

  it('an expired token is refused and the address stays pending', async () => {
    await subscribe('late@example.org');
    const [mail] = await h.sink.waitFor(1, 'late@example.org');
    const link = confirmLinkFrom(mail!.parsed.text!);
    clock.advance(48 * HOUR + 1000);
    const get = await fetch(link);
    expect(get.status).toBe(410);
    expect(await get.text()).toContain('expired');
    const post = await postForm(link, {});
    expect(post.status).toBe(410);
    expect(h.service.repo.byEmail('late@example.org')!.status).toBe('pending');
  });

  it('a forged token is refused', async () => {
    for (const token of ['A'.repeat(43), 'short', '../../etc/passwd', '%0d%0aSet-Cookie:x=1']) {
      const get = await fetch(`${h.url}/confirm/${token}`);
      expect(get.status).toBe(404);
      expect(await get.text()).toMatch(/This link is not valid|Page not found/);
      expect((await postForm(`${h.url}/confirm/${token}`, {})).status).toBe(404);
    }
  });

  it('signed links refuse other ids, other purposes and altered MACs', async () => {
    const { id } = await activeSubscriber('signed@example.org');
    const unsub = signSubscriberToken(id, 'unsubscribe', TEST_SECRET);
    const manage = signSubscriberToken(id, 'manage', TEST_SECRET);
    const otherId = unsub.replace(/^\d+-/, `${id + 1}-`);
    const otherKey = signSubscriberToken(id, 'unsubscribe', 'someone-elses-secret-key-of-enough-length');
    for (const bad of [manage, otherId, otherKey]) {
      expect((await fetch(`${h.url}/unsubscribe/${bad}`)).status).toBe(404);
      expect((await postForm(`${h.url}/unsubscribe/${bad}`, { 'List-Unsubscribe': 'One-Click' })).status).toBe(404);
    }
    expect((await fetch(`${h.url}/preferences/${unsub}`)).status).toBe(404);
    expect(h.service.repo.byId(id)!.status).toBe('active');
  });
});

describe('unsubscribe', () => {
  it('RFC 8058 one-click POST works with no cookie, answers 200, no redirect', async () => {
    const { id } = await activeSubscriber('oneclick@example.org');
    const url = `${h.url}/unsubscribe/${signSubscriberToken(id, 'unsubscribe', TEST_SECRET)}`;
    const res = await postForm(url, { 'List-Unsubscribe': 'One-Click' });
    expect(res.status).toBe(200);
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(await res.text()).toContain('unsubscribed');
    expect(h.service.repo.byId(id)!.status).toBe('unsubscribed');
    // Again: still fine.
    expect((await postForm(url, { 'List-Unsubscribe': 'One-Click' })).status).toBe(200);
  });

  it('one-click also works as multipart/form-data', async () => {
    const { id } = await activeSubscriber('multipart@example.org');
    const form = new FormData();
    form.set('List-Unsubscribe', 'One-Click');
    const res = await fetch(`${h.url}/unsubscribe/${signSubscriberToken(id, 'unsubscribe', TEST_SECRET)}`, { method: 'POST', body: form, redirect: 'manual' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(h.service.repo.byId(id)!.status).toBe('unsubscribed');
  });

  it('resubscribing from the unsubscribed page is immediate: the signed link already proves the mailbox', async () => {
    const { id } = await activeSubscriber('again@example.org');
    const token = signSubscriberToken(id, 'unsubscribe', TEST_SECRET);
    expect((await postForm(`${h.url}/unsubscribe/${token}`, {})).status).toBe(200);
    clock.advance(25 * HOUR);
    const res = await postForm(`${h.url}/resubscribe/${token}`, {});
    expect(res.status).toBe(200);
    expect(h.service.repo.byId(id)!.status).toBe('active');
    await settle();
    expect(h.sink.received.filter((m) => m.to.includes('again@example.org'))).toHaveLength(1);
  });
});

describe('GET never changes state', () => {
  it('confirm, unsubscribe and preferences pages are read-only', async () => {
    await subscribe('scanner@example.org');
    const [mail] = await h.sink.waitFor(1, 'scanner@example.org');
    const link = confirmLinkFrom(mail!.parsed.text!);
    const id = h.service.repo.byEmail('scanner@example.org')!.id;
    await settle(); // the worker records "sent" just after the server accepted the mail
    const before = snapshot();
    for (const url of [
      link,
      `${h.url}/unsubscribe/${signSubscriberToken(id, 'unsubscribe', TEST_SECRET)}`,
      `${h.url}/preferences/${signSubscriberToken(id, 'manage', TEST_SECRET)}?frequency=paused&digest_size=1`,
      `${h.url}/subscribe?email=x@example.org`,
      `${h.url}/resubscribe/${signSubscriberToken(id, 'unsubscribe', TEST_SECRET)}`,
    ]) {
      await fetch(url);
      await fetch(url, { method: 'HEAD' });
    }
    expect(snapshot()).toBe(before);
    expect(h.service.repo.byId(id)!.status).toBe('pending');
  });
});

describe('header injection and bad input', () => {
  it.each([
    'victim@example.org\r\nBcc: everyone@example.com',
    'victim@example.org\nSubject: hi',
    '"victim"@example.org',
    'victim@example.org, other@example.org',
    'victim@example.org;other@example.org',
    'Victim <victim@example.org>',
  ])('rejects %j with a clear message and sends nothing', async (email) => {
    const before = snapshot();
    const res = await subscribe(email);
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toMatch(/class="field-error" id="email-error">[^<]+</);
    expect(snapshot()).toBe(before);
  });

  it('shows HTML in a topic escaped', async () => {
    const { id } = await activeSubscriber('topics@example.org');
    const manage = `${h.url}/preferences/${signSubscriberToken(id, 'manage', TEST_SECRET)}`;
    const res = await postForm(manage, {
      frequency: 'daily',
      weekday: '1',
      kind: 'new',
      topics: '<img src=x onerror=alert(1)>, "quoted"',
      digest_size: '10',
      delivery_hour: '8',
      time_zone: 'UTC',
    });
    expect(res.status).toBe(303);
    const html = await (await fetch(manage)).text();
    expect(html).toContain('&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;');
    expect(html).not.toContain('<img src=x');
    expect(h.service.repo.byId(id)!.topics).toEqual(['<img src=x onerror=alert(1)>', '"quoted"']);
  });

  it('explains an unknown time zone and an out-of-range count next to the fields', async () => {
    const { id } = await activeSubscriber('prefs-errors@example.org');
    const res = await postForm(`${h.url}/preferences/${signSubscriberToken(id, 'manage', TEST_SECRET)}`, {
      frequency: 'daily',
      weekday: '1',
      kind: 'new',
      topics: '',
      digest_size: '0',
      delivery_hour: '8',
      time_zone: 'Mars/Base',
    });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('That is not a time zone we know');
    expect(html).toContain('Choose a number of papers from 1 to 30.');
    expect(h.service.repo.byId(id)!.digest_size).toBe(10);
  });
});

describe('a refusing mail server', () => {
  it('never fails the HTTP answer; 4xx is retried with backoff and the dead link removed', async () => {
    h.sink.rejectNext(1, 451, '4.3.0 Try again later');
    const res = await subscribe('retry@example.org');
    expect(res.status).toBe(303);
    await settle();
    const id = h.service.repo.byEmail('retry@example.org')!.id;
    let [job] = h.service.repo.confirmationsFor(id);
    expect(job).toMatchObject({ status: 'queued', attempts: 1 });
    expect(job!.last_error).toContain('451');
    expect(Date.parse(job!.next_attempt_at)).toBe(clock.now().getTime() + 60_000);
    expect(h.store.db.prepare('SELECT COUNT(*) AS n FROM confirm_tokens WHERE subscriber_id = ?').get(id)).toEqual({ n: 0 });

    clock.advance(60_000);
    await settle();
    [job] = h.service.repo.confirmationsFor(id);
    expect(job).toMatchObject({ status: 'sent', attempts: 2 });
    const [mail] = await h.sink.waitFor(1, 'retry@example.org');
    expect((await postForm(confirmLinkFrom(mail!.parsed.text!), {})).status).toBe(200);
  });

  it('a 5.1.1 hard bounce fails the job and suppresses the address', async () => {
    h.sink.rejectNext(1, 550, '5.1.1 No such user');
    expect((await subscribe('nobody@example.org')).status).toBe(303);
    await settle();
    const s = h.service.repo.byEmail('nobody@example.org')!;
    expect(s.status).toBe('bounced');
    expect(h.service.repo.confirmationsFor(s.id)[0]).toMatchObject({ status: 'failed', attempts: 1 });
  });
});
