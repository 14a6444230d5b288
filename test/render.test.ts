import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStore, type Store } from '../src/db/open.js';
import { FakeClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { ingestPaths } from '../src/corpus/ingest.js';
import { createSelector, type Selection } from '../src/digest/select.js';
import { SLOT_TOKENS } from '../src/render/placeholders.js';
import { createRenderer, limitLineLength, MAX_LINE_BYTES, DEFAULT_TEMPLATES_DIR, type RenderedDigest } from '../src/render/renderer.js';
import { excerpt } from '../src/render/excerpt.js';
import { addPaper } from './helpers/corpus.js';
import { tempDir } from './helpers/tmp.js';
import { launchChromium } from './helpers/chromium.js';
import { LISTING_HEADER } from '../bench/corpus-gen.js';

const clock = new FakeClock(new Date('2026-03-10T07:00:00Z'));
const config = loadConfig({ PUBLIC_URL: 'https://papers.example.org', SENDER_ADDRESS_LINE: 'Paperboy Labs, 1 Example Street, Springfield' });
const LONG = 'We propose a method that is carefully evaluated on many benchmarks and compared against strong baselines. '.repeat(12);

let store: Store;
let selection: Selection;
let rendered: RenderedDigest;
const renderer = createRenderer({ templatesDir: DEFAULT_TEMPLATES_DIR, config, validationLevel: 'strict' });

beforeAll(async () => {
  store = openStore(':memory:');
  // A page through the real ingest, so the LaTeX cleanup is the one users get.
  const dir = tempDir();
  writeFileSync(
    join(dir, 'latex.txt'),
    [
      ...LISTING_HEADER.split('\n').slice(0, -1),
      'Mar 9',
      '',
      'Schr\\"odinger Bridges for {\\em Everyone}',
      '',
      'We revisit Schr\\"odinger bridges with 99\\% fewer steps. Our {\\em simple} method is fast. Code is at https://github.com/example/sb and more at https://sb.example.org/.',
      '',
      '  • 3 authors',
      '·',
      'Mar 8, 2026 12',
      '',
    ].join('\n'),
  );
  ingestPaths(store, [dir], clock);
  addPaper(store, {
    title: 'Attacks <script>alert("x")</script> & "quotes" in titles',
    abstract: 'An abstract with <script>alert(1)</script> and <b>bold</b> & ampersands. Second sentence here. Third one.',
    upvotes: 9,
    publishedOn: '2026-03-09',
    authors: 1,
    links: [{ url: 'https://github.com/evil/"><script>x</script>', kind: 'code' }],
  });
  for (let i = 1; i <= 8; i++) {
    addPaper(store, {
      title: `A long-titled paper number ${i} about diffusion models, transformers and scaling laws in practice`,
      abstract: LONG,
      upvotes: i,
      authors: i + 2,
      publishedOn: `2026-03-0${i}`,
      lists: 1 + (i % 3),
      links: [
        { url: `https://github.com/lab/repo${i}`, kind: 'code' },
        { url: `https://project${i}.example.org/`, kind: 'project' },
      ],
    });
  }
  const r = createSelector({ store, clock }).select({ kind: 'trending', size: 10 }, '2026-03-10');
  if (r.status !== 'selected') throw new Error(r.message);
  selection = r.selection;
  rendered = await renderer.renderDigest(selection);
});
afterAll(() => store.close());

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const slotsFor = (unsubscribeUrl: string, manageUrl: string) => ({
  unsubscribeUrl,
  manageUrl,
  unsubscribeMailto: 'mailto:u@example.org',
  email: 'reader@example.org',
});

describe('rendered digest', () => {
  it('has 10 papers, each title and link in the HTML and the text part', () => {
    expect(selection.count).toBe(10);
    for (const item of selection.sections.flatMap((s) => s.items)) {
      const url = `https://papers.example.org/papers/${item.paper.id}`;
      expect(rendered.html).toContain(`href="${url}"`);
      expect(rendered.text).toContain(url);
      expect(rendered.text).toContain(item.paper.title.slice(0, 20));
      if (!item.paper.title.includes('<'))
        expect(rendered.html).toContain(
          esc(item.paper.title)
            .replace(/&quot;/g, '"')
            .slice(0, 40),
        );
    }
    expect(rendered.html).toContain('href="https://github.com/lab/repo3"');
    expect(rendered.html).toContain('href="https://project3.example.org/"');
    expect(rendered.html).toContain('Code on GitHub');
    expect(rendered.html).toContain('Project page');
  });

  it('never lets <script> from titles, abstracts or links survive', () => {
    expect(rendered.html.toLowerCase()).not.toContain('<script');
    expect(rendered.html).toContain('Attacks &lt;script&gt;');
    expect(rendered.html).not.toContain('<b>bold</b>');
    expect(rendered.text).toContain('Attacks <script>alert("x")</script>'); // plain text is not HTML: shown as typed
  });

  it('turns LaTeX into readable text and keeps links out of the excerpt', () => {
    expect(rendered.html).toContain('Schrödinger Bridges for Everyone');
    expect(rendered.html).toContain('99% fewer steps');
    expect(rendered.html).not.toMatch(/\\"o|\\em|\\%/);
    expect(rendered.text).toContain('Schrödinger');
    expect(rendered.html).toContain('href="https://github.com/example/sb"');
    expect(excerpt('First sentence, e.g. with an abbreviation. Second one. Code: https://x.org/y. Third one. Fourth.')).toBe(
      'First sentence, e.g. with an abbreviation. Second one. Third one.',
    );
    expect(excerpt('See https://a.org/x. Also https://b.org/y. Plain one. Plain two.')).toBe('Plain one. Plain two.');
    expect(excerpt('word '.repeat(200)).length).toBeLessThanOrEqual(421);
    expect(excerpt(`${'A'.repeat(200)}. ${'B'.repeat(200)}. ${'C'.repeat(200)}.`)).toBe(`${'A'.repeat(200)}. ${'B'.repeat(200)}.`);
  });

  it("words a weekly digest as the week's", async () => {
    const weekly = await renderer.renderDigest({ ...selection, frequency: 'weekly', key: 'weekly' });
    expect(weekly.html).toContain('This week&#x27;s top 10 papers'); // Handlebars escapes the apostrophe
    expect(weekly.text).toContain('paperboy\nweekly trending digest');
    expect(rendered.html).toContain('Today&#x27;s top 10 papers');
    expect(weekly.text).toContain("This week's top 10 papers");
  });

  it('names the top paper and the count in the subject and preheader, on one line', () => {
    const top = selection.sections[0]!.items[0]!.paper.title;
    expect(rendered.subject).toContain(top.slice(0, 30));
    expect(rendered.subject).toContain('9 more trending papers');
    expect(rendered.subject).not.toMatch(/[\r\n]/);
    expect(rendered.preheader).toMatch(/^10 papers for Mar 10, 2026/);
    expect(rendered.html).toContain(esc(rendered.preheader).slice(0, 30));
  });

  it('puts the slot tokens where the links go, or the recipient values, escaped in HTML, raw in text', async () => {
    const out = await renderer.renderDigest(selection, {
      slots: {
        unsubscribeUrl: 'https://papers.example.org/unsubscribe?t=abc&s=1',
        unsubscribeMailto: 'mailto:unsubscribe+abc@papers.example.org',
        manageUrl: 'https://papers.example.org/manage?t=abc&s=1',
        email: 'ada+<x>@example.org',
      },
    });
    // Handlebars escapes '=' too (&#x3D;): the same attribute value to a browser.
    expect(out.html).toContain('href="https://papers.example.org/unsubscribe?t&#x3D;abc&amp;s&#x3D;1"');
    expect(out.html).toContain('href="https://papers.example.org/manage?t&#x3D;abc&amp;s&#x3D;1"');
    expect(out.html).toContain('ada+&lt;x&gt;@example.org');
    expect(out.html).toContain('Paperboy Labs, 1 Example Street, Springfield');
    expect(out.html).toMatch(/Manage preferences<\/a> · <a [^>]*>Unsubscribe</);
    expect(out.text).toContain('Unsubscribe: https://papers.example.org/unsubscribe?t=abc&s=1');
    expect(out.text).toContain('Manage preferences: https://papers.example.org/manage?t=abc&s=1');
    for (const name of ['unsubscribeUrl', 'manageUrl', 'email'] as const) {
      expect(rendered.html).toContain(SLOT_TOKENS[name]);
      expect(rendered.text).toContain(SLOT_TOKENS[name]);
      expect(out.html).not.toContain(SLOT_TOKENS[name]);
      expect(out.text).not.toContain(SLOT_TOKENS[name]);
    }
    expect(out.html).not.toContain('pbx');
  });

  it('keeps every line short enough for 8bit SMTP bodies, without changing what is shown', () => {
    for (const part of [rendered.html, rendered.text]) {
      for (const line of part.split('\n')) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(MAX_LINE_BYTES);
    }
    const long = `<div style="a:b">${'wörd '.repeat(400)}<a href="https://x.org/a b">link</a></div>`;
    const broken = limitLineLength(long, 100);
    for (const line of broken.split('\n')) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(100);
    expect(broken.replace(/\n/g, ' ')).toBe(long);
    expect(broken).toContain('<a href="https://x.org/a b">');
  });

  it('stays under 102 KB for 10 papers with long abstracts and validates strictly', async () => {
    const out = await renderer.renderDigest(selection, { slots: slotsFor('https://x.example/u/' + 'a'.repeat(120), 'https://x.example/m/' + 'b'.repeat(120)) });
    expect(Buffer.byteLength(out.html)).toBeLessThan(102 * 1024);
    expect(rendered.warnings).toEqual([]);
  });

  it('looks right in Chromium at phone and desktop width (screenshots in test-output/screenshots)', async () => {
    const out = await renderer.renderDigest(selection, {
      slots: { ...slotsFor('https://papers.example.org/u', 'https://papers.example.org/m'), email: 'ada@example.org' },
    });
    const dir = join(process.cwd(), 'test-output', 'screenshots');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'digest.html'), out.html);
    const browser = await launchChromium();
    try {
      for (const width of [375, 800]) {
        const page = await browser.newPage({ viewport: { width, height: 1000 } });
        await page.setContent(out.html, { waitUntil: 'load' });
        // Nothing wider than the screen: a phone must not scroll sideways.
        const scrollWidth = await page.evaluate('document.documentElement.scrollWidth');
        expect(scrollWidth).toBeLessThanOrEqual(width);
        const titles = await page.locator('a', { hasText: 'Schrödinger Bridges' }).count();
        expect(titles).toBeGreaterThan(0);
        await page.screenshot({ path: join(dir, `digest-${width}.png`), fullPage: true });
        await page.screenshot({ path: join(dir, `digest-${width}-top.png`) });
        await page.close();
      }
      // The two-section layout with topics, as a "both" subscriber with keywords sees it.
      const both = createSelector({ store, clock }).select({ kind: 'both', size: 6, topics: ['Schrödinger', 'scaling laws'] }, '2026-03-10');
      if (both.status !== 'selected') throw new Error(both.message);
      const bothOut = await renderer.renderDigest(both.selection, { slots: slotsFor('https://papers.example.org/u', 'https://papers.example.org/m') });
      expect(bothOut.html).toContain('NEW');
      expect(bothOut.html).toContain('Papers matching Schrödinger, scaling laws come first.');
      const page = await browser.newPage({ viewport: { width: 800, height: 1000 } });
      await page.setContent(bothOut.html, { waitUntil: 'load' });
      await page.screenshot({ path: join(dir, 'digest-both-topics-800.png'), fullPage: true });
      await page.close();
    } finally {
      await browser.close();
    }
  });
});
