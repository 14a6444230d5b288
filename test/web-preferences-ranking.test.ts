// The preference centre's issue-16 additions over real HTTP: muted topics, followed authors, only-with-code, the
// top/threshold mode with its bar and the trend knob saved and refused field by field (nothing typed is lost), and
// feedback given from the preferences page on the last digest's papers, with undo.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../src/clock.js';
import { signSubscriberToken } from '../src/subscriptions/tokens.js';
import { createSubscriberRepository } from '../src/subscriptions/repository.js';
import { defaultPreferences, PREFERENCE_MESSAGES } from '../src/subscriptions/preferences.js';
import { startTestService, type RunningService } from './helpers/running-service.js';
import { tempDir } from './helpers/tmp.js';

const clock = new FakeClock(new Date('2026-11-23T10:00:00Z'));
const told: number[] = [];
let s: RunningService;
let reader: number;
let token: string;

const post = (path: string, body: Record<string, string>) =>
  fetch(`${s.base}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(body).toString(),
  });
const stored = () =>
  s.app.store.db
    .prepare(
      'SELECT topics, muted_topics, followed_authors, only_with_code, selection_mode, relevance_bar, trend_weight, digest_size FROM subscribers WHERE id = ?',
    )
    .get(reader);
const page = async () => {
  const r = await fetch(`${s.base}/preferences/${token}`);
  expect(r.status).toBe(200);
  return r.text();
};

const good = {
  frequency: 'daily',
  weekday: '1',
  kind: 'trending',
  topics: 'diffusion',
  digest_size: '8',
  delivery_hour: '7',
  time_zone: 'UTC',
  muted_topics: 'survey, GAN',
  followed_authors: 'Ada Lovelace, Alan Turing',
  only_with_code: '1',
  selection_mode: 'threshold',
  relevance_bar: '70',
  trend_weight: '20',
};

beforeAll(async () => {
  s = await startTestService(tempDir(), {}, { clock, service: { feedbackListener: { onFeedback: (id) => void told.push(id) } } });
  const repo = createSubscriberRepository(s.app.store);
  reader = repo.insert({ email: 'reader@example.org', status: 'active', source: 'cli', preferences: defaultPreferences() }, clock.now().toISOString()).id;
  token = signSubscriberToken(reader, 'manage', s.app.config.SECRET_KEY);
});
afterAll(async () => {
  await s?.stop();
});

describe('preference centre: ranking choices', () => {
  it('shows each new field with its stored value', async () => {
    const html = await page();
    for (const name of ['muted_topics', 'followed_authors', 'only_with_code', 'relevance_bar', 'trend_weight']) expect(html).toContain(`name="${name}"`);
    expect(html).toMatch(/<input type="radio" name="selection_mode" value="top" checked>/);
    expect(html).toMatch(/id="trend_weight" name="trend_weight" type="range" min="0" max="100" step="5" value="50"/);
    expect(html).toContain('More my topics');
    expect(html).toContain('More trending');
    expect(html).not.toMatch(/name="only_with_code" type="checkbox" value="1" checked/);
  });

  it('saves them all, and shows them back', async () => {
    const r = await post(`/preferences/${token}`, good);
    expect(r.status).toBe(303);
    expect(stored()).toEqual({
      topics: '["diffusion"]',
      muted_topics: '["survey","GAN"]',
      followed_authors: '["Ada Lovelace","Alan Turing"]',
      only_with_code: 1,
      selection_mode: 'threshold',
      relevance_bar: 70,
      trend_weight: 20,
      digest_size: 8,
    });
    const html = await page();
    expect(html).toContain('value="survey, GAN"');
    expect(html).toContain('value="Ada Lovelace, Alan Turing"');
    expect(html).toMatch(/name="only_with_code" type="checkbox" value="1" checked/);
    expect(html).toMatch(/name="selection_mode" value="threshold" checked/);
    expect(html).toMatch(/name="trend_weight" type="range" min="0" max="100" step="5" value="20"/);

    // Unticking the box (the browser then sends no field at all) turns the filter off.
    const { only_with_code: _, ...unticked } = good;
    expect((await post(`/preferences/${token}`, unticked)).status).toBe(303);
    expect(stored()).toMatchObject({ only_with_code: 0, selection_mode: 'threshold' });
    expect((await post(`/preferences/${token}`, good)).status).toBe(303);
  });

  it.each([
    ['muted_topics', Array.from({ length: 11 }, (_, i) => `m${i}`).join(', '), PREFERENCE_MESSAGES.mutedCount],
    ['muted_topics', 'x'.repeat(41), PREFERENCE_MESSAGES.mutedLength],
    ['followed_authors', Array.from({ length: 21 }, (_, i) => `Author ${i}`).join(', '), PREFERENCE_MESSAGES.authorsCount],
    ['followed_authors', 'A'.repeat(81), PREFERENCE_MESSAGES.authorLength],
    ['only_with_code', 'perhaps', PREFERENCE_MESSAGES.onlyWithCode],
    ['selection_mode', 'random', PREFERENCE_MESSAGES.selectionMode],
    ['relevance_bar', '101', PREFERENCE_MESSAGES.relevanceBar],
    ['relevance_bar', '', PREFERENCE_MESSAGES.relevanceBar],
    ['trend_weight', '-5', PREFERENCE_MESSAGES.trendWeight],
    ['trend_weight', '50.5', PREFERENCE_MESSAGES.trendWeight],
  ])('refuses a bad %s (%j) next to the field, keeps what was typed, stores nothing', async (name, value, message) => {
    const before = stored();
    const typed = { ...good, topics: 'robotics, planning', digest_size: '12', [name]: value };
    const r = await post(`/preferences/${token}`, typed);
    expect(r.status).toBe(400);
    const html = await r.text();
    const escaped = message.replace(/"/g, '&quot;');
    expect(html).toContain(`<p class="field-error">${escaped}</p>`);
    expect(html.match(/class="field-error"/g)).toHaveLength(1);
    // What was typed in the other fields is still in the form.
    expect(html).toContain('value="robotics, planning"');
    expect(html).toContain('value="12"');
    expect(stored()).toEqual(before);
  });

  it('a form without the ranking fields (loaded before they existed) keeps what is stored', async () => {
    const before = stored() as Record<string, unknown>;
    const old = { frequency: 'daily', weekday: '1', kind: 'both', topics: 'llm', digest_size: '5', delivery_hour: '7', time_zone: 'UTC' };
    expect((await post(`/preferences/${token}`, old)).status).toBe(303);
    expect(stored()).toEqual({ ...before, topics: '["llm"]', digest_size: 5 });
  });
});

describe('preference centre: feedback on the last digest', () => {
  let papers: { id: number; title: string }[];

  beforeAll(() => {
    papers = s.app.store.db.prepare('SELECT id, title FROM papers ORDER BY id LIMIT 3').all() as { id: number; title: string }[];
    const db = s.app.store.db;
    db.prepare(`INSERT INTO editions (kind, frequency, local_date, created_at) VALUES ('trending', 'daily', '2026-11-22', ?)`).run(clock.now().toISOString());
    const edition = db.prepare('SELECT last_insert_rowid()').pluck().get();
    db.prepare(
      `INSERT INTO deliveries (edition_id, subscriber_id, frequency, period, paper_ids, status, created_at, updated_at, sent_at)
       VALUES (?, ?, 'daily', '2026-11-22', ?, 'sent', ?, ?, ?)`,
    ).run(edition, reader, JSON.stringify(papers.map((p) => p.id)), '2026-11-22T08:00:00.000Z', '2026-11-22T08:00:00.000Z', '2026-11-22T08:00:01.000Z');
  });

  const feedbackRows = () => s.app.store.db.prepare('SELECT paper_id, signal, source FROM feedback WHERE subscriber_id = ? ORDER BY id').all(reader);

  it('lists the last digest with more/less buttons, each paper linked to its page with a feedback token', async () => {
    const html = await page();
    expect(html).toContain('Your last digest, Nov 22, 2026.');
    for (const p of papers) {
      expect(html).toMatch(new RegExp(`href="/papers/${p.id}\\?fb(?:=|&#x3D;)${reader}-${p.id}-[0-9a-f]{28}"`));
      expect(html).toContain(`<input type="hidden" name="paper" value="${p.id}">`);
    }
    expect(html.match(/name="signal" value="more"/g)).toHaveLength(3);
    expect(html.match(/name="signal" value="less"/g)).toHaveLength(3);
    expect(feedbackRows()).toEqual([]);
  });

  it('records a tap from the page, shows it with undo, and undoes it', async () => {
    const r = await post(`/preferences/${token}/feedback`, { paper: String(papers[1]!.id), signal: 'less' });
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe(`/preferences/${token}?feedback=1#feedback`);
    expect(feedbackRows()).toEqual([{ paper_id: papers[1]!.id, signal: -1, source: 'preferences' }]);
    expect(told.at(-1)).toBe(reader);

    const html = await page();
    expect(html).toContain('You said: less like this');
    expect(html).toContain('What you told us');
    expect(html.match(/name="signal" value="undo"/g)).toHaveLength(2); // in the digest list and in "What you told us"

    expect((await post(`/preferences/${token}/feedback`, { paper: String(papers[1]!.id), signal: 'undo' })).status).toBe(303);
    expect(feedbackRows()).toEqual([]);
    expect(await page()).not.toContain('What you told us');
  });

  it('refuses a bad paper, a bad signal and a forged token, recording nothing', async () => {
    expect((await post(`/preferences/${token}/feedback`, { paper: '9999999', signal: 'more' })).status).toBe(404);
    expect((await post(`/preferences/${token}/feedback`, { paper: 'x', signal: 'more' })).status).toBe(400);
    expect((await post(`/preferences/${token}/feedback`, { paper: String(papers[0]!.id), signal: 'maybe' })).status).toBe(400);
    expect((await post(`/preferences/${reader}-${'0'.repeat(28)}/feedback`, { paper: String(papers[0]!.id), signal: 'more' })).status).toBe(404);
    expect(feedbackRows()).toEqual([]);
  });
});
