// Issue 16 end to end: the feedback links a real digest carries, a GET that changes nothing, the POST that changes
// the next digest (a liked paper's kind rising, a muted topic gone), against a control reader with the same choices.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { createSubscriberRepository } from '../../src/subscriptions/repository.js';
import { defaultPreferences } from '../../src/subscriptions/preferences.js';
import { signSubscriberToken, verifyFeedbackToken } from '../../src/subscriptions/tokens.js';
import { startSmtpReceiver, type SmtpReceiver } from '../helpers/smtp-receiver.js';
import { startTestService, type RunningService } from '../helpers/running-service.js';
import { tempDir } from '../helpers/tmp.js';

const DAY = 24 * 3600_000;
const clock = new FakeClock(new Date('2026-11-23T10:00:00Z'));
let smtp: SmtpReceiver;
let s: RunningService;
let reader: number;

const READER = 'reader@example.org';
const MUTER = 'muter@example.org';
const CONTROL = 'control@example.org';
let muter: number;

/** The papers a received digest shows, in its order (every card links to the paper's page). */
const papersIn = (html: string) => [...new Set([...html.matchAll(/\/papers\/(\d+)(?=["?#])/g)].map((m) => Number(m[1])))];

/** Each card's two feedback links, as the email has them. */
const feedbackLinksIn = (html: string) =>
  [...html.matchAll(/https?:\/\/[^"\s]+\/feedback\/([0-9a-f-]+)\/(more|less)/g)].map((m) => ({ url: m[0], token: m[1]!, signal: m[2]! }));

// The test's own notion of "about the same thing", independent of the model: shared words of title and abstract.
const STOP = new Set(
  'the and for with from that this are our can which into than via using based over such their these its have has been not also more both while on of in to a an we is by as be at or it'.split(
    ' ',
  ),
);
function words(id: number): Set<string> {
  const p = s.app.store.db.prepare('SELECT title, abstract FROM papers WHERE id = ?').get(id) as { title: string; abstract: string };
  return new Set(
    `${p.title} ${p.abstract}`
      .toLowerCase()
      .match(/[a-z][a-z-]{3,}/g)
      ?.filter((w) => !STOP.has(w)) ?? [],
  );
}
function similarity(a: number, b: number): number {
  const A = words(a);
  const B = words(b);
  let both = 0;
  for (const w of A) if (B.has(w)) both++;
  return both / Math.max(1, A.size + B.size - both);
}
const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / Math.max(1, xs.length);

async function sendDay(n: number): Promise<{ reader: string; muter: string; control: string }> {
  const summary = await s.service.delivery.service.run({ trigger: 'cli', mode: 'force' });
  expect(summary.counts.sent).toBe(3);
  const html = async (to: string) => String((await smtp.waitFor(n, to)).at(-1)!.parsed.html || '');
  return { reader: await html(READER), muter: await html(MUTER), control: await html(CONTROL) };
}

const feedbackRows = () => (s.app.store.db.prepare('SELECT COUNT(*) AS n FROM feedback').get() as { n: number }).n;

beforeAll(async () => {
  smtp = await startSmtpReceiver();
  s = await startTestService(tempDir(), { SMTP_URL: smtp.url, MAIL_DOMAIN: 'paperboy.test' }, { clock });
  const repo = createSubscriberRepository(s.app.store);
  const prefs = { ...defaultPreferences(), digest_size: 8 };
  reader = repo.insert({ email: READER, status: 'active', source: 'cli', preferences: prefs }, '2026-11-01T00:00:00.000Z').id;
  muter = repo.insert({ email: MUTER, status: 'active', source: 'cli', preferences: prefs }, '2026-11-01T00:00:00.000Z').id;
  repo.insert({ email: CONTROL, status: 'active', source: 'cli', preferences: prefs }, '2026-11-01T00:00:00.000Z').id;
});
afterAll(async () => {
  await s?.stop();
  await smtp?.close();
});

describe('a digest that learns its reader', () => {
  let firstEmail = '';

  it("carries a signed 'more' and 'less' link for every paper, and a GET on one changes nothing", async () => {
    firstEmail = (await sendDay(1)).reader;
    const papers = papersIn(firstEmail);
    expect(papers.length).toBe(8);
    const links = feedbackLinksIn(firstEmail);
    for (const id of papers) {
      const mine = links.filter((l) => verifyFeedbackToken(l.token, s.app.config.SECRET_KEY)?.paperId === id);
      expect(mine.map((l) => l.signal).sort()).toEqual(['less', 'more']);
      for (const l of mine) expect(verifyFeedbackToken(l.token, s.app.config.SECRET_KEY)?.subscriberId).toBe(reader);
    }

    const before = feedbackRows();
    const link = links.find((l) => l.signal === 'more')!;
    const r = await fetch(link.url.replace(/^https?:\/\/[^/]+/, s.base));
    expect(r.status).toBe(200);
    expect(await r.text()).toMatch(/<form[^>]+method="post"/);
    expect(feedbackRows()).toBe(before);
  });

  it('the POSTs change the next digest: what the reader liked rises, a muted topic is gone', async () => {
    const papers = papersIn(firstEmail);
    const links = feedbackLinksIn(firstEmail);
    const linkFor = (id: number, signal: string) =>
      links.find((l) => l.signal === signal && verifyFeedbackToken(l.token, s.app.config.SECRET_KEY)?.paperId === id)!.url.replace(/^https?:\/\/[^/]+/, s.base);
    const liked = papers.slice(0, 2);
    const disliked = papers.slice(2);
    const post = (url: string) =>
      fetch(url, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    for (const id of liked) expect((await post(linkFor(id, 'more'))).status).toBeLessThan(400);
    for (const id of disliked) expect((await post(linkFor(id, 'less'))).status).toBeLessThan(400);
    expect(feedbackRows()).toBe(8);

    // The control reader has the same choices, no feedback and nothing muted.
    clock.advance(DAY);

    // Mute, through the preferences page, a word of the control's likely papers: the most common title word of the
    // unsent trending papers.
    const unsent = s.app.store.db
      .prepare('SELECT id, title FROM papers WHERE id NOT IN (SELECT value FROM deliveries, json_each(deliveries.paper_ids)) ORDER BY upvotes DESC LIMIT 30')
      .all() as { id: number; title: string }[];
    const counts = new Map<string, number>();
    for (const p of unsent) for (const w of new Set(p.title.toLowerCase().match(/[a-z]{5,}/g) ?? [])) if (!STOP.has(w)) counts.set(w, (counts.get(w) ?? 0) + 1);
    const muted = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
    const token = signSubscriberToken(muter, 'manage', s.app.config.SECRET_KEY);
    const form = {
      frequency: 'daily',
      weekday: '1',
      kind: 'trending',
      topics: '',
      digest_size: '8',
      delivery_hour: '8',
      time_zone: 'UTC',
      muted_topics: muted,
      followed_authors: '',
      selection_mode: 'top',
      relevance_bar: '60',
      trend_weight: '50',
    };
    const saved = await fetch(`${s.base}/preferences/${token}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
    expect(saved.status).toBe(303);
    // The refit runs in the background, never on the send path: wait for it before tomorrow's send.
    await s.service.relevance.idle();
    const model = s.app.store.db.prepare('SELECT COUNT(*) AS n FROM reader_models WHERE subscriber_id = ?').get(reader) as { n: number };
    expect(model.n).toBe(1);

    const next = await sendDay(2);
    const mine = papersIn(next.reader);
    const muters = papersIn(next.muter);
    const theirs = papersIn(next.control);
    for (const d of [mine, muters, theirs]) expect(d.length).toBe(8);
    // The control still gets papers with the muted word; the reader who muted it, none.
    const mentions = (id: number) => words(id).has(muted);
    expect(theirs.some(mentions)).toBe(true);
    expect(muters.filter(mentions)).toEqual([]);
    // The reader who tapped (nothing muted) gets a digest closer to what they liked than the control's of the same
    // day, in another order: without the refit the two would be the same trending list.
    const closeness = (ids: number[]) => mean(ids.map((id) => Math.max(...liked.map((l) => similarity(id, l)))));
    expect(closeness(mine)).toBeGreaterThan(closeness(theirs));
    expect(mine).not.toEqual(theirs);
  });
});
