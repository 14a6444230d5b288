// Owns the bytes of a digest assembled from per-edition blocks: the MIME skeleton built once per wrapper, each block
// quoted-printable encoded once, and per reader only their own values encoded and everything concatenated.
import Handlebars from 'handlebars';
import * as qp from 'nodemailer/lib/qp';
import * as mimeFuncs from 'nodemailer/lib/mime-funcs';
import { createSigner } from '../mail/dkim.js';
import { buildMimeBody, checkRecipient, placeholderPattern, recipientHeaders, TemplateError, type MessageHeadersConfig, type Recipient } from './mime.js';
import { SLOT_NAMES, SLOT_TOKENS, type SlotName } from '../render/placeholders.js';
import {
  BLOCK_SEPARATOR,
  ITEM_SLOTS,
  ITEM_TOKENS,
  itemHtmlValues,
  itemTextValues,
  sectionToken,
  splitAt,
  WRAPPER_SLOTS,
  WRAPPER_TOKENS,
  wrapperHtmlValues,
  wrapperTextValues,
  type AssemblyRecipe,
  type FeedbackLinks,
  type ItemSlot,
  type Piece,
  type WrapperSlot,
} from '../render/blocks.js';

type Part = 'html' | 'text';
type SkeletonSlot = { part: Part } & ({ kind: 'recipient'; slot: SlotName } | { kind: 'wrapper'; slot: WrapperSlot } | { kind: 'section'; index: number });
type Segment = Buffer | SkeletonSlot;

/** The message around the papers, built once per wrapper: headers and MIME structure, the reader's slots found. */
export interface Skeleton {
  /** CRLF throughout, not dot-stuffed (what DKIM signs). */
  segments: Segment[];
  /** The same, dot-stuffed for SMTP DATA. */
  wire: Segment[];
  sections: number;
  sign: ((raw: Buffer) => Promise<Buffer>) | null;
  listUnsubscribe: boolean;
}

/** One block, quoted-printable encoded once: chunks that each start a line and end with a soft break, and the reader's slots. */
export interface EncodedBlock {
  html: (Buffer | ItemSlot)[];
  text: (Buffer | ItemSlot)[];
  htmlWire: (Buffer | ItemSlot)[];
  textWire: (Buffer | ItemSlot)[];
  /** Bytes held, for the sender's cache bound. */
  bytes: number;
}

const SOFT_BREAK = Buffer.from('=\r\n', 'latin1');

/**
 * A value as quoted-printable that starts a line and ends with a soft break, so the next chunk starts a line too; lines
 * stay within 76 characters with the break's "=". Line breaks are CRLF, as the skeleton's are.
 */
export function qpChunk(value: string): string {
  if (value === '') return '';
  // Most reader values (links, ranks, reasons in plain ASCII) need no encoding at all: only soft breaks every 75
  // characters, which is what the encoder would write for them, at a fraction of the cost per message.
  if (QP_LITERAL.test(value)) {
    let out = '';
    for (let i = 0; i < value.length; i += 75) out += value.slice(i, i + 75) + '=\r\n';
    return out;
  }
  return qp.wrap(qp.encode(Buffer.from(value.replace(/\r\n|\r|\n/g, '\r\n'), 'utf8')), 75) + '=\r\n';
}
// Printable ASCII but "=", and spaces only inside: written as is by quoted-printable, and no line break to mind.
const QP_LITERAL = /^[\x21-\x3c\x3e-\x7e](?:[\x20-\x3c\x3e-\x7e]*[\x21-\x3c\x3e-\x7e])?$/;

/** Dot-stuffing for bytes that start a line (every chunk here does). */
function stuff(s: string): string {
  if (!s.includes('.')) return s;
  const t = s.replace(/\r\n\./g, '\r\n..');
  return t.charCodeAt(0) === 0x2e ? '.' + t : t;
}

/** The Subject line as MailComposer writes it for a quoted-printable message (encoded words, folded at 76). */
export function subjectHeader(subject: string): string {
  const value = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(subject) ? mimeFuncs.encodeWord(subject, 'Q', 52) : mimeFuncs.encodeWords(subject, 'Q', 52, true);
  return mimeFuncs.foldLines(`Subject: ${value}`, 76) + '\r\n';
}

