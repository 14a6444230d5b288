// Owns turning a Selection into a digest email: Handlebars fills the project's templates (compiled once),
// MJML lays it out once per distinct selection, with the recipient's slots as tokens (placeholders.ts) or values.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { mjml2html } from './mjml.js';
import type { CompileMjml } from './mjml-cache.js';
import type { Config } from '../config.js';
import { firstPapers, formatDate, type DigestKind, type Selection } from '../digest/select.js';
import { excerpt } from './excerpt.js';
import { stripBidiControls } from '../corpus/bidi.js';
import { paperFacts } from './paper-facts.js';
import { SLOT_NAMES, SLOT_TOKENS, type RecipientSlots, type SlotName } from './placeholders.js';
import {
  chipsHtml,
  encodeRecipe,
  ITEM_TOKENS,
  pieceKey,
  readerLines,
  sectionToken,
  WRAPPER_TOKENS,
  wrapText,
  type AssemblyRecipe,
  type FeedbackLinks,
  type Piece,
  type SelectionStrings,
} from './blocks.js';
import type { SelectedPaper } from '../digest/select.js';

export type RenderConfig = Pick<Config, 'PUBLIC_URL' | 'SENDER_ADDRESS_LINE'>;
export type ValidationLevel = 'strict' | 'soft' | 'skip';

/** A rendered digest. For email, its HTML and text hold the slots it was rendered with (tokens, or real values). */
export interface RenderedDigest {
  key: string;
  /** The papers the digest shows, in order: the selection's, or its first ones when not all fit the size budget. */
  paperIds: number[];
  subject: string;
  preheader: string;
  html: string;
  text: string;
  /** MJML validation messages (empty when the templates are valid). */
  warnings: string[];
}

export interface RenderOptions {
  /** 'web' renders the public archive page: no per-recipient slots, subscribe links instead. */
  audience?: 'email' | 'web';
  /** What goes where the recipient's links and address go; delivery's tokens unless given (a preview's real links). */
  slots?: RecipientSlots;
  /**
   * The reader's "More like this" / "Less like this" links. Without them (a test send, a preview for no subscriber)
   * both lead to the paper's own page, which offers the same choice to whoever can sign in.
   */
  feedback?: FeedbackLinks;
}

/** Words the templates show, kept in one place. */
const TEXT = {
  kind: { trending: 'trending', new: 'new papers', both: 'trending and new' } satisfies Record<DigestKind, string>,
  intro: {
    trending: (n: number) => `${n === 1 ? 'The paper' : `The ${n} papers`} people are reading and upvoting most, ranked by upvotes, listings and freshness.`,
    new: (n: number) => `${n === 1 ? 'The newest paper' : `The ${n} newest papers`} in the corpus, most recent first.`,
    both: (n: number) => `${n} papers: what is trending, then what is new.`,
  } satisfies Record<DigestKind, (n: number) => string>,
  topics: (topics: string[]) => ` Papers matching ${topics.join(', ')} come first.`,
  greeting: 'Hello!',
} as const;

/** The longest excerpt of a paper card, before the size budget shortens it. */
const EXCERPT_CHARS = 420;

/**
 * The most bytes a digest's HTML part may have once a recipient's links are in (issue 15): Gmail clips at about
 * 102 KB, and 90 KB leaves room for what a relay or a footer adds.
 */
export const HTML_BUDGET_BYTES = 90 * 1024 - 512;

/**
 * The one size-budget rule, for the full render and the composer alike: shorten the excerpts until the HTML (with
 * the longest links any recipient can have) fits HTML_BUDGET_BYTES; when even none do not fit (very long links: five a
 * card start with PUBLIC_URL), the last cards go, so the footer and its unsubscribe link stay. `weigh(sel)` gives
 * that selection's bytes at an excerpt length; the last call is for what is returned.
 */
