// The daily-papers reader's fast paths must agree with the general ones they skip: the hand check of an item accepts
// only what the zod schema accepts (zod decides the rest and names the problem), and a URL's host read without the
// URL parser is the parser's.
import { describe, expect, it } from 'vitest';
import { readItem, validateItem } from '../src/corpus/sources/daily-papers.js';
import { hostOf } from '../src/corpus/paper-links.js';
import { webUrl } from '../src/corpus/sources/paper.js';

const base = () => ({
  paper: {
    id: '2412.01234v2',
    title: 'A Title',
    summary: 'An abstract with https://github.com/x/y.',
    authors: [{ name: 'Ada Lovelace', hidden: false }, { name: 'Alan Turing' }],
    publishedAt: '2024-12-02T10:00:00.000Z',
    submittedOnDailyAt: '2024-12-03T00:00:00.000Z',
    upvotes: 41,
    numComments: 2,
    githubRepo: 'https://github.com/x/y',
    githubStars: 120,
    projectPage: 'https://x.example.org',
    ai_summary: 'One line.',
    ai_keywords: ['a', 'b'],
    organization: { name: 'lab', fullname: 'The Lab' },
  },
  publishedAt: '2024-12-03T08:00:00.000Z',
  title: 'Outer title',
  summary: 'Outer summary',
  numComments: 3,
  submittedOnDailyAt: '2024-12-03T00:00:00.000Z',
  organization: 'lab',
  extra: { ignored: true },
});

const ODD: unknown[] = [undefined, null, '', 'text', 0, 7, -1, 1.5, 2 ** 53, Number.NaN, Infinity, true, [], ['x'], [{}], {}, { name: 'n' }, { name: 3 }];

/** The base item with `path` set to each odd value (or deleted), plus a few whole-item oddities. */
function variants(): unknown[] {
  const out: unknown[] = [base(), null, 'item', [], [base()], {}, { paper: null }, { paper: [] }];
  const paths = [
    ...Object.keys(base().paper).map((k) => ['paper', k]),
    ...Object.keys(base())
      .filter((k) => k !== 'paper')
      .map((k) => [k]),
    ['paper', 'authors', '0'],
    ['paper', 'authors', '0', 'name'],
    ['paper', 'authors', '1', 'hidden'],
    ['paper', 'ai_keywords', '1'],
    ['paper', 'organization', 'name'],
    ['paper', 'organization', 'fullname'],
    ['paper'],
  ];
  for (const path of paths) {
    for (const v of [...ODD, 'DELETE']) {
      const item = base() as Record<string, unknown>;
      let at = item;
      for (const k of path.slice(0, -1)) at = at[k] as Record<string, unknown>;
      if (v === 'DELETE') delete at[path.at(-1)!];
      else at[path.at(-1)!] = v;
      out.push(item);
    }
  }
  return out;
}

describe('daily-papers item validation', () => {
  it('the hand check accepts only what zod accepts, and zod reads the same values from what it accepts', () => {
    let fast = 0;
    let rejected = 0;
    for (const raw of variants()) {
      const quick = validateItem(raw, true);
      const zod = validateItem(raw, false);
      expect(quick.success, JSON.stringify(raw)).toBe(zod.success);
      if (!zod.success) {
        rejected++;
        continue;
      }
      // Everything zod keeps is in the raw item, unchanged (the hand check hands on the raw item itself).
      expect(raw).toMatchObject(zod.data as object);
      if (quick.success && quick.data === raw) fast++;
    }
    // Most variants take the fast path; a good share are refused (each by zod, with its message).
    expect(fast).toBeGreaterThan(100);
    expect(rejected).toBeGreaterThan(100);
  });

  it('an item the hand check refuses is still refused by zod with a warning naming it', () => {
    const bad = base();
    (bad.paper as Record<string, unknown>).upvotes = -3;
    expect(readItem(bad, '2024-12-03', 7)).toEqual({ what: 'item 7 of 2024-12-03 (2412.01234v2)', message: expect.stringMatching(/^paper\.upvotes: /) });
    const ok = readItem(base(), '2024-12-03', 1);
    expect(ok).toMatchObject({
      arxivId: '2412.01234',
      title: 'A Title',
      upvotes: 41,
      comments: 3,
      organization: 'The Lab',
      authorNames: ['Ada Lovelace', 'Alan Turing'],
    });
  });
});

describe('URL hosts without the URL parser', () => {
  const URLS = [
    'https://github.com/x/y',
    'http://GitHub.COM/X/y.git',
    'https://a.b.c.example.org/p?q=1#f',
    'https://x.example.org',
    'https://github.com/x/y)',
    'https://github.com\\x',
    'https://1.2.3.4/x',
    'https://999.1.1.1/',
    'https://a.1/',
    'https://a.b1/',
    'https://xn--nxasmq6b.com/',
    'https://xn--a.com/',
    'https://user@github.com/x',
    'https://github.com:8080/x',
    'https://-.com/',
    'https://a..com/',
    'https://.com/',
    'https://com',
    'ftp://github.com/x',
    'https://gïthub.com/x',
    'https://git hub.com/x',
    'https://github.com/ä',
    'https://github.com/x y',
    'https://github.com/%zz',
    'https://exa_mple.com/',
    'https://EXAMPLE.com.',
    'https://',
    'not a url',
    'https://a.b-/',
    'https://0x10.com/',
    'https://a.0x10/',
  ];
  it("gives the parser's hostname (or null where it throws) for plain and odd URLs alike", () => {
    for (const u of URLS) {
      let expected: string | null;
      try {
        expected = new URL(u).hostname;
      } catch {
        expected = null;
      }
      expect(hostOf(u), u).toBe(expected);
    }
  });

  it('webUrl keeps what the parser accepts as an http(s) URL with a dotted host', () => {
    for (const u of URLS) {
      let ok = false;
      try {
        const p = new URL(u);
        ok = (p.protocol === 'https:' || p.protocol === 'http:') && p.hostname.includes('.');
      } catch {
        ok = false;
      }
      expect(webUrl(u), u).toBe(ok ? u : null);
    }
  });
});