/** Builds the skeleton once for a wrapper: the wrapper's HTML and text with their tokens, through MailComposer. */
export async function buildSkeleton(wrapper: Pick<Piece, 'html' | 'text'>, cfg: MessageHeadersConfig): Promise<Skeleton> {
  // The subject is the reader's selection's: written with the per-recipient headers.
  const { head, body, oneClick } = await buildMimeBody({ subject: 'x', html: wrapper.html, text: wrapper.text }, cfg, ['subject']);

  let sections = 0;
  while (wrapper.html.includes(sectionToken(sections))) sections++;
  const wanted: { token: string; slot: Omit<SkeletonSlot, 'part'> }[] = [
    ...SLOT_NAMES.map((slot) => ({ token: SLOT_TOKENS[slot], slot: { kind: 'recipient' as const, slot } })),
    ...WRAPPER_SLOTS.map((slot) => ({ token: WRAPPER_TOKENS[slot], slot: { kind: 'wrapper' as const, slot } })),
    ...Array.from({ length: sections }, (_, index) => ({ token: sectionToken(index), slot: { kind: 'section' as const, index } })),
  ];
  const hits: { start: number; end: number; slot: SkeletonSlot }[] = [];
  for (const w of wanted) {
    for (const m of body.matchAll(new RegExp(placeholderPattern(w.token), 'g'))) {
      const partHead = body.lastIndexOf('\r\n\r\n', m.index);
      const headerStart = body.lastIndexOf('Content-Type:', partHead);
      const partHeaders = body.slice(headerStart, partHead).toLowerCase();
      if (!/content-transfer-encoding:\s*quoted-printable/.test(partHeaders)) throw new TemplateError('a slot sits in a part that is not quoted-printable');
      const part: Part = /^content-type:\s*text\/html/.test(partHeaders) ? 'html' : 'text';
      hits.push({ start: m.index, end: m.index + m[0].length, slot: { ...w.slot, part } as SkeletonSlot });
    }
  }
  hits.sort((a, b) => a.start - b.start);
  const segments: Segment[] = [Buffer.from(head, 'latin1')];
  let pos = 0;
  for (const hit of hits) {
    segments.push(Buffer.from(body.slice(pos, hit.start), 'latin1'));
    segments.push(hit.slot);
    pos = hit.end;
  }
  segments.push(Buffer.from(body.slice(pos), 'latin1'));
  // After a slot the skeleton goes on at a line start (every value ends with a soft break); the head starts the message.
  const wire = segments.map((seg, i) => {
    if (!Buffer.isBuffer(seg)) return seg;
    const text = seg.toString('latin1');
    const atLineStart = i === 0 || !Buffer.isBuffer(segments[i - 1]);
    return Buffer.from(atLineStart ? stuff(text) : text.replace(/\r\n\./g, '\r\n..'), 'latin1');
  });
  return { segments, wire, sections, sign: cfg.dkim ? createSigner(cfg.dkim) : null, listUnsubscribe: oneClick };
}

/** Encodes one block once per edition: its constant text as quoted-printable chunks, its reader slots left open. */
export function encodeBlock(block: Pick<Piece, 'html' | 'text'>): EncodedBlock {
  const out: EncodedBlock = { html: [], text: [], htmlWire: [], textWire: [], bytes: 0 };
  const tokens = Object.values(ITEM_TOKENS);
  const slotOf = new Map<string, ItemSlot>(ITEM_SLOTS.map((k) => [ITEM_TOKENS[k], k]));
  for (const part of ['html', 'text'] as const) {
    const { text, slots } = splitAt(block[part], tokens);
    const plain: (Buffer | ItemSlot)[] = [];
    const wire: (Buffer | ItemSlot)[] = [];
    text.forEach((t, i) => {
      const chunk = qpChunk(t);
      if (chunk) {
        plain.push(Buffer.from(chunk, 'latin1'));
        wire.push(Buffer.from(stuff(chunk), 'latin1'));
        out.bytes += chunk.length * 2;
      }
      if (i < slots.length) {
        plain.push(slotOf.get(slots[i]!)!);
        wire.push(slotOf.get(slots[i]!)!);
      }
    });
    if (part === 'html') {
      out.html = plain;
      out.htmlWire = wire;
    } else {
      out.text = plain;
      out.textWire = wire;
    }
  }
  return out;
}