async function fitToBudget(
  sel0: Selection,
  weigh: (sel: Selection) => Promise<(chars: number) => number | Promise<number>>,
): Promise<{ sel: Selection; chars: number }> {
  let sel = sel0;
  for (;;) {
    const bytesAt = await weigh(sel);
    let chars = EXCERPT_CHARS;
    let bytes = await bytesAt(chars);
    for (let tries = 0; tries < 6 && chars > 0 && bytes > HTML_BUDGET_BYTES; tries++) {
      // Every card gives up its share of the excess, plus a little, since an excerpt ends only at a sentence or a word.
      chars = Math.max(0, Math.floor(chars - (bytes - HTML_BUDGET_BYTES) / sel.count - 20));
      if (chars < 60) chars = 0;
      bytes = await bytesAt(chars);
    }
    if (bytes <= HTML_BUDGET_BYTES || sel.count <= 1) return { sel, chars };
    // A card's share of the whole (wrapper included, so this drops too few rather than too many; the next pass sees).
    sel = firstPapers(sel, sel.count - Math.max(1, Math.ceil((bytes - HTML_BUDGET_BYTES) / (bytes / sel.count))));
  }
}

/** Buttons under a paper besides "Read the paper": PDF, Daily Papers, code, project page, details. */
const MAX_BUTTONS = 5;

// Control characters (a corpus page can hold any) show as boxes or break the text part; tabs and newlines aside.
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;
// Bidi controls too: the corpus strips them on the way in, and this keeps rows stored before that out of the Subject.
export function clean(s: string): string {
  return stripBidiControls(s.replace(CONTROL, ''));
}

// Subjects and preheaders are built per reader from the same few hundred titles: each shortened once.
const oneLineMemo = new Map<string, string>();
function oneLine(s: string, max: number): string {
  const k = `${max}|${s}`;
  let v = oneLineMemo.get(k);
  if (v === undefined) {
    v = oneLineUncached(s, max);
    if (oneLineMemo.size >= 10_000) oneLineMemo.clear();
    oneLineMemo.set(k, v);
  }
  return v;
}

function oneLineUncached(s: string, max: number): string {
  const flat = clean(s)
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length > max ? flat.slice(0, max - 1).replace(/\s+\S*$/, '') + '…' : flat;
}

function loadPartials(hb: typeof Handlebars, dir: string): void {
  let files: string[] = [];
  try {
    files = readdirSync(dir);
  } catch {
    return;
  }
  for (const f of files.filter((f) => f.endsWith('.mjml.hbs'))) {
    hb.registerPartial(f.replace(/\.mjml\.hbs$/, ''), readFileSync(join(dir, f), 'utf8'));
  }
}

/** A Handlebars environment of its own (never the global one), with the few helpers the templates use. */
export function createHandlebars(): typeof Handlebars {
  const hb = Handlebars.create();
  hb.registerHelper('upper', (s: unknown) => String(s ?? '').toUpperCase());
  hb.registerHelper('join', (xs: unknown) => (Array.isArray(xs) ? xs.join(', ') : ''));
  hb.registerHelper('concat', (...args: unknown[]) =>
    args
      .slice(0, -1)
      .map((a) => String(a ?? ''))
      .join(''),
  );
  // wrap: every line indented; hang: the first line follows what precedes it ("1. Title…").
  hb.registerHelper('wrap', (s: unknown, indent: unknown) => wrapText(String(s ?? ''), Number(indent) || 0, false));
  hb.registerHelper('hang', (s: unknown, indent: unknown) => wrapText(String(s ?? ''), Number(indent) || 0, true));
  return hb;
}

export interface RendererOptions {
  templatesDir: string;
  config: RenderConfig;
  /** 'strict' in tests: any MJML validation error throws. */
  validationLevel?: ValidationLevel;
  /** How MJML compiles: on its thread (the default), or remembered in the ledger (`cachedMjml`, the app's). */
  compileMjml?: CompileMjml;
}

