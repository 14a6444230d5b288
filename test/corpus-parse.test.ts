import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { decodePage, parsePage } from '../src/corpus/parse-page.js';
import { titleKey } from '../src/corpus/merge.js';
import { latexToText } from '../src/corpus/latex.js';
import { extractLinks } from '../src/corpus/paper-links.js';
import { parseDateLine } from '../src/corpus/dates.js';
import { LISTING_HEADER } from '../bench/corpus-gen.js';

const NOW = new Date('2026-11-23T12:00:00Z');
const page = (name: string) => parsePage(readFileSync(`seeds/${name}`), name, NOW);
const find = (p: ReturnType<typeof parsePage>, title: string) => {
  const e = p.entries.find((x) => x.title === title);
  if (!e) throw new Error(`no entry "${title}" on ${p.file}`);
  return e;
};

describe('layout 1: blocks with metadata', () => {
  const p = page('000_3f5a05582542f440.txt');

  it('reads the page header and every entry', () => {
    expect(p.layout).toBe(1);
    expect(p.listedOn).toBe('2026-04-28');
    expect(p.entries).toHaveLength(25);
    expect(p.warnings).toEqual([]);
    expect(p.entries[0]!.title).toBe('A Neural Network Perturbation Theory Based on the Born Series');
    expect(p.entries[0]!.line).toBe(13);
    expect(p.entries[0]!.position).toBe(1);
  });

  it('reads authors, date and upvotes', () => {
    const e = find(p, 'Fine-Grained Perturbation Guidance via Attention Head Selection');
    expect(e).toMatchObject({ authors: 10, publishedOn: '2025-06-12', upvotes: 3 });
    expect(find(p, 'A Neural Network Perturbation Theory Based on the Born Series')).toMatchObject({
      authors: 2,
      publishedOn: '2020-09-07',
      upvotes: null,
    });
  });

  it('turns LaTeX escapes into text and finds links without trailing punctuation', () => {
    const e = find(p, 'Light Schrödinger Bridge');
    expect(e.abstract).toContain('computational Schrödinger Bridges');
    expect(e.abstract).not.toContain('\\"');
    expect(e.links).toEqual([{ url: 'https://github.com/ngushchin/LightSB', kind: 'code' }]);
    const lirpa = find(p, 'Automatic Perturbation Analysis for Scalable Certified Robustness and Beyond');
    expect(lirpa.links).toEqual([{ url: 'https://github.com/KaidiXu/auto_LiRPA', kind: 'code' }]);
  });
});

describe('layout 1 without a year and entries without metadata', () => {
  const p = page('003_a235a867fa8ff662.txt');
  it('parses an entry that has no metadata at all', () => {
    const e = find(p, 'Dale meets Langevin: A Multiplicative Denoising Diffusion Model');
    expect(e).toMatchObject({ authors: null, publishedOn: null, upvotes: null });
    expect(e.abstract.length).toBeGreaterThan(100);
    expect(p.listedOn).toBe('2026-11-21');
    expect(p.entries).toHaveLength(53);
  });
  it('reads "Mon D" dates as the current year, with an upvote count', () => {
    const e = p.entries.find((x) => x.publishedOn === '2026-10-23');
    expect(e?.upvotes).toBe(3);
  });
});

describe('layout 2: title and abstract only', () => {
  const p = page('002_12a6515ead7b9236.txt');
  it('reads 63 entries, none with metadata', () => {
    expect(p.layout).toBe(2);
    expect(p.entries).toHaveLength(63);
    expect(p.entries.every((e) => e.authors === null && e.publishedOn === null)).toBe(true);
    expect(p.entries[0]!.title).toBe('Probing then Editing Response Personality of Large Language Models');
    expect(p.entries[0]!.links).toEqual([{ url: 'https://github.com/universe-sky/probing-then-editing-personality', kind: 'code' }]);
  });
});

