// Owns the subscribers table as the rest of the code sees it: rows parsed with zod, named queries only.
import { z } from 'zod';
import type { Store } from '../db/open.js';
import { Frequency, Kind, type Preferences } from './preferences.js';

export const SubscriberStatus = z.enum(['pending', 'active', 'unsubscribed', 'bounced']);
export type SubscriberStatus = z.infer<typeof SubscriberStatus>;
export const SubscriberSource = z.enum(['web', 'email', 'cli', 'import']);
export type SubscriberSource = z.infer<typeof SubscriberSource>;

const topicsJson = z.string().transform((s, ctx) => {
  const r = z.array(z.string()).safeParse(JSON.parse(s));
  if (!r.success) {
    ctx.addIssue({ code: 'custom', message: 'topics is not a JSON list of strings' });
    return z.NEVER;
  }
  return r.data;
});

export const SubscriberRow = z.object({
  id: z.number().int(),
  email: z.string(),
  status: SubscriberStatus,
  frequency: Frequency,
  weekday: z.number().int(),
  kind: Kind,
  topics: topicsJson,
  digest_size: z.number().int(),
  delivery_hour: z.number().int(),
  time_zone: z.string(),
  source: SubscriberSource,
  created_at: z.string(),
  updated_at: z.string(),
  confirmed_at: z.string().nullable(),
  unsubscribed_at: z.string().nullable(),
  last_confirmation_sent_at: z.string().nullable(),
  bounced_at: z.string().nullable(),
  bounce_reason: z.string().nullable(),
  /** Preferences asked for through the form, applied when the owner confirms (JSON; see migration 071). */
  pending_preferences: z.string().nullable(),
  /** When a feedback-loop complaint unsubscribed the address (migration 072). */
  complained_at: z.string().nullable(),
  /** Issue 16 (migration 073): negative keywords, followed authors, code filter, threshold mode and the trend knob. */
  muted_topics: topicsJson,
  followed_authors: topicsJson,
  only_with_code: z
    .number()
    .int()
    .transform((v) => v === 1),
  selection_mode: z.enum(['top', 'threshold']),
  relevance_bar: z.number().int(),
  trend_weight: z.number().int(),
});
export type Subscriber = z.infer<typeof SubscriberRow>;

export const ConfirmTokenRow = z.object({
  token_hash: z.string(),
  subscriber_id: z.number().int(),
  created_at: z.string(),
  expires_at: z.string(),
  used_at: z.string().nullable(),
});
export type ConfirmTokenRow = z.infer<typeof ConfirmTokenRow>;

export const ConfirmationStatus = z.enum(['queued', 'sending', 'sent', 'failed']);
export type ConfirmationStatus = z.infer<typeof ConfirmationStatus>;
export const ConfirmationRow = z.object({
  id: z.number().int(),
  subscriber_id: z.number().int(),
  status: ConfirmationStatus,
  attempts: z.number().int(),
  next_attempt_at: z.string(),
  last_error: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  sent_at: z.string().nullable(),
});
export type ConfirmationRow = z.infer<typeof ConfirmationRow>;

export interface NewSubscriber {
  email: string;
  status: 'pending' | 'active';
  source: SubscriberSource;
  preferences: Preferences;
}

/** A row's preference columns; also the import's (src/subscriptions/import.ts), so both write the same. */
export function prefParams(p: Preferences) {
  return {
    frequency: p.frequency,
    weekday: p.weekday,
    kind: p.kind,
    topics: JSON.stringify(p.topics),
    digest_size: p.digest_size,
    delivery_hour: p.delivery_hour,
    time_zone: p.time_zone,
    muted_topics: JSON.stringify(p.muted_topics),
    followed_authors: JSON.stringify(p.followed_authors),
    only_with_code: p.only_with_code ? 1 : 0,
    selection_mode: p.selection_mode,
    relevance_bar: p.relevance_bar,
    trend_weight: p.trend_weight,
  };
}

function insertParams(s: NewSubscriber, now: string) {
  return { email: s.email, status: s.status, source: s.source, ...prefParams(s.preferences), now, confirmed_at: s.status === 'active' ? now : null };
}

export type SubscriberRepository = ReturnType<typeof createSubscriberRepository>;

