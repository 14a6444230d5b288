// Owns the subscription lifecycle: subscribe (double opt-in), confirm, preferences, unsubscribe and resubscribe.
import type { Store } from '../db/open.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { checkEmail } from './email.js';
import { defaultPreferences, preferencesSchema, fieldErrors, type Preferences } from './preferences.js';
import { createSubscriberRepository, type Subscriber, type SubscriberRepository, type SubscriberSource } from './repository.js';
import { hashConfirmToken, looksLikeConfirmToken, verifySubscriberToken } from './tokens.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface SubscriptionConfig {
  CONFIRM_TOKEN_TTL_HOURS: number;
  DEFAULT_TIME_ZONE: string;
  DIGEST_SIZE_DEFAULT: number;
}

export interface SubscriptionDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  config: SubscriptionConfig;
  /** Link-signing key (SECRET_KEY). */
  secret: string;
  /** Called after a confirmation is queued, so a running worker sends it now rather than at its next poll. */
  onConfirmationQueued?: () => void;
  /** Called after a subscriber's stored choices change (topics and muted topics train their reader model). */
  onPreferencesChanged?: (subscriberId: number) => void;
}

/** What happened, for logs and the CLI. The web answers the same whatever it is, so nobody learns who subscribed. */
export type SubscribeOutcome = 'created' | 'pending' | 'active' | 'resubscribed' | 'bounced';

export type SubscribeResult = { ok: true; outcome: SubscribeOutcome; subscriberId: number; confirmationQueued: boolean } | { ok: false; error: string };

export type ResubscribeResult = { outcome: 'resubscribed' | 'active' | 'bounced'; subscriber: Subscriber };

export type TokenState = 'valid' | 'expired' | 'used' | 'unknown';

export type ConfirmResult = { ok: true; subscriber: Subscriber } | { ok: false; reason: Exclude<TokenState, 'valid'> };

export type PreferencesResult =
  | { ok: true; subscriber: Subscriber }
  | { ok: false; reason: 'invalid'; errors: Record<string, string> }
  | { ok: false; reason: 'unknown' };

export type SubscriptionService = ReturnType<typeof createSubscriptionService>;