describe('layout 3: alternating lines, first title glued to Subscribe', () => {
  const p = page('004_b13e46ab2f810ad4.txt');
  it('drops the Subscribe prefix and pairs the lines', () => {
    expect(p.layout).toBe(3);
    expect(p.listedOn).toBeNull();
    expect(p.entries).toHaveLength(119);
    expect(p.entries[0]!.title).toBe('Ambiguity in solving imaging inverse problems with deep learning based operators');
    expect(p.entries[0]!.abstract.startsWith('In recent years')).toBe(true);
    expect(p.entries[1]!.title.startsWith('DGNO:')).toBe(true);
    expect(p.warnings).toEqual([]);
  });
  it('trims link punctuation such as ")." and a trailing "."', () => {
    const beno = find(p, 'BENO: Boundary-embedded Neural Operators for Elliptic PDEs');
    expect(beno.links).toEqual([{ url: 'https://github.com/AI4Science-WestlakeU/beno.git', kind: 'code' }]);
    expect(beno.abstract).toContain('60.96%');
  });
});

describe('pieces', () => {
  it('latexToText', () => {
    expect(latexToText('Schr\\"odinger')).toBe('Schrödinger');
    expect(latexToText('amounts of {\\em labeled} data')).toBe('amounts of labeled data');
    expect(latexToText("R\\'enyi and P\\'ol")).toBe('Rényi and Pól');
    expect(latexToText('94\\% and D{=}1 and 64{times}64')).toBe('94% and D=1 and 64×64');
    expect(latexToText('plain text')).toBe('plain text');
  });
  it('extractLinks trims punctuation and keeps balanced parentheses', () => {
    expect(extractLinks('webpage (https://a.github.io/blog/x.html) and code (https://github.com/T/g).')).toEqual([
      { url: 'https://a.github.io/blog/x.html', kind: 'project' },
      { url: 'https://github.com/T/g', kind: 'code' },
    ]);
    expect(extractLinks('see https://en.wikipedia.org/wiki/Foo_(bar).')[0]!.url).toBe('https://en.wikipedia.org/wiki/Foo_(bar)');
    expect(extractLinks('Project page: https://nv-tlabs.github.io/GENIE.')).toEqual([{ url: 'https://nv-tlabs.github.io/GENIE', kind: 'project' }]);
  });
  it('parseDateLine', () => {
    expect(parseDateLine('Jun 12, 2025 3', NOW)).toEqual({ date: '2025-06-12', upvotes: 3 });
    expect(parseDateLine('Mar 4', NOW)).toEqual({ date: '2026-03-04', upvotes: null });
    // A year-less date ahead of now belongs to last year.
    expect(parseDateLine('Dec 30', NOW)).toEqual({ date: '2025-12-30', upvotes: null });
    expect(parseDateLine('Feb 30, 2024', NOW)).toBeNull();
    expect(parseDateLine('Foo 3, 2024', NOW)).toBeNull();
  });
});