export function createRenderer(opts: RendererOptions) {
  const { config } = opts;
  const hb = createHandlebars();
  loadPartials(hb, join(opts.templatesDir, 'email', 'partials'));
  const mjmlTemplate = hb.compile(readFileSync(join(opts.templatesDir, 'email', 'digest.mjml.hbs'), 'utf8'), { strict: false });
  // Plain text is not HTML: no entity escaping there (nothing in it is interpreted).
  // Plain text has a Handlebars of its own: its paper partial is compiled without escaping too.
  const textHb = createHandlebars();
  textHb.registerPartial(
    'paper-text',
    textHb.compile(readFileSync(join(opts.templatesDir, 'email', 'partials', 'paper-card.txt.hbs'), 'utf8'), { noEscape: true }),
  );
  const textTemplate = textHb.compile(readFileSync(join(opts.templatesDir, 'email', 'digest.txt.hbs'), 'utf8'), { noEscape: true });
  const siteUrl = config.PUBLIC_URL.replace(/\/+$/, '');
  const siteHost = new URL(siteUrl).host;

  function paperUrl(id: number): string {
    return `${siteUrl}/papers/${id}`;
  }

  function subjectFor(sel: Selection): string {
    const top = sel.sections[0]!.items[0]!.paper.title;
    const word = { trending: 'trending ', new: 'new ', both: '' }[sel.kind];
    const more = sel.count - 1;
    const tail = more === 0 ? `your ${word}paper` : `${more} more ${word}paper${more === 1 ? '' : 's'}`;
    return oneLine(`“${oneLine(top, 80)}” + ${tail}`, 140);
  }

  function preheaderFor(sel: Selection): string {
    const rest = sel.sections
      .flatMap((s) => s.items)
      .slice(1, 4)
      .map((i) => oneLine(i.paper.title, 60));
    const head = `${sel.count} paper${sel.count === 1 ? '' : 's'} for ${formatDate(sel.date)}`;
    return oneLine(rest.length ? `${head}. Also: ${rest.join(' · ')}` : `${head}.`, 180);
  }

  /** A paper card's fields, with the reader's own values (rank, reason, topics, feedback links) or their tokens. */
  function itemModel(i: SelectedPaper, excerptChars: number, reader: boolean, own: ItemValues) {
    const p = i.paper;
    const facts = paperFacts(p, paperUrl(p.id));
    const gainedToday = i.score.gains && i.score.gains.day > 0 && i.score.gains.day < i.score.upvotes ? ` (+${i.score.gains.day} today)` : '';
    const counts = [
      ...facts.counts.map((c, n) => (n === 0 && c.startsWith('▲') ? c + gainedToday : c)),
      ...(i.score.lists > 1 ? [`on ${i.score.lists} lists`] : []),
    ];
    const byline = [facts.authorsLine, facts.organization].filter((x): x is string => !!x).map((x) => clean(x));
    const read = facts.links.find((l) => l.url === facts.readUrl)!;
    return {
      ...own,
      reader,
      title: clean(p.title),
      url: facts.readUrl,
      readLabel: facts.readLabel,
      ownUrl: paperUrl(p.id),
      byline: byline.join(' · '),
      // Each fact stays on one line when the meta line wraps on a phone ("on 2 lists", not "on / 2 lists").
      meta: [...counts, ...facts.dates].map((x) => x.replace(/ /g, '\u00A0')).join(' · '),
      tldr: facts.tldr ? clean(oneLine(facts.tldr, 300)) : '',
      excerpt: excerptChars > 0 ? clean(excerpt(p.abstract, excerptChars)) : '',
      // Our page last, always: it lists every link and source the buttons leave out.
      links: [
        ...facts.links.filter((l) => l !== read && l.kind !== 'details').slice(0, MAX_BUTTONS - 1),
        ...facts.links.filter((l) => l !== read && l.kind === 'details'),
      ].map((l) => ({ url: l.url, label: l.label })),
    };
  }

  /** The reader's own values for one paper (Handlebars escapes them where the card shows them). */
  function ownValues(i: SelectedPaper, feedback: FeedbackLinks): ItemValues {
    return {
      rank: String(i.rank),
      chips: chipsHtml(i.matchedTopics),
      why: clean(i.why),
      readerLines: readerLines(clean(i.why), i.matchedTopics),
      moreUrl: feedback(i.paper.id, 'more'),
      lessUrl: feedback(i.paper.id, 'less'),
    };
  }

  function selectionStrings(sel: Selection, web: boolean): SelectionStrings {
    return {
      subject: subjectFor(sel),
      preheader: preheaderFor(sel),
      headline:
        sel.kind === 'new'
          ? `New papers · ${formatDate(sel.date)}`
          : web
            ? `Top ${sel.count === 1 ? 'paper' : `${sel.count} papers`} of ${formatDate(sel.date)}` // an archive page is read on other days
            : `${sel.frequency === 'weekly' ? "This week's" : "Today's"} top ${sel.count === 1 ? 'paper' : `${sel.count} papers`}`,
      intro: TEXT.intro[sel.kind](sel.count) + (sel.topics.length ? TEXT.topics(sel.topics) : ''),
    };
  }

  const pageFeedback: FeedbackLinks = (id) => paperUrl(id);

  /**
   * The whole digest's fields. `wrapper` leaves the papers out (each section gets its blocks token) and puts tokens
   * where the selection's own strings go: what the MJML wrapper is compiled from, once per edition and layout.
   */
  function viewModel(
    sel: Selection,
    audience: 'email' | 'web',
    slots: RecipientSlots,
    excerptChars = EXCERPT_CHARS,
    feedback: FeedbackLinks = pageFeedback,
    wrapper = false,
  ) {
    const web = audience === 'web';
    const strings = wrapper ? { ...WRAPPER_TOKENS } : selectionStrings(sel, web);
    return {
      web,
      ...strings,
      kindLabel: `${sel.frequency === 'weekly' ? 'weekly ' : ''}${TEXT.kind[sel.kind]}`,
      dateLabel: formatDate(sel.date),
      greeting: web ? '' : TEXT.greeting,
      showSectionTitles: sel.sections.length > 1,
      sections: sel.sections.map((s, n) => ({
        title: s.title,
        blocksSlot: wrapper ? sectionToken(n) : '',
        items: wrapper ? [] : s.items.map((i) => itemModel(i, excerptChars, !web, ownValues(i, feedback))),
      })),
      siteUrl,
      siteHost,
      feedUrl: `${siteUrl}/feed.xml`,
      archiveUrl: sel.kind === 'trending' && sel.topics.length === 0 ? `${siteUrl}/digest/${sel.date}` : web ? `${siteUrl}/digest/${sel.date}` : '',
      senderLine: config.SENDER_ADDRESS_LINE,
      email: web ? '' : slots.email,
      manageUrl: web ? '' : slots.manageUrl,
      unsubscribeUrl: web ? '' : slots.unsubscribeUrl,
    };
  }

  /**
   * `remember`: the MJML holds no one's own values (tokens stand for them), so the app's ledger cache may keep it. A
   * preview as a subscriber compiles their address and signed links into the HTML: that is never stored.
   */
  async function compile(vm: ReturnType<typeof viewModel>, remember: boolean) {
    const result = await ((remember && opts.compileMjml) || mjml2html)(mjmlTemplate(vm), {
      validationLevel: opts.validationLevel ?? 'soft',
      fonts: {},
      keepComments: false,
    });
    return { html: limitLineLength(collapseIndentation(result.html), MAX_LINE_BYTES), errors: result.errors };
  }

  /** Compiles one selection to HTML (MJML, the slow part) and text, with the recipient's slots as `ropts.slots`. */
  async function renderDigest(sel0: Selection, ropts: RenderOptions = {}): Promise<RenderedDigest> {
    const audience = ropts.audience ?? 'email';
    const slots = ropts.slots ?? SLOT_TOKENS;
    const feedback = ropts.feedback ?? pageFeedback;
    let sel = sel0;
    const remember = ropts.slots === undefined && ropts.feedback === undefined;
    let vm = viewModel(sel, audience, slots, EXCERPT_CHARS, feedback);
    let result = await compile(vm, remember);
    if (audience === 'email') {
      // Gmail clips a message whose HTML passes about 100 KB, hiding the footer and its unsubscribe link.
      let first = true;
      ({ sel } = await fitToBudget(sel0, async (s) => async (chars) => {
        // The first weighing is the compile above.
        if (!first) {
          vm = viewModel(s, audience, slots, chars, feedback);
          result = await compile(vm, remember);
        }
        first = false;
        return Buffer.byteLength(result.html) + slotGrowth(result.html, slots, siteUrl);
      }));
    }
    const html = result.html;
    const text = textTemplate(vm).replace(/\n{3,}/g, '\n\n');
    return {
      key: sel.key,
      paperIds: sel.paperIds,
      subject: vm.subject,
      preheader: vm.preheader,
      html,
      text,
      warnings: result.errors.map((e) => e.formattedMessage),
    };
  }

  const blockHtml = hb.compile('{{#each items}}{{> paper-card}}{{/each}}', { strict: false });
  const blockText = textHb.compile('{{#each items}}{{> paper-text}}{{/each}}', { noEscape: true });

  /** One paper's block for every reader of an edition: card HTML and text, the reader's own values as tokens. */
  function paperBlock(i: SelectedPaper, excerptChars: number): Piece {
    const item = itemModel(i, excerptChars, true, { ...ITEM_TOKENS });
    // Without the card's last newline: MJML trims a section's content, so only the blocks between cards keep theirs
    // (BLOCK_SEPARATOR, put back at assembly).
    const html = limitLineLength(collapseIndentation(blockHtml({ items: [item] })), MAX_LINE_BYTES).replace(/\n$/, '');
    const text = blockText({ items: [item] }).replace(/\n{3,}/g, '\n\n');
    return { key: pieceKey('block', html, text), html, text };
  }

  /** The digest around the papers, compiled by MJML: the one MJML compile a layout (kind, dates, sections) costs. */
  async function wrapperPiece(sel: Selection): Promise<Piece & { warnings: string[] }> {
    const vm = viewModel(sel, 'email', SLOT_TOKENS, 0, pageFeedback, true);
    const result = await compile(vm, true);
    // A section's blocks end with a newline of their own, which the full render's newline collapsing swallows.
    let text = textTemplate(vm).replace(/\n{3,}/g, '\n\n');
    for (let n = 0; n < sel.sections.length; n++) text = text.replace(`${sectionToken(n)}\n`, sectionToken(n));
    return { key: pieceKey('wrapper', result.html, text), html: result.html, text, warnings: result.errors.map((e) => e.formattedMessage) };
  }

  /**
   * An edition's composer: a selection becomes a recipe (what the ledger stores per reader) over wrappers and blocks
   * rendered once each and kept for the edition; only a new layout costs an MJML compile, a new paper a Handlebars
   * pass. The excerpt length follows the same size budget as renderDigest, for the longest values any reader can have.
   */
  function createComposer() {
    const wrappers = new Map<string, Promise<Piece & { warnings: string[] }>>();
    const blocks = new Map<string, Piece>();
    // A block's HTML bytes, counted once: the size budget weighs every card of every reader's selection.
    const blockBytes = new WeakMap<Piece, number>();
    const feedbackLongest = Buffer.byteLength(Handlebars.escapeExpression(siteUrl)) + '/feedback/'.length + 15 + 1 + 15 + 1 + 28 + '/more'.length;

    function block(i: SelectedPaper, chars: number): Piece {
      const k = `${i.paper.id}|${chars}`;
      let b = blocks.get(k);
      if (!b) {
        b = paperBlock(i, chars);
        if (blocks.size >= 5_000) blocks.delete(blocks.keys().next().value!);
        blocks.set(k, b);
        blockBytes.set(b, Buffer.byteLength(b.html));
      }
      return b;
    }

    // What a wrapper weighs once the longest recipient values are in, without the selection's strings: per wrapper.
    const wrapperBase = new Map<string, { bytes: number; counts: Record<string, number> }>();
    function weigh(w: Piece) {
      let b = wrapperBase.get(w.key);
      if (!b) {
        const counts = Object.fromEntries(Object.entries(WRAPPER_TOKENS).map(([k, t]) => [k, w.html.split(t).length - 1]));
        b = { bytes: Buffer.byteLength(w.html) + slotGrowth(w.html, SLOT_TOKENS, siteUrl), counts };
        if (wrapperBase.size >= 256) wrapperBase.clear();
        wrapperBase.set(w.key, b);
      }
      return b;
    }

    async function wrapperFor(sel: Selection) {
      // Everything the wrapper shows besides the tokens: kind, dates, section titles, whether it links the archive.
      const shape = JSON.stringify([sel.kind, sel.frequency, sel.date, sel.topics.length === 0, sel.sections.map((s) => s.title)]);
      let w = wrappers.get(shape);
      if (!w) {
        w = wrapperPiece(sel);
        if (wrappers.size >= 256) wrappers.delete(wrappers.keys().next().value!);
        wrappers.set(shape, w);
        w.catch(() => wrappers.delete(shape));
      }
      return w;
    }

    /** What a selection weighs at an excerpt length, and what its recipe is built from. */
    async function measure(sel: Selection) {
      const wrapper = await wrapperFor(sel);
      const strings = selectionStrings(sel, false);
      const items = sel.sections.flatMap((s) => s.items);
      const base = weigh(wrapper);
      const wrapperBytes =
        base.bytes +
        Object.entries(WRAPPER_TOKENS).reduce(
          (n, [k, t]) => n + base.counts[k]! * (Buffer.byteLength(Handlebars.escapeExpression(strings[k as keyof SelectionStrings])) - t.length),
          0,
        );
      // The reader's own values in a card: known here, but for the feedback links (the longest any reader can have).
      const ownBytes = (i: SelectedPaper, b: Piece) =>
        blockBytes.get(b)! +
        (String(i.rank).length - ITEM_TOKENS.rank.length) +
        (Buffer.byteLength(chipsHtml(i.matchedTopics)) - ITEM_TOKENS.chips.length) +
        (Buffer.byteLength(Handlebars.escapeExpression(clean(i.why))) - ITEM_TOKENS.why.length) +
        2 * feedbackLongest -
        ITEM_TOKENS.moreUrl.length -
        ITEM_TOKENS.lessUrl.length;
      return { wrapper, strings, size: (chars: number) => wrapperBytes + items.reduce((n, i) => n + ownBytes(i, block(i, chars)), 0) };
    }

    /** A selection's recipe within the size budget (fitToBudget): only the wrapper and its blocks' keys, and the reader's strings. */
    async function compose(sel0: Selection): Promise<{ subject: string; recipe: string; pieces: Piece[]; warnings: string[]; paperIds: number[] }> {
      let last: { sel: Selection; m: Awaited<ReturnType<typeof measure>> } | null = null;
      const { sel, chars } = await fitToBudget(sel0, async (s) => {
        last = { sel: s, m: await measure(s) };
        return last.m.size;
      });
      // The last weighing was of this selection.
      const { wrapper, strings } = last!.sel === sel ? last!.m : await measure(sel);
      const pieces = new Map<string, Piece>([[wrapper.key, { key: wrapper.key, html: wrapper.html, text: wrapper.text }]]);
      const recipe: AssemblyRecipe = {
        v: 1,
        wrapper: wrapper.key,
        strings,
        sections: sel.sections.map((s) =>
          s.items.map((i) => {
            const b = block(i, chars);
            pieces.set(b.key, b);
            return { block: b.key, item: { paperId: i.paper.id, rank: i.rank, why: clean(i.why), topics: i.matchedTopics } };
          }),
        ),
      };
      return { subject: strings.subject, recipe: encodeRecipe(recipe), pieces: [...pieces.values()], warnings: wrapper.warnings, paperIds: sel.paperIds };
    }

    return { compose };
  }

  /** What the public archive page of a selection shows (the site's own template lays it out, not MJML). */
  function digestView(sel: Selection) {
    return viewModel(sel, 'web', SLOT_TOKENS);
  }

  return { renderDigest, digestView, paperUrl, siteUrl, createComposer, paperBlock };
}
export type Renderer = ReturnType<typeof createRenderer>;
export type Composer = ReturnType<Renderer['createComposer']>;

