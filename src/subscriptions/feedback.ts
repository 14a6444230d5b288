// Owns what readers tell us about papers (the feedback table, migration 073) and who hears of it when they do.
import { z } from 'zod';
import type { Store } from '../db/open.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';

export const FeedbackSource = z.enum(['email', 'preferences', 'paper']);
export type FeedbackSource = z.infer<typeof FeedbackSource>;

/** The words in links and forms; the table stores 1 and -1. */
export const FeedbackSignal = z.enum(['more', 'less']);
export type FeedbackSignal = z.infer<typeof FeedbackSignal>;

const signalOf = z
  .number()
  .int()
  .refine((v) => v === 1 || v === -1)
  .transform((v): FeedbackSignal => (v === 1 ? 'more' : 'less'));

export const FeedbackRow = z.object({
  id: z.number().int(),
  subscriber_id: z.number().int(),
  paper_id: z.number().int(),
  signal: signalOf,
  source: FeedbackSource,
  created_at: z.string(),
});
export type Feedback = z.infer<typeof FeedbackRow>;

export const FeedbackListRow = z.object({
  id: z.number().int(),
  paper_id: z.number().int(),
  signal: signalOf,
  source: FeedbackSource,
  created_at: z.string(),
  title: z.string(),
});
export type FeedbackListItem = z.infer<typeof FeedbackListRow>;

const PaperIds = z.array(z.number().int());
export const SentDeliveryRow = z.object({
  id: z.number().int(),
  paper_ids: z.string().transform((s) => PaperIds.parse(JSON.parse(s))),
  sent_at: z.string(),
  kind: z.string(),
  frequency: z.string(),
  local_date: z.string(),
});
export type SentDelivery = z.infer<typeof SentDeliveryRow>;

/**
 * Told after every change to a reader's feedback (a tap, a second tap, an undo), so the reader's model can be refit.
 * Must return at once: it runs on the request, and the refit belongs in the background (the ranking's own module).
 */
export interface FeedbackListener {
  onFeedback(subscriberId: number): void;
}
export const noFeedbackListener: FeedbackListener = { onFeedback() {} };

export type FeedbackRepository = ReturnType<typeof createFeedbackRepository>;

export function createFeedbackRepository(store: Store) {
  const { q } = store;
  return {
    /** A second tap on the same paper replaces the first. */
    upsert: (subscriberId: number, paperId: number, signal: FeedbackSignal, source: FeedbackSource, now: string): number =>
      q('feedback-upsert').get({ subscriber_id: subscriberId, paper_id: paperId, signal: signal === 'more' ? 1 : -1, source, now })!.id,
    /** Undo: true when there was something to remove. */
    remove: (subscriberId: number, paperId: number): boolean => q('feedback-delete').run(subscriberId, paperId).changes === 1,
    get(subscriberId: number, paperId: number): Feedback | null {
      const r = q('feedback-get').get(subscriberId, paperId);
      return r === undefined ? null : FeedbackRow.parse(r);
    },
    /** Newest first, with the paper's title. */
    recent: (subscriberId: number, limit: number): FeedbackListItem[] =>
      q('feedback-by-subscriber')
        .all(subscriberId, limit)
        .map((r) => FeedbackListRow.parse(r)),
    count: (subscriberId: number): number => q('feedback-count-by-subscriber').get(subscriberId)!.n,
    /** The deliveries that went out to the reader, newest first. */
    sentDeliveries: (subscriberId: number, limit: number): SentDelivery[] =>
      q('feedback-sent-deliveries')
        .all(subscriberId, limit)
        .map((r) => SentDeliveryRow.parse(r)),
  };
}

export type FeedbackService = ReturnType<typeof createFeedbackService>;

/** Every surface (the email's links, the preferences page, the paper page) records through here, so each tells the listener. */
export function createFeedbackService(deps: { store: Store; clock: Clock; log: Logger; listener?: FeedbackListener }) {
  const repo = createFeedbackRepository(deps.store);
  const listener = deps.listener ?? noFeedbackListener;
  const tell = (subscriberId: number) => {
    // A refit that cannot be scheduled must not lose what the reader just told us: the row is already written.
    try {
      listener.onFeedback(subscriberId);
    } catch (err) {
      deps.log.error({ err, subscriberId }, 'feedback listener failed');
    }
  };
  return {
    repo,
    give(subscriberId: number, paperId: number, signal: FeedbackSignal, source: FeedbackSource): Feedback {
      repo.upsert(subscriberId, paperId, signal, source, deps.clock.now().toISOString());
      deps.log.info({ subscriberId, paperId, signal, source }, 'feedback');
      tell(subscriberId);
      return repo.get(subscriberId, paperId)!;
    },
    /** The row removed, or null when there was none. */
    undo(subscriberId: number, paperId: number): Feedback | null {
      const had = repo.get(subscriberId, paperId);
      if (!had || !repo.remove(subscriberId, paperId)) return null;
      deps.log.info({ subscriberId, paperId }, 'feedback undone');
      tell(subscriberId);
      return had;
    },
  };
}
