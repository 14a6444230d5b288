// The reader's private Atom feed against what their emails really carried: digests sent by the running service's
// delivery path to a real smtp-server, the papers read out of each received message, the feed fetched over HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { FakeClock } from '../../src/clock.js';
import { createSubscriberRepository } from '../../src/subscriptions/repository.js';
import { defaultPreferences } from '../../src/subscriptions/preferences.js';
import { readerFeedPath } from '../../src/subscriptions/subscriber-links.js';
import { signSubscriberToken } from '../../src/subscriptions/tokens.js';
import { startSmtpReceiver, type SmtpReceiver } from '../helpers/smtp-receiver.js';
import { startTestService, type RunningService } from '../helpers/running-service.js';
import { tempDir } from '../helpers/tmp.js';

const DAY = 24 * 3600_000;
const clock = new FakeClock(new Date('2026-11-23T10:00:00Z'));
let smtp: SmtpReceiver;
let s: RunningService;
let reader: number;

/** The papers a received digest shows, in its order: every paper card links to the paper's page here. */
function papersInEmail(html: string): number[] {
  const ids = [...html.matchAll(/\/papers\/(\d+)(?=["?#])/g)].map((m) => Number(m[1]));
  return [...new Set(ids)];
}

interface SaxTag {
  name: string;
  attributes: Record<string, string>;
}
interface SaxParser {
  onerror: (e: Error) => void;
  onopentag: (t: SaxTag) => void;
  ontext: (t: string) => void;
  onclosetag: (name: string) => void;
  write(s: string): { close(): void };
}
// sax has no types of its own; strict mode throws on anything that is not well-formed XML.
const sax = createRequire(import.meta.url)('sax') as { parser(strict: boolean): SaxParser };

interface Feed {
  entries: { id: string; title: string; links: string[] }[];
  self: string;
}

/** Reads the feed with a real XML parser (strict: a malformed document throws). */
function readFeed(xml: string): Feed {
  const feed: Feed = { entries: [], self: '' };
  const p = sax.parser(true);
  const path: string[] = [];
  let text = '';
  p.onerror = (e) => {
    throw e;
  };
  p.onopentag = (t) => {
    path.push(t.name);
    text = '';
    if (t.name === 'entry') feed.entries.push({ id: '', title: '', links: [] });
    if (t.name === 'link') {
      const href = String(t.attributes.href);
      if (path.at(-2) === 'entry') feed.entries.at(-1)!.links.push(href);
      else if (t.attributes.rel === 'self') feed.self = href;
    }
  };
  p.ontext = (t) => void (text += t);
  p.onclosetag = (name) => {
    const e = feed.entries.at(-1);
    if (e && path.at(-2) === 'entry' && name === 'id') e.id = text;
    if (e && path.at(-2) === 'entry' && name === 'title') e.title = text;
    path.pop();
  };
  p.write(xml).close();
  return feed;
}

const paperOf = (entryId: string) => Number(/\/papers\/(\d+)#delivery-\d+$/.exec(entryId)![1]);

beforeAll(async () => {
  smtp = await startSmtpReceiver();
  s = await startTestService(tempDir(), { SMTP_URL: smtp.url, MAIL_DOMAIN: 'paperboy.test' }, { clock });
  reader = createSubscriberRepository(s.app.store).insert(
    { email: 'reader@example.org', status: 'active', source: 'cli', preferences: { ...defaultPreferences(), digest_size: 5 } },
    '2026-11-01T00:00:00.000Z',
  ).id;
});
afterAll(async () => {
  await s?.stop();
  await smtp?.close();
});

describe("a reader's private feed", () => {
  const feedUrl = () => `${s.base}${readerFeedPath(s.app.config.SECRET_KEY, reader)}`;

  it('is empty and valid before anything was sent', async () => {
    const r = await fetch(feedUrl());
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/atom\+xml/);
    expect(r.headers.get('cache-control')).toContain('private');
    const feed = readFeed(await r.text());
    expect(feed.entries).toEqual([]);
    expect(feed.self).toBe(feedUrl());
  });

  it("carries exactly the last email's papers, newest digest first", async () => {
    const sent: number[][] = [];
    for (let day = 0; day < 2; day++) {
      if (day > 0) clock.advance(DAY);
      const summary = await s.service.delivery.service.run({ trigger: 'cli', mode: 'force' });
      expect(summary.counts.sent).toBe(1);
      const received = await smtp.waitFor(day + 1, 'reader@example.org');
      const html = String(received.at(-1)!.parsed.html || '');
      const ids = papersInEmail(html);
      expect(ids.length).toBeGreaterThan(0);
      sent.push(ids);
    }
    // Two different digests (a paper is never sent twice).
    expect(sent[0]!.filter((id) => sent[1]!.includes(id))).toEqual([]);

    const feed = readFeed(await (await fetch(feedUrl())).text());
    const inFeed = feed.entries.map((e) => paperOf(e.id));
    expect(inFeed.slice(0, sent[1]!.length)).toEqual(sent[1]);
    expect(inFeed).toEqual([...sent[1]!, ...sent[0]!]);
    // Each entry names its paper and links to it.
    for (const e of feed.entries) {
      expect(e.title).toMatch(/\S/);
      expect(e.links.some((l) => l.endsWith(`/papers/${paperOf(e.id)}`))).toBe(true);
    }
    expect(new Set(feed.entries.map((e) => e.id)).size).toBe(feed.entries.length);
  });

  it('opens only with its own signed token', async () => {
    const path = readerFeedPath(s.app.config.SECRET_KEY, reader);
    const mac = /\/feeds\/\d+-([0-9a-f]{28})\//.exec(path)![1]!;
    const flipped = mac.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    for (const bad of [
      `/feeds/${reader}-${flipped}/atom.xml`,
      `/feeds/${reader + 1}-${mac}/atom.xml`,
      // The preferences link's token opens the preferences, not the feed.
      `/feeds/${signSubscriberToken(reader, 'manage', s.app.config.SECRET_KEY)}/atom.xml`,
    ]) {
      const r = await fetch(`${s.base}${bad}`);
      expect(r.status, bad).toBe(404);
      expect(await r.text()).not.toContain('<feed');
    }
    // An erased reader's feed is gone with them.
    createSubscriberRepository(s.app.store).remove(reader);
    expect((await fetch(`${s.base}${path}`)).status).toBe(404);
  });
});
