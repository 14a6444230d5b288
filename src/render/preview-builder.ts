// Owns "what would this subscriber get": the selection, the rendered and personalised digest, and the score
// breakdown per paper, shared by `paperboy preview` and /admin/preview.
import { z } from 'zod';
import type { Store } from '../db/open.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { DigestKind, parseTopics, todayUtc, type Selection, type Selector } from '../digest/select.js';
import type { RenderedDigest, Renderer } from './renderer.js';
import type { RecipientLinks } from './placeholders.js';

export interface PreviewDeps {
  store: Store;
  clock: Clock;
  config: Pick<Config, 'PUBLIC_URL' | 'DIGEST_SIZE_DEFAULT'>;
  renderer: Renderer;
  selector: Selector;
  /**
   * The real per-recipient links (signed manage/unsubscribe URLs) when the app provides them; without it
   * the preview shows clearly marked stand-ins.
   */
  linksFor?: (subscriber: { id: number; email: string }) => RecipientLinks;
}

export interface PreviewRequest {
  kind?: DigestKind;
  /** Preview as this subscriber would get it (their kind, topics, size, and minus what they were sent). */
  as?: string;
  /** YYYY-MM-DD; the subscriber's local today (or today in UTC) when omitted. */
  date?: string;
}

const SubscriberRow = z.object({
  id: z.number().int(),
  email: z.string(),
  status: z.enum(['pending', 'active', 'unsubscribed', 'bounced']),
  frequency: z.enum(['daily', 'weekly', 'paused']),
  kind: DigestKind,
  topics: z.string(),
  digest_size: z.number().int(),
  time_zone: z.string(),
});
export type PreviewSubscriber = z.infer<typeof SubscriberRow>;

export interface ScoreRow {
  rank: number;
  section: string;
  id: number;
  title: string;
  url: string;
  upvotes: number;
  /** "+12 today, +30 week" from the snapshots, or "total" when the score used the total. */
  gained: string;
  /** The upvotes the weight counts. */
  votes: string;
  lists: number;
  date: string;
  dateSource: string;
  ageDays: number;
  popularity: string;
  decay: string;
  score: string;
  why: string;
}

export type PreviewResult =
  | {
      status: 'ready';
      date: string;
      subscriber: PreviewSubscriber | null;
      selection: Selection;
      rendered: RenderedDigest;
      html: string;
      text: string;
      rows: ScoreRow[];
    }
  | { status: 'empty'; date: string; subscriber: PreviewSubscriber | null; message: string }
  | { status: 'unknown-subscriber'; message: string };

/** Messages a person reads, in one place. */
export const PREVIEW_MESSAGES = {
  unknownSubscriber: (email: string) => `no subscriber with the address ${email}`,
  nothingToSend: (reason: string) => `nothing to send: ${reason}`,
} as const;

/** The subscriber's local calendar date (their digest edition's date). */
export function localDate(now: Date, timeZone: string): string {
  try {
    return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
  } catch {
    return now.toISOString().slice(0, 10);
  }
}

export async function buildPreview(deps: PreviewDeps, req: PreviewRequest): Promise<PreviewResult> {
  const { store, clock, config, renderer, selector } = deps;
  const siteUrl = config.PUBLIC_URL.replace(/\/+$/, '');
  let subscriber: PreviewSubscriber | null = null;
  if (req.as) {
    const email = req.as.trim();
    const row = store.q('digest-subscriber-by-email').get(email, email);
    if (!row) return { status: 'unknown-subscriber', message: PREVIEW_MESSAGES.unknownSubscriber(email) };
    subscriber = SubscriberRow.parse(row);
  }
  const date = req.date ?? (subscriber ? localDate(clock.now(), subscriber.time_zone) : todayUtc(clock));
  const result = subscriber
    ? selector.selectForSubscriber(subscriber, date, { kind: req.kind })
    : selector.select({ kind: req.kind ?? 'trending', size: config.DIGEST_SIZE_DEFAULT }, date);
  if (result.status === 'empty') return { status: 'empty', date, subscriber, message: PREVIEW_MESSAGES.nothingToSend(result.message) };
  const selection = result.selection;
  const links =
    subscriber && deps.linksFor
      ? deps.linksFor({ id: subscriber.id, email: subscriber.email })
      : { unsubscribeUrl: `${siteUrl}/unsubscribe?preview=1`, unsubscribeMailto: `mailto:unsubscribe@example.org`, manageUrl: `${siteUrl}/manage?preview=1` };
  // One recipient: rendered with their real values, so the preview is exactly what they would get.
  const { feedback, ...recipient } = links;
  const rendered = await renderer.renderDigest(selection, {
    slots: { ...recipient, email: subscriber?.email ?? 'preview@example.org' },
    ...(feedback ? { feedback } : {}),
  });
  const { html, text } = rendered;
  const rows = selection.sections.flatMap((s) =>
    s.items.map((i) => ({
      rank: i.rank,
      section: s.title,
      id: i.paper.id,
      title: i.paper.title,
      url: `${siteUrl}/papers/${i.paper.id}`,
      upvotes: i.score.upvotes,
      gained: i.score.gains ? `+${i.score.gains.day} today, +${i.score.gains.week} week` : 'total',
      votes: i.score.votes.toFixed(1),
      lists: i.score.lists,
      date: i.score.effectiveDate,
      dateSource: i.score.dateSource,
      ageDays: i.score.ageDays,
      popularity: i.score.popularity.toFixed(3),
      decay: i.score.decay.toFixed(3),
      score: i.score.score.toFixed(3),
      why: i.why,
    })),
  );
  return { status: 'ready', date, subscriber, selection, rendered, html, text, rows };
}

/** The preview's facts as label/value pairs (subscriber, subject, preheader, selection key, size). */
export function previewFacts(r: Extract<PreviewResult, { status: 'ready' | 'empty' }>): { label: string; value: string }[] {
  const facts: { label: string; value: string }[] = [];
  if (r.subscriber) {
    const s = r.subscriber;
    facts.push(
      { label: 'Subscriber', value: `${s.email} (${s.status}, ${s.frequency}, ${s.kind}, ${s.digest_size} papers, ${s.time_zone})` },
      { label: 'Topics', value: parseTopics(s.topics).join(', ') || 'none' },
    );
  } else facts.push({ label: 'Audience', value: 'the public digest (no subscriber: nothing excluded)' });
  facts.push({ label: 'Date', value: r.date });
  if (r.status === 'ready') {
    facts.push(
      { label: 'Subject', value: r.rendered.subject },
      { label: 'Preheader', value: r.rendered.preheader },
      { label: 'Papers', value: String(r.selection.count) },
      { label: 'HTML size', value: `${(Buffer.byteLength(r.html) / 1024).toFixed(1)} KB` },
      { label: 'Selection key', value: r.selection.key },
    );
  } else facts.push({ label: 'Result', value: r.message });
  return facts;
}