type ItemValues = { rank: string; chips: string; why: string; readerLines: string; moreUrl: string; lessUrl: string };

/**
 * SMTP caps a line at 998 bytes. Delivery writes quoted-printable, which wraps anyway; the HTML also goes out through
 * the outbox and the stock nodemailer client as it is, and is stored for the archive, so its lines stay well under
 * the cap everywhere. Long lines are broken at spaces outside tags, where a newline means the same as a space in
 * HTML (MJML emits no <pre>).
 */
export const MAX_LINE_BYTES = 900;

export function limitLineLength(html: string, max: number): string {
  return html
    .split('\n')
    .map((line) => (Buffer.byteLength(line) <= max ? line : breakLine(line, max)))
    .join('\n');
}

function breakLine(line: string, max: number): string {
  const out: string[] = [];
  let start = 0;
  let lastBreak = -1;
  let inTag = false;
  let bytes = 0;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === '<') inTag = true;
    else if (ch === '>') inTag = false;
    else if (ch === ' ' && !inTag) lastBreak = i;
    bytes += ch.charCodeAt(0) < 0x80 ? 1 : ch.charCodeAt(0) < 0x800 ? 2 : 3; // surrogate halves count 3+3: an overestimate, so safe
    if (bytes > max && lastBreak > start) {
      out.push(line.slice(start, lastBreak));
      start = lastBreak + 1;
      bytes = Buffer.byteLength(line.slice(start, i + 1));
      lastBreak = -1;
    }
  }
  out.push(line.slice(start));
  return out.join('\n');
}