export function createSubscriberRepository(store: Store) {
  const { q, db } = store;
  const one = (row: unknown) => (row === undefined ? null : SubscriberRow.parse(row));
  return {
    db,
    byEmail: (email: string) => one(q('subscriber-get-by-email').get(email)),
    byId: (id: number) => one(q('subscriber-get-by-id').get(id)),
    insert: (s: NewSubscriber, now: string) => SubscriberRow.parse(q('subscriber-insert').get(insertParams(s, now))),
    /** True when the row was added; false when the address already existed. */
    insertOrIgnore: (s: NewSubscriber, now: string) => q('subscriber-insert-or-ignore').run(insertParams(s, now)).changes === 1,
    /** True for the one caller allowed to send a confirmation now (none sent since `cutoff`). */
    claimConfirmationSlot: (id: number, now: string, cutoff: string) => q('subscriber-claim-confirmation-slot').run({ id, now, cutoff }).changes === 1,
    /** `tokenCreatedAt`: when the confirmation token used was made (an unsubscribed address needs a newer one). */
    activate: (id: number, now: string, tokenCreatedAt: string) => q('subscriber-activate').run({ id, now, token_created_at: tokenCreatedAt }).changes === 1,
    setActive: (id: number, now: string) => q('subscriber-set-active').run({ id, now }).changes === 1,
    unsubscribe: (id: number, now: string) => q('subscriber-unsubscribe').run({ id, now }).changes === 1,
    markBounced: (id: number, reason: string, now: string) => q('subscriber-mark-bounced').run({ id, reason, now }).changes === 1,
    updatePreferences: (id: number, p: Preferences, now: string) => q('subscriber-update-preferences').run({ id, now, ...prefParams(p) }).changes === 1,
    setPendingPreferences: (id: number, p: Preferences, now: string) =>
      q('subscriber-set-pending-preferences').run({ id, now, prefs: JSON.stringify(p) }).changes === 1,
    remove: (id: number) => q('subscriber-delete').run(id).changes === 1,
    page: (afterId: number, limit: number, status?: SubscriberStatus) =>
      (status ? q('subscriber-page-by-status').all(status, afterId, limit) : q('subscriber-page').all(afterId, limit)).map((r) => SubscriberRow.parse(r)),
    countByStatus(): Record<SubscriberStatus, number> {
      const out: Record<SubscriberStatus, number> = { pending: 0, active: 0, unsubscribed: 0, bounced: 0 };
      for (const r of q('subscriber-count-by-status').all()) out[SubscriberStatus.parse(r.status)] = r.n;
      return out;
    },

    insertConfirmToken: (p: { token_hash: string; subscriber_id: number; now: string; expires_at: string }) => void q('subscriber-confirm-token-insert').run(p),
    confirmToken: (hash: string) => {
      const r = q('subscriber-confirm-token-get').get(hash);
      return r === undefined ? null : ConfirmTokenRow.parse(r);
    },
    useConfirmToken: (token_hash: string, now: string) => q('subscriber-confirm-token-use').run({ token_hash, now }).changes === 1,
    deleteConfirmToken: (hash: string) => void q('subscriber-confirm-token-delete').run(hash),
    /** Drops tokens expired before `before`, and finished queue rows last touched before it. */
    purgeBefore: (before: string) => q('subscriber-confirm-token-purge').run({ before }).changes + q('subscriber-confirmation-purge').run({ before }).changes,

    enqueueConfirmation: (subscriber_id: number, now: string) => void q('subscriber-confirmation-enqueue').run({ subscriber_id, now }),
    claimConfirmation: (now: string) => {
      const r = q('subscriber-confirmation-claim').get({ now });
      return r === undefined ? null : ConfirmationRow.parse(r);
    },
    confirmationSent: (id: number, now: string) => void q('subscriber-confirmation-sent').run({ id, now }),
    confirmationRetry: (id: number, next_attempt_at: string, error: string, now: string) =>
      void q('subscriber-confirmation-retry').run({ id, next_attempt_at, error, now }),
    confirmationUnsent: (id: number, next_attempt_at: string, error: string, now: string) =>
      void q('subscriber-confirmation-unsent').run({ id, next_attempt_at, error, now }),
    confirmationFail: (id: number, error: string, now: string) => void q('subscriber-confirmation-fail').run({ id, error, now }),
    requeueStuckConfirmations: (now: string) => q('subscriber-confirmation-requeue-stuck').run({ now }).changes,
    nextConfirmationDue: () => q('subscriber-confirmation-next-due').get()!.at,
    confirmationsFor: (subscriberId: number) =>
      q('subscriber-confirmation-get')
        .all(subscriberId)
        .map((r) => ConfirmationRow.parse(r)),
  };
}