const SEPARATOR = { html: Buffer.from(qpChunk(BLOCK_SEPARATOR.html) || '', 'latin1'), text: Buffer.from(qpChunk(BLOCK_SEPARATOR.text) || '', 'latin1') };

// As Handlebars escapes the same values in a full render, so both give the same bytes.
const escapeHtml = (v: string) => Handlebars.escapeExpression(v);

/**
 * One reader's message as chunks: the skeleton's shared buffers, each block's shared chunks, and the reader's own
 * values (links, address, subject, headline, rank, reason, topics, feedback links) encoded here.
 */
// Ranks, topic chips and reasons repeat across readers (a paper's reason for everyone who matched the same topics):
// encoded once each while they stay in this bound; links and addresses are the reader's own and pass through.
const ENCODED_MAX = 5_000;
const encoded = new Map<string, Buffer>();
function encodeValue(v: string, stuffed: boolean, shared: boolean): Buffer {
  if (!shared) return Buffer.from(stuffed ? stuff(qpChunk(v)) : qpChunk(v), 'latin1');
  const k = (stuffed ? 's' : 'p') + v;
  let b = encoded.get(k);
  if (!b) {
    b = Buffer.from(stuffed ? stuff(qpChunk(v)) : qpChunk(v), 'latin1');
    if (encoded.size >= ENCODED_MAX) encoded.clear();
    encoded.set(k, b);
  }
  return b;
}
const OWN: ReadonlySet<ItemSlot> = new Set<ItemSlot>(['moreUrl', 'lessUrl']);

/** A recipe's values that are the same for every reader of it, encoded: its Subject line, wrapper strings, item values. */
interface PreparedRecipe {
  subject: string;
  wrapper: Record<Part, Record<WrapperSlot, Buffer>>;
  /** Per section, per item, per part: each slot's encoded value, or its own link's slot left for the reader. */
  items: Record<Part, (Buffer | ItemSlot | null)[]>[][];
}

// Readers who share a digest share its recipe object (the sender keeps one per variant): its values are encoded once,
// so a message costs the reader's own links and address, not the edition's strings again. Held no longer than the recipe.
const preparedRecipes = { plain: new WeakMap<AssemblyRecipe, PreparedRecipe>(), wire: new WeakMap<AssemblyRecipe, PreparedRecipe>() };

function prepareRecipe(recipe: AssemblyRecipe, resolve: () => EncodedBlock[][], stuffed: boolean): PreparedRecipe {
  const cache = stuffed ? preparedRecipes.wire : preparedRecipes.plain;
  let p = cache.get(recipe);
  if (p) return p;
  const blocks = resolve();
  const enc = (v: string) => encodeValue(v, stuffed, false);
  const wh = wrapperHtmlValues(recipe.strings);
  const wt = wrapperTextValues(recipe.strings);
  const wrapper = { html: {} as Record<WrapperSlot, Buffer>, text: {} as Record<WrapperSlot, Buffer> };
  for (const slot of WRAPPER_SLOTS) {
    wrapper.html[slot] = enc(wh[slot]);
    wrapper.text[slot] = enc(wt[slot]);
  }
  // The feedback links are the reader's: their slots stay open here and are filled per message.
  const noLinks: FeedbackLinks = () => '';
  const items = recipe.sections.map((section, si) =>
    section.map(({ item }, n) => {
      const b = blocks[si]![n]!;
      const values = { html: itemHtmlValues(item, noLinks), text: itemTextValues(item, noLinks) };
      const out = {} as Record<Part, (Buffer | ItemSlot | null)[]>;
      for (const part of ['html', 'text'] as const) {
        out[part] = (part === 'html' ? (stuffed ? b.htmlWire : b.html) : stuffed ? b.textWire : b.text).map((s) => {
          if (Buffer.isBuffer(s)) return s;
          if (OWN.has(s)) return s;
          return values[part][s] === '' ? null : encodeValue(values[part][s], stuffed, true);
        });
      }
      return out;
    }),
  );
  p = { subject: subjectHeader(recipe.strings.subject), wrapper, items };
  cache.set(recipe, p);
  return p;
}