describe('bad input gets a clear warning', () => {
  const parse = (s: string | Buffer) => parsePage(typeof s === 'string' ? Buffer.from(s) : s, 'bad.txt', NOW);
  const HEADER = `${LISTING_HEADER}Apr 28\n\n`;

  it('an empty file', () => {
    const p = parse('');
    expect(p.entries).toEqual([]);
    expect(p.warnings).toEqual([{ file: 'bad.txt', line: 1, message: 'empty page: no entries' }]);
  });

  it('a binary file', () => {
    const p = parse(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0x02, 0xff, 0xfe]));
    expect(p.entries).toEqual([]);
    expect(p.warnings[0]!.message).toBe('not a text page (binary data); skipped');
  });

  it('invalid UTF-8', () => {
    const p = parse(Buffer.from([0x54, 0x69, 0x74, 0x6c, 0x65, 0x0a, 0xc3, 0x28, 0x0a]));
    expect(p.warnings[0]!.message).toBe('not valid UTF-8 text; skipped');
  });

  it('CRLF line ends and a byte-order mark read like the plain page', () => {
    const plain = readFileSync('seeds/000_3f5a05582542f440.txt', 'utf8');
    const crlf = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(plain.replace(/\n/g, '\r\n'))]);
    const a = parse(Buffer.from(plain));
    const b = parse(crlf);
    expect(b.warnings).toEqual([]);
    expect(b.entries).toEqual(a.entries);
    expect(b.listedOn).toBe('2026-04-28');
  });

  it('a truncated last entry (title with no abstract)', () => {
    const p = parse(HEADER + 'Good Paper\n\nA fine abstract about things.\n\n  • 2 authors\n·\nMay 1, 2024\n\nCut Off Paper\n');
    expect(p.entries.map((e) => e.title)).toEqual(['Good Paper']);
    expect(p.warnings).toEqual([{ file: 'bad.txt', line: 21, message: 'truncated entry "Cut Off Paper": title with no abstract; skipped' }]);
  });

  it('garbled metadata lines', () => {
    const p = parse(HEADER + 'Paper One\n\nAbstract one.\n\n  • many authors\n·\nSomeday, maybe\n\nPaper Two\n\nAbstract two.\n');
    expect(p.entries.map((e) => e.title)).toEqual(['Paper One', 'Paper Two']);
    expect(p.entries[0]).toMatchObject({ authors: null, publishedOn: null });
    expect(p.warnings.map((w) => [w.line, w.message])).toEqual([
      [17, 'unreadable metadata line "• many authors"; kept the entry without it'],
      [19, 'unreadable metadata line "Someday, maybe"; kept the entry without it'],
    ]);
  });

  it('metadata with no paper before it', () => {
    const p = parse(HEADER + '  • 3 authors\n·\nMay 1, 2024\n\nPaper\n\nAbstract.\n');
    expect(p.entries.map((e) => e.title)).toEqual(['Paper']);
    expect(p.warnings[0]).toEqual({ file: 'bad.txt', line: 13, message: 'metadata lines with no paper before them; skipped' });
  });

  it('a text that is not a listing: no header, no metadata, nothing read (it used to become paper "hello")', () => {
    const p = parse('hello\nthis is not a listing\n');
    expect(p.entries).toEqual([]);
    expect(p.warnings).toEqual([{ file: 'bad.txt', line: 1, message: 'not a listing page (no listing header and no paper metadata); skipped' }]);
    expect(parse('Title one\n\nAbstract one.\n\nTitle two\n\nAbstract two.\n').entries).toEqual([]);
    // Without the header but with paper metadata it is still a listing: read, with a warning.
    const meta = parse('Paper One\n\nAbstract one.\n\n  • 2 authors\n·\nMay 1, 2024\n');
    expect(meta.entries.map((e) => e.title)).toEqual(['Paper One']);
    expect(meta.warnings[0]!.message).toBe('page does not start with the listing header; read it anyway');
  });

  it('a layout-3 page whose last title lost its abstract', () => {
    const p = parse('Get trending papers in your email inbox!\nSubscribeFirst Title\nFirst abstract.\nSecond Title\n');
    expect(p.entries.map((e) => e.title)).toEqual(['First Title']);
    expect(p.warnings[0]!.line).toBe(4);
    expect(p.warnings[0]!.message).toContain('title with no abstract');
  });
});

// The parse's fast paths (buffer.isUtf8, ASCII titles without NFKD) must agree with the general ones they skip.
describe('fast paths agree with the general ones', () => {
  const strict = (b: Buffer) => {
    try {
      return { text: new TextDecoder('utf-8', { fatal: true }).decode(b).replace(/^\uFEFF/, '') };
    } catch {
      return { error: 'not valid UTF-8 text; skipped' };
    }
  };

  it('decodes exactly what a fatal TextDecoder accepts, byte-order marks included', () => {
    const bom = [0xef, 0xbb, 0xbf];
    const samples = [
      [0x41, 0x42],
      [...bom, 0x41],
      [...bom, ...bom, 0x41],
      [0xc3, 0xa9, 0x41], // é
      [0xf0, 0x9f, 0x98, 0x80], // an emoji
      [0xc0, 0xaf], // overlong "/"
      [0xed, 0xa0, 0x80], // a UTF-16 surrogate
      [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
      [0x41, 0xe2, 0x82], // truncated sequence
      [0xff, 0x41],
    ];
    for (const bytes of samples) expect([bytes, decodePage(Buffer.from(bytes))]).toEqual([bytes, strict(Buffer.from(bytes))]);
  });

  it('keys printable-ASCII titles as the NFKD path does, and still folds accents and odd spaces', () => {
    const slow = (t: string) =>
      t
        .normalize('NFKD')
        .replace(/[\u0300-\u036f]/g, '')
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, ' ')
        .trim();
    for (const t of [
      'Light Schrodinger Bridge',
      '  GPT-4o: a (tiny) ~model~ ',
      'A/B {test} 100% `x`',
      'Light Schrödinger Bridge',
      'ﬁne\ttabs',
      'Ｆｕｌｌ width',
    ])
      expect(titleKey(t)).toBe(slow(t));
    expect(titleKey('Light Schrödinger Bridge')).toBe(titleKey('light schrodinger   bridge!'));
  });
});
