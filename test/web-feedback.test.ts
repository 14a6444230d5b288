// The email's more/less links over real HTTP against the running service: a GET only shows the paper and one button,
// the POST records (and tells the listener), undo deletes, and a forged, erased or unsubscribed link records nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../src/clock.js';
import { feedbackUrl } from '../src/subscriptions/subscriber-links.js';
import { signFeedbackToken } from '../src/subscriptions/tokens.js';
import { createSubscriberRepository } from '../src/subscriptions/repository.js';
import { defaultPreferences } from '../src/subscriptions/preferences.js';
import { startTestService, type RunningService } from './helpers/running-service.js';
import { tempDir } from './helpers/tmp.js';

const clock = new FakeClock(new Date('2026-11-23T10:00:00Z'));
const told: number[] = [];
let s: RunningService;
let reader: number;
let paper: { id: number; title: string };

const form = (url: string, body: Record<string, string> = {}, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(body).toString(),
  });
const rows = () => s.app.store.db.prepare('SELECT subscriber_id, paper_id, signal, source FROM feedback ORDER BY id').all();
const count = () => s.app.store.db.prepare('SELECT COUNT(*) FROM feedback').pluck().get() as number;
const link = (signal: 'more' | 'less', sub = reader, p = paper.id) => feedbackUrl(s.app.config, s.app.config.SECRET_KEY, sub, p, signal);
const escaped = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;');

beforeAll(async () => {
  s = await startTestService(tempDir(), {}, { clock, service: { feedbackListener: { onFeedback: (id) => void told.push(id) } } });
  const repo = createSubscriberRepository(s.app.store);
  const prefs = defaultPreferences();
  reader = repo.insert({ email: 'reader@example.org', status: 'active', source: 'cli', preferences: prefs }, clock.now().toISOString()).id;
  paper = s.app.store.db.prepare('SELECT id, title FROM papers ORDER BY id LIMIT 1').get() as { id: number; title: string };
});
afterAll(async () => {
  await s?.stop();
});