/**
 * How many bytes the HTML can grow when a recipient's values replace the slot tokens, for the longest values any
 * recipient can have: links of `siteUrl` with a signed token (a 15-digit id, `-`, 28 hex), an address of 254 bytes
 * with every character HTML-escaped as `&amp;` at worst (a quote or ampersand is rare, but allowed).
 */
export function slotGrowth(html: string, slots: RecipientSlots, siteUrl: string): number {
  if (slots !== SLOT_TOKENS) return 0; // real values are already in
  const token = 15 + 1 + 32;
  const site = Buffer.byteLength(Handlebars.escapeExpression(siteUrl));
  const longest: Record<SlotName, number> = {
    unsubscribeUrl: site + '/unsubscribe/'.length + token,
    manageUrl: site + '/preferences/'.length + token,
    unsubscribeMailto: 'mailto:unsubscribe+'.length + token + 1 + 253,
    email: 254 * 5,
  };
  let growth = 0;
  for (const name of SLOT_NAMES) {
    const token = SLOT_TOKENS[name];
    const count = html.split(token).length - 1;
    growth += count * Math.max(0, longest[name] - token.length);
  }
  return growth;
}

/**
 * Drops the indentation MJML writes before every line (about a fifth of a digest's bytes). Whitespace at a line
 * start means nothing in HTML outside <pre> and <textarea>, which MJML and the templates never emit; one newline
 * stays wherever there was whitespace, so no two words are joined.
 */
export function collapseIndentation(html: string): string {
  return html.replace(/[ \t]*\n\s*/g, '\n');
}

/** The project's templates directory (resolved from this file, so it works from any working directory). */
export const DEFAULT_TEMPLATES_DIR = fileURLToPath(new URL('../../templates', import.meta.url));