export function createSubscriptionService(deps: SubscriptionDeps) {
  const repo: SubscriberRepository = createSubscriberRepository(deps.store);
  const { clock, log, config, secret } = deps;
  const now = () => clock.now().toISOString();

  /** Queues a confirmation unless one went out in the last 24 hours (checked and claimed atomically). */
  function queueConfirmation(id: number, at: string): boolean {
    const cutoff = new Date(Date.parse(at) - DAY_MS).toISOString();
    if (!repo.claimConfirmationSlot(id, at, cutoff)) return false;
    repo.enqueueConfirmation(id, at);
    return true;
  }

  function subscribe(rawEmail: string, source: SubscriberSource, prefs: Partial<Preferences> = {}): SubscribeResult {
    const checked = checkEmail(rawEmail);
    if ('error' in checked) return { ok: false, error: checked.error };
    const email = checked.email;
    const preferences = { ...defaultPreferences({ digestSize: config.DIGEST_SIZE_DEFAULT, timeZone: config.DEFAULT_TIME_ZONE }), ...prefs };
    const at = now();
    // IMMEDIATE: the read-decide-write below must not interleave with another process doing the same.
    const result = deps.store.db
      .transaction((): SubscribeResult => {
        const existing = repo.byEmail(email);
        if (!existing) {
          const s = repo.insert({ email, status: 'pending', source, preferences }, at);
          return { ok: true, outcome: 'created', subscriberId: s.id, confirmationQueued: queueConfirmation(s.id, at) };
        }
        switch (existing.status) {
          case 'active':
          case 'bounced':
            // Active: nothing to do. Bounced: suppressed; an admin clears it by hand.
            return { ok: true, outcome: existing.status, subscriberId: existing.id, confirmationQueued: false };
          case 'unsubscribed':
            // Anyone can type anyone's address: the row stays unsubscribed and the new choices wait aside until the
            // owner confirms from the email (pending_preferences is what lets that email be sent).
            repo.setPendingPreferences(existing.id, { ...existingPrefs(existing), ...prefs }, at);
            return { ok: true, outcome: 'resubscribed', subscriberId: existing.id, confirmationQueued: queueConfirmation(existing.id, at) };
          case 'pending':
            // Preferences of a pending address are not touched: anyone can type anyone's address.
            return { ok: true, outcome: 'pending', subscriberId: existing.id, confirmationQueued: queueConfirmation(existing.id, at) };
        }
      })
      .immediate();
    if (result.ok) {
      log.info({ subscriberId: result.subscriberId, outcome: result.outcome, queued: result.confirmationQueued, source }, 'subscribe');
      if (result.confirmationQueued) deps.onConfirmationQueued?.();
    }
    return result;
  }

  function tokenState(token: string): { state: TokenState; subscriberId?: number } {
    if (!looksLikeConfirmToken(token)) return { state: 'unknown' };
    const row = repo.confirmToken(hashConfirmToken(token));
    if (!row) return { state: 'unknown' };
    if (row.used_at) return { state: 'used', subscriberId: row.subscriber_id };
    if (row.expires_at <= now()) return { state: 'expired', subscriberId: row.subscriber_id };
    return { state: 'valid', subscriberId: row.subscriber_id };
  }

  /** Spends the token and activates its subscriber, or says why not. */
  function confirm(token: string): ConfirmResult {
    if (!looksLikeConfirmToken(token)) return { ok: false, reason: 'unknown' };
    const hash = hashConfirmToken(token);
    const at = now();
    return deps.store.db
      .transaction((): ConfirmResult => {
        if (!repo.useConfirmToken(hash, at)) {
          const s = tokenState(token).state;
          return { ok: false, reason: s === 'valid' ? 'used' : s };
        }
        const row = repo.confirmToken(hash)!;
        const sub = repo.byId(row.subscriber_id);
        // A bounced or since-unsubscribed address is not revived by an old link.
        if (!sub || !repo.activate(sub.id, at, row.created_at)) return { ok: false, reason: 'used' };
        // The owner has now proved the mailbox: what was asked for through the form counts from here.
        const waiting = pendingPreferences(sub);
        if (waiting) {
          repo.updatePreferences(sub.id, waiting, at);
          deps.onPreferencesChanged?.(sub.id);
        }
        log.info({ subscriberId: sub.id, preferencesApplied: waiting !== null }, 'confirmed');
        return { ok: true, subscriber: repo.byId(sub.id)! };
      })
      .immediate();
  }

  function byManageToken(token: string): Subscriber | null {
    const id = verifySubscriberToken(token, 'manage', secret);
    return id === null ? null : repo.byId(id);
  }

  function byUnsubscribeToken(token: string): Subscriber | null {
    const id = verifySubscriberToken(token, 'unsubscribe', secret);
    return id === null ? null : repo.byId(id);
  }

  function updatePreferences(token: string, input: Record<string, unknown>): PreferencesResult {
    const sub = byManageToken(token);
    if (!sub) return { ok: false, reason: 'unknown' };
    const parsed = preferencesSchema.safeParse(input);
    if (!parsed.success) return { ok: false, reason: 'invalid', errors: fieldErrors(parsed.error) };
    repo.updatePreferences(sub.id, parsed.data, now());
    deps.onPreferencesChanged?.(sub.id);
    return { ok: true, subscriber: repo.byId(sub.id)! };
  }

  /** Unsubscribes the token's subscriber; repeating it is fine. Null for a token we did not sign. */
  function unsubscribeByToken(token: string): Subscriber | null {
    const sub = byUnsubscribeToken(token);
    if (!sub) return null;
    if (repo.unsubscribe(sub.id, now())) log.info({ subscriberId: sub.id }, 'unsubscribed');
    return repo.byId(sub.id);
  }

  /**
   * "Resubscribe" from the unsubscribed page. The signed link was mailed to this address, so it already proves the
   * mailbox: the subscriber is active at once, with the preferences they had (no confirmation email, so no daily cap
   * to run into). Bounced addresses stay suppressed. Null for a token we did not sign.
   */
  function resubscribeByToken(token: string): ResubscribeResult | null {
    const sub = byUnsubscribeToken(token);
    if (!sub) return null;
    if (sub.status === 'bounced' || sub.status === 'active') return { outcome: sub.status, subscriber: sub };
    repo.setActive(sub.id, now());
    log.info({ subscriberId: sub.id, was: sub.status }, 'resubscribed from signed link');
    return { outcome: 'resubscribed', subscriber: repo.byId(sub.id)! };
  }

  return {
    repo,
    subscribe,
    tokenState: (token: string) => tokenState(token).state,
    confirm,
    byManageToken,
    byUnsubscribeToken,
    updatePreferences,
    unsubscribeByToken,
    resubscribeByToken,
  };
}

/** The preferences waiting for the owner's confirmation, or null (none, or a value no longer valid). */
export function pendingPreferences(s: Subscriber): Preferences | null {
  if (s.pending_preferences === null) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(s.pending_preferences);
  } catch {
    return null;
  }
  // Waiting choices saved before a field existed keep what the row has for it, rather than its default.
  const r = preferencesSchema.safeParse(raw !== null && typeof raw === 'object' ? { ...existingPrefs(s), ...raw } : raw);
  return r.success ? r.data : null;
}

export function existingPrefs(s: Subscriber): Preferences {
  return {
    frequency: s.frequency,
    weekday: s.weekday,
    kind: s.kind,
    topics: s.topics,
    digest_size: s.digest_size,
    delivery_hour: s.delivery_hour,
    time_zone: s.time_zone,
    muted_topics: s.muted_topics,
    followed_authors: s.followed_authors,
    only_with_code: s.only_with_code,
    selection_mode: s.selection_mode,
    relevance_bar: s.relevance_bar,
    trend_weight: s.trend_weight,
  };
}