describe('feedback links', () => {
  it('a GET shows the paper and one button, and records nothing', async () => {
    const before = count();
    for (const signal of ['more', 'less'] as const) {
      const r = await fetch(link(signal));
      expect(r.status).toBe(200);
      const html = await r.text();
      expect(html).toContain(escaped(paper.title));
      expect(html.match(/<form /g)).toHaveLength(1);
      expect(html.match(/<button /g)).toHaveLength(1);
      expect(html).toContain(`action="/feedback/${link(signal).split('/feedback/')[1]}"`);
      expect(html).toContain(signal === 'more' ? 'More like this' : 'Less like this');
      // A HEAD, as some scanners send, changes nothing either.
      expect((await fetch(link(signal), { method: 'HEAD' })).status).toBe(200);
    }
    expect(count()).toBe(before);
    expect(told).toEqual([]);
  });

  it('the POST records, a second tap replaces the first, and undo deletes', async () => {
    const r = await form(link('more'), { source: 'email' });
    expect(r.status).toBe(200);
    const html = await r.text();
    expect(html).toContain('Thanks, noted');
    expect(html).toMatch(/<form method="post" action="\/feedback\/[^"]+\/undo">/);
    expect(rows()).toEqual([{ subscriber_id: reader, paper_id: paper.id, signal: 1, source: 'email' }]);
    expect(told).toEqual([reader]);

    // The GET now says what was recorded, still without writing.
    expect(await (await fetch(link('less'))).text()).toContain('You said “more like this”');

    expect((await form(link('less'), { source: 'paper' })).status).toBe(200);
    expect(rows()).toEqual([{ subscriber_id: reader, paper_id: paper.id, signal: -1, source: 'paper' }]);

    const undo = await form(link('less').replace(/\/less$/, '/undo'));
    expect(undo.status).toBe(200);
    const undone = await undo.text();
    expect(undone).toContain('Undone');
    // The answer they took back is offered again.
    expect(undone).toContain('Less like this');
    expect(rows()).toEqual([]);
    expect(told).toEqual([reader, reader, reader]);

    // Undo twice: nothing there, nothing told.
    expect(await (await form(link('less').replace(/\/less$/, '/undo'))).text()).toContain('Nothing to undo');
    expect(told).toHaveLength(3);
  });

  it('refuses a forged or mangled link with a clear 404 (JSON for a JSON client), and records nothing', async () => {
    const good = link('more');
    const mac = good.split('/feedback/')[1]!.split('/')[0]!.split('-')[2]!;
    const other = s.app.store.db.prepare('SELECT id FROM papers WHERE id != ? ORDER BY id LIMIT 1').pluck().get(paper.id) as number;
    const forged = [
      `${s.base}/feedback/${reader}-${other}-${mac}/more`, // the MAC of another paper
      `${s.base}/feedback/${reader + 1}-${paper.id}-${mac}/more`, // of another reader
      `${s.base}/feedback/${reader}-${paper.id}-${'0'.repeat(28)}/more`,
      `${s.base}/feedback/${reader}-${paper.id}/more`,
      good.replace(/\/more$/, '/maybe'),
    ];
    for (const url of forged) {
      const page = await fetch(url, { headers: { accept: 'text/html' } });
      expect(page.status, url).toBe(404);
      expect(await page.text()).toContain('This link is not valid');
      const json = await fetch(url, { headers: { accept: 'application/json' } });
      expect(json.status).toBe(404);
      expect(json.headers.get('content-type')).toMatch(/^application\/json/);
      expect(((await json.json()) as { error: string }).error).toBe('not_found');
      expect((await form(url)).status).toBe(404);
    }
    expect(count()).toBe(0);
  });

  it("the paper page opened with the reader's token offers both buttons; without it, or with another paper's, none", async () => {
    const t = signFeedbackToken(reader, paper.id, s.app.config.SECRET_KEY);
    const before = count();
    const withToken = await fetch(`${s.base}/papers/${paper.id}?fb=${t}`);
    expect(withToken.status).toBe(200);
    const html = await withToken.text();
    expect(html).toContain(`<form method="post" action="/feedback/${t}/more"><input type="hidden" name="source" value="paper">`);
    expect(html).toContain(`formaction="/feedback/${t}/less"`);
    expect(count()).toBe(before);
    // The feedback page's "Details" goes there.
    expect(await (await fetch(link('more'))).text()).toContain(`href="/papers/${paper.id}?fb&#x3D;${t}"`);

    const other = s.app.store.db.prepare('SELECT id FROM papers WHERE id != ? ORDER BY id LIMIT 1').pluck().get(paper.id) as number;
    for (const url of [`/papers/${paper.id}`, `/papers/${other}?fb=${t}`, `/papers/${paper.id}?fb=${reader}-${paper.id}-${'0'.repeat(28)}`]) {
      const page = await (await fetch(`${s.base}${url}`)).text();
      expect(page, url).not.toContain('/feedback/');
      expect(page).toContain('Subscribe');
    }

    // The button's POST records with the paper page as its source.
    expect((await form(`${s.base}/feedback/${t}/less`, { source: 'paper' })).status).toBe(200);
    expect(rows()).toEqual([{ subscriber_id: reader, paper_id: paper.id, signal: -1, source: 'paper' }]);
    expect(await (await fetch(`${s.base}/papers/${paper.id}?fb=${t}`)).text()).toContain('You said “less like this”');
    expect((await form(`${s.base}/feedback/${t}/undo`)).status).toBe(200);
    expect(count()).toBe(0);
  });

  it('an unsubscribed or erased reader gets a page that says so, and nothing is recorded', async () => {
    const repo = createSubscriberRepository(s.app.store);
    const gone = repo.insert({ email: 'gone@example.org', status: 'active', source: 'cli', preferences: defaultPreferences() }, clock.now().toISOString()).id;
    repo.unsubscribe(gone, clock.now().toISOString());
    const left = await fetch(link('more', gone));
    expect(left.status).toBe(409);
    expect(await left.text()).toContain('You are not receiving digests');
    expect((await form(link('more', gone))).status).toBe(409);

    repo.remove(gone);
    const erased = await fetch(link('more', gone));
    expect(erased.status).toBe(410);
    expect(await erased.text()).toContain('This subscription no longer exists');
    expect((await form(link('less', gone))).status).toBe(410);

    // A paper removed from the archive since the email.
    const missing = feedbackUrl(s.app.config, s.app.config.SECRET_KEY, reader, 9_999_999, 'more');
    expect((await fetch(missing)).status).toBe(404);
    expect(await (await form(missing)).text()).toContain('That paper is no longer here');
    expect(count()).toBe(0);
    expect(signFeedbackToken(reader, paper.id, s.app.config.SECRET_KEY)).toMatch(/^\d+-\d+-[0-9a-f]{28}$/);
  });
});
