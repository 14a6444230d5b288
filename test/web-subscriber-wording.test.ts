// The subscriber pages say what fits the subscriber: their schedule and kind, an unsubscribe link reopened after
// leaving, time zones by their IANA names; and no glyph that needs an emoji font.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confirmLinkFrom, postForm, startHarness, TEST_SECRET, type Harness } from './helpers/web-harness.js';
import { subscriberPaths } from '../src/subscriptions/subscriber-links.js';
import { canonicalTimeZone } from '../src/subscriptions/preferences.js';
import { LEGACY_ZONE_NAMES, TIME_ZONE_CHOICES } from '../src/subscriptions/time-zones.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

// Emoji and pictographs (and the variation selector that asks for emoji presentation).
const EMOJI = /[\u{1F000}-\u{1FAFF}\u{2600}-\u{27BF}]|\u{FE0F}/u;

async function subscribeAndConfirm(email: string, frequency: 'daily' | 'weekly', kind: string, extra: Record<string, string> = {}): Promise<string> {
  const res = await postForm(`${h.url}/subscribe`, { email, frequency, kind, topics: '', ...extra });
  expect(res.status).toBe(303);
  const [mail] = await h.sink.waitFor(1, email);
  const link = confirmLinkFrom(mail!.parsed.text!);
  const confirmed = await postForm(link.replace(/^https?:\/\/[^/]+/, h.url), {});
  expect(confirmed.status).toBe(200);
  return confirmed.text();
}

describe('wording that fits the subscriber', () => {
  it("a weekly subscriber's confirmed page does not offer a weekly digest; a daily one's does", async () => {
    const weekly = await subscribeAndConfirm('weekly.reader@example.org', 'weekly', 'new');
    expect(weekly).toContain('Your first weekly digest of new papers');
    expect(weekly).not.toMatch(/a weekly digest/);
    expect(weekly).toContain('a daily digest');
    expect(weekly).not.toContain('new papers too');
    const daily = await subscribeAndConfirm('daily.reader@example.org', 'daily', 'trending');
    expect(daily).toContain('Your first daily digest of trending papers');
    expect(daily).toContain('a weekly digest');
    expect(daily).not.toContain('a daily digest');
  });

  it('the unsubscribe page offers what fits the schedule, and reopening it after leaving offers the way back', async () => {
    const s = h.service.repo.byEmail('weekly.reader@example.org')!;
    const { unsubscribePath } = subscriberPaths(TEST_SECRET, s.id);
    const page = await (await fetch(h.url + unsubscribePath)).text();
    expect(page).toContain('Stop sending your weekly digest of new papers');
    expect(page).not.toMatch(/Switch to weekly/);
    expect(page).toContain('Pause your weekly digest instead');
    const daily = h.service.repo.byEmail('daily.reader@example.org')!;
    expect(await (await fetch(h.url + subscriberPaths(TEST_SECRET, daily.id).unsubscribePath)).text()).toContain('Switch to weekly or pause instead');

    expect((await postForm(h.url + unsubscribePath, {})).status).toBe(200);
    const again = await fetch(h.url + unsubscribePath);
    expect(again.status).toBe(200);
    const html = await again.text();
    expect(html).toContain("You're already unsubscribed");
    expect(html).not.toContain('Stop sending');
    expect(html).toMatch(/<form method="post" action="\/resubscribe\/[^"]+">\s*<button class="button primary" type="submit">Resubscribe<\/button>/);
    const back = await postForm(h.url + html.match(/action="(\/resubscribe\/[^"]+)"/)![1]!, {});
    expect(back.status).toBe(200);
    expect(await back.text()).toContain('Your weekly digest of new papers for <strong>weekly.reader@example.org</strong> starts again');
    expect(h.service.repo.byId(s.id)!.status).toBe('active');
  });

  it('no page carries an emoji; icons are inline SVG', async () => {
    const s = h.service.repo.byEmail('daily.reader@example.org')!;
    const { unsubscribePath, managePath } = subscriberPaths(TEST_SECRET, s.id);
    for (const path of ['/', '/check-inbox', unsubscribePath, managePath, '/no/such/page']) {
      const html = await (await fetch(h.url + path, { headers: { accept: 'text/html' } })).text();
      expect(html, path).not.toMatch(EMOJI);
    }
    expect(await (await fetch(h.url + unsubscribePath)).text()).toContain('<svg class="icon"');
  });
});

describe('time zones', () => {
  it('are canonical IANA names: old names in, new names out', () => {
    expect(canonicalTimeZone('Asia/Calcutta')).toBe('Asia/Kolkata');
    expect(canonicalTimeZone('Asia/Kolkata')).toBe('Asia/Kolkata');
    expect(canonicalTimeZone('Europe/Kiev')).toBe('Europe/Kyiv');
    expect(canonicalTimeZone('Europe/Kyiv')).toBe('Europe/Kyiv');
    expect(canonicalTimeZone('America/Buenos_Aires')).toBe('America/Argentina/Buenos_Aires');
    expect(canonicalTimeZone('utc')).toBe('UTC');
    // Every new name in the map is one this runtime takes as input.
    for (const iana of Object.values(LEGACY_ZONE_NAMES)) expect(() => new Intl.DateTimeFormat('en-US', { timeZone: iana })).not.toThrow();
  });

  it('the picker lists IANA names only, each once, UTC first', () => {
    expect(TIME_ZONE_CHOICES[0]).toBe('UTC');
    expect(TIME_ZONE_CHOICES).toContain('Asia/Kolkata');
    expect(TIME_ZONE_CHOICES).toContain('Europe/Kyiv');
    for (const old of Object.keys(LEGACY_ZONE_NAMES)) expect(TIME_ZONE_CHOICES).not.toContain(old);
    expect(new Set(TIME_ZONE_CHOICES).size).toBe(TIME_ZONE_CHOICES.length);
    for (const z of TIME_ZONE_CHOICES) expect(canonicalTimeZone(z), z).toBe(z);
  });

  it('the preferences page has a searchable list, shows a stored old name canonically and saves the new name', async () => {
    const s = h.service.repo.byEmail('daily.reader@example.org')!;
    h.store.db.prepare("UPDATE subscribers SET time_zone = 'Asia/Calcutta' WHERE id = ?").run(s.id);
    const { managePath } = subscriberPaths(TEST_SECRET, s.id);
    const html = await (await fetch(h.url + managePath)).text();
    expect(html).toMatch(/<input id="time_zone" name="time_zone" type="text" list="time-zones"[^>]* value="Asia\/Kolkata"/);
    expect(html).toContain('<datalist id="time-zones">');
    expect(html).toContain('<option value="Europe/Kyiv"></option>');
    expect(html).not.toContain('Asia/Calcutta');
    expect(html).not.toContain('Europe/Kiev');
    const saved = await postForm(h.url + managePath, {
      frequency: 'daily',
      weekday: '1',
      kind: 'trending',
      topics: '',
      digest_size: '5',
      delivery_hour: '8',
      time_zone: 'Europe/Kiev',
    });
    expect(saved.status).toBe(303);
    expect(h.service.repo.byId(s.id)!.time_zone).toBe('Europe/Kyiv');
  });
});