function fill(
  sk: Skeleton,
  recipe: AssemblyRecipe,
  blocks: (key: string) => EncodedBlock,
  r: Recipient,
  feedback: FeedbackLinks,
  stuffed: boolean,
  resolved?: EncodedBlock[][],
): Buffer[] {
  const enc = (v: string) => encodeValue(v, stuffed, false);
  const p = prepareRecipe(recipe, () => resolved ?? recipe.sections.map((items) => items.map(({ block }) => blocks(block))), stuffed);
  const parts: Buffer[] = [Buffer.from(recipientHeaders(r, sk.listUnsubscribe) + p.subject, 'latin1')];
  for (const seg of stuffed ? sk.wire : sk.segments) {
    if (Buffer.isBuffer(seg)) {
      parts.push(seg);
      continue;
    }
    parts.push(SOFT_BREAK); // the skeleton's line ends here; everything written next starts a line
    if (seg.kind === 'recipient') {
      const v = seg.slot === 'email' ? r.email : r.links[seg.slot];
      parts.push(enc(seg.part === 'html' ? escapeHtml(v) : v));
    } else if (seg.kind === 'wrapper') {
      parts.push(p.wrapper[seg.part][seg.slot]);
    } else {
      const items = recipe.sections[seg.index] ?? [];
      const prepared = p.items[seg.index] ?? [];
      for (let n = 0; n < items.length; n++) {
        if (n > 0 && SEPARATOR[seg.part].length) parts.push(SEPARATOR[seg.part]);
        const paperId = items[n]!.item.paperId;
        for (const s of prepared[n]![seg.part]) {
          if (s === null) continue;
          if (Buffer.isBuffer(s)) parts.push(s);
          else {
            // Each link is signed once per message (the reader's links cache it), though both parts carry it.
            const url = feedback(paperId, s === 'moreUrl' ? 'more' : 'less');
            parts.push(enc(seg.part === 'html' ? escapeHtml(url) : url));
          }
        }
      }
    }
  }
  return parts;
}

export interface AssembledVariant {
  skeleton: Skeleton;
  recipe: AssemblyRecipe;
  blocks: (key: string) => EncodedBlock;
  /** The recipe's blocks looked up once, per section in order (else `blocks` per message). */
  resolved?: EncodedBlock[][];
}

function checkAssembled(v: AssembledVariant): void {
  if (v.recipe.sections.length !== v.skeleton.sections)
    throw new TemplateError(`recipe has ${v.recipe.sections.length} sections, wrapper ${v.skeleton.sections}`);
}

/** The reader's feedback links: their own, or the paper's page for someone who is no subscriber. */
function feedbackOf(r: Recipient, siteUrl: string): FeedbackLinks {
  return r.links.feedback ?? ((id) => `${siteUrl.replace(/\/+$/, '')}/papers/${id}`);
}

export async function personaliseAssembled(v: AssembledVariant, r: Recipient, siteUrl: string): Promise<Buffer> {
  checkRecipient(r);
  checkAssembled(v);
  const raw = Buffer.concat(fill(v.skeleton, v.recipe, v.blocks, r, feedbackOf(r, siteUrl), false, v.resolved));
  return v.skeleton.sign ? v.skeleton.sign(raw) : raw;
}

/** As SMTP DATA wants it: pre-stuffed chunks when unsigned; signed, the whole message for the client to stuff. */
export async function personaliseAssembledForWire(v: AssembledVariant, r: Recipient, siteUrl: string): Promise<{ raw: Buffer[]; dotStuffed: boolean }> {
  if (v.skeleton.sign) return { raw: [await personaliseAssembled(v, r, siteUrl)], dotStuffed: false };
  checkRecipient(r);
  checkAssembled(v);
  // One buffer: a message is some 300 chunks, and one copy costs less than handing the socket that many.
  return { raw: [Buffer.concat(fill(v.skeleton, v.recipe, v.blocks, r, feedbackOf(r, siteUrl), true, v.resolved))], dotStuffed: true };
}
