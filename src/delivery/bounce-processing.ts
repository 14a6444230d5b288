// Owns what mail coming back does to a subscriber: every bounce stored, hard ones suppress at once, soft ones
// suppress when they repeat (SOFT_BOUNCE_LIMIT in SOFT_BOUNCE_WINDOW_DAYS), complaints unsubscribe.
import type { Store } from '../db/open.js';
import type { Config } from '../config.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { BounceReport, BounceSeverity, ComplaintReport } from '../mail/bounce-report.js';
import { verpDeliveryId } from '../mail/return-path.js';
import { verifySubscriberToken } from '../subscriptions/tokens.js';

type BounceConfig = Pick<Config, 'SOFT_BOUNCE_LIMIT' | 'SOFT_BOUNCE_WINDOW_DAYS'>;

export interface BounceFact {
  subscriberId: number;
  deliveryId: number | null;
  editionId: number | null;
  email: string;
  severity: BounceSeverity;
  status: string | null;
  action: string | null;
  diagnostic: string | null;
  source: 'dsn' | 'text' | 'smtp';
}

/**
 * Stores one bounce and suppresses the address when it calls for it; true when this bounce suppressed it. Runs in
 * the caller's transaction when there is one (the sender writes synchronous 5xx replies with its outcomes).
 */
export function recordBounce(store: Store, config: BounceConfig, fact: BounceFact, now: Date): boolean {
  const { q } = store;
  const iso = now.toISOString();
  return store.db.transaction(() => {
    q('bounce-insert').run({
      subscriber_id: fact.subscriberId,
      delivery_id: fact.deliveryId,
      edition_id: fact.editionId,
      email: fact.email,
      severity: fact.severity,
      status: fact.status,
      action: fact.action,
      diagnostic: fact.diagnostic?.slice(0, 500) ?? null,
      source: fact.source,
      now: iso,
    });
    const said = [fact.status, fact.diagnostic].filter(Boolean).join(' ').slice(0, 300);
    let reason: string | null = null;
    if (fact.severity === 'hard') reason = `hard bounce: ${said || 'permanent failure'}`;
    else {
      const since = new Date(now.getTime() - config.SOFT_BOUNCE_WINDOW_DAYS * 86_400_000).toISOString();
      const n = q('bounce-soft-count').get({ id: fact.subscriberId, since })?.n ?? 0;
      if (n >= config.SOFT_BOUNCE_LIMIT) reason = `${n} soft bounces in ${config.SOFT_BOUNCE_WINDOW_DAYS} days, the last: ${said || 'temporary failure'}`;
    }
    // Only an active or pending address changes: an unsubscribed one stays as its owner left it.
    return reason !== null && q('delivery-suppress-subscriber').run({ id: fact.subscriberId, reason, now: iso }).changes === 1;
  })();
}

export type BounceOutcome = { kind: 'recorded'; bounces: number; suppressed: boolean } | { kind: 'ignored'; why: string };
export type ComplaintOutcome = { kind: 'unsubscribed'; subscriberId: number; editionId: number | null } | { kind: 'ignored'; why: string };

/** ARF feedback types that are a reader's complaint; `not-spam` and `auth-failure` (RFC 6591) are not. */
const COMPLAINT_TYPES = new Set(['abuse', 'fraud', 'virus', 'other']);

/** `<d12.e3.<install tag>@domain>`, the Message-ID src/delivery/sender.ts gives each delivery. */
const MESSAGE_ID = /^<?d(\d{1,15})\.e(\d{1,15})\.([0-9a-f]{16})@[^>]+>?$/i;
/** The signed token in a List-Unsubscribe of ours: `/unsubscribe/<token>` or `unsubscribe+<token>@`. */
const UNSUBSCRIBE_TOKEN = /unsubscribe[/+]([0-9]{1,15}-(?:[0-9a-f]{32}|[0-9a-f]{28}))\b/gi;

export interface ReturnsDeps {
  store: Store;
  config: BounceConfig;
  clock: Clock;
  log: Logger;
  /** The link-signing key (SECRET_KEY): VERP and unsubscribe tokens are checked with it. */
  secret: string;
  /** This install's Message-ID tag (src/secrets.ts installTag). */
  install: string;
}

export function createReturnProcessing(deps: ReturnsDeps) {
  const { store, config, clock, secret } = deps;
  const log = deps.log.child({ component: 'returns' });
  const { q } = store;

  /** A DSN or text bounce sent to `bounces+TOKEN@`: each failed recipient it reports, against the delivery the token names. */
  function bounce(token: string, report: BounceReport): BounceOutcome {
    const deliveryId = verpDeliveryId(token, secret);
    if (deliveryId === null) return { kind: 'ignored', why: 'the VERP token does not verify' };
    const delivery = q('bounce-delivery').get(deliveryId);
    if (!delivery) return { kind: 'ignored', why: `delivery ${deliveryId} no longer exists` };
    const failures = report.recipients.filter((r) => r.severity !== null);
    if (failures.length === 0) return { kind: 'ignored', why: 'the report names no failed or delayed recipient' };
    let suppressed = false;
    for (const r of failures) {
      const fact: BounceFact = {
        subscriberId: delivery.subscriber_id,
        deliveryId,
        editionId: delivery.edition_id,
        email: r.recipient ?? delivery.email,
        severity: r.severity!,
        status: r.status,
        action: r.action,
        diagnostic: r.diagnostic,
        source: report.format,
      };
      if (recordBounce(store, config, fact, clock.now())) suppressed = true;
    }
    log.info({ deliveryId, subscriberId: delivery.subscriber_id, bounces: failures.length, suppressed }, 'bounce recorded');
    return { kind: 'recorded', bounces: failures.length, suppressed };
  }

  /**
   * Which delivery a complaint is about. A signed unsubscribe token from the original's List-Unsubscribe proves the
   * subscriber; a Message-ID alone is not signed (a reader who knows the install tag could name anyone's delivery),
   * so it is believed only when the report's original recipient is that delivery's address.
   */
  function findComplained(report: ComplaintReport): { subscriberId: number; deliveryId: number | null; editionId: number | null } | null {
    const byToken = [...(report.listUnsubscribe ?? '').matchAll(UNSUBSCRIBE_TOKEN)]
      .map((m) => verifySubscriberToken(m[1]!, 'unsubscribe', secret))
      .find((id): id is number => id !== null);
    const m = MESSAGE_ID.exec(report.originalMessageId?.trim() ?? '');
    const delivery = m && m[3]!.toLowerCase() === deps.install ? q('bounce-delivery').get(Number(m[1])) : undefined;
    const sameMessage = delivery && delivery.message_id?.toLowerCase() === report.originalMessageId!.trim().toLowerCase() ? delivery : undefined;
    if (byToken !== undefined) {
      if (sameMessage && sameMessage.subscriber_id === byToken) return { subscriberId: byToken, deliveryId: sameMessage.id, editionId: sameMessage.edition_id };
      const latest = q('complaint-latest-delivery').get(byToken);
      return { subscriberId: byToken, deliveryId: latest?.id ?? null, editionId: latest?.edition_id ?? null };
    }
    const recipient = report.originalRecipient?.trim().toLowerCase();
    if (sameMessage && recipient && recipient === sameMessage.email.toLowerCase()) {
      return { subscriberId: sameMessage.subscriber_id, deliveryId: sameMessage.id, editionId: sameMessage.edition_id };
    }
    return null;
  }

  /** An ARF report to COMPLAINTS_ADDRESS: the subscriber it names is unsubscribed and the complaint counted. */
  function complaint(report: ComplaintReport): ComplaintOutcome {
    const type = report.feedbackType.toLowerCase();
    if (!COMPLAINT_TYPES.has(type)) return { kind: 'ignored', why: `feedback type ${type} is not a complaint` };
    const found = findComplained(report);
    if (!found) return { kind: 'ignored', why: 'the report names no message of ours (no signed unsubscribe token, no matching Message-ID)' };
    const iso = clock.now().toISOString();
    const known = store.db.transaction(() => {
      // Zero rows: the subscriber was erased since; there is nobody left to unsubscribe or count against.
      if (q('complaint-unsubscribe').run({ id: found.subscriberId, now: iso }).changes === 0) return false;
      q('complaint-insert').run({
        subscriber_id: found.subscriberId,
        delivery_id: found.deliveryId,
        edition_id: found.editionId,
        feedback_type: type,
        user_agent: report.userAgent?.slice(0, 200) ?? null,
        now: iso,
      });
      return true;
    })();
    if (!known) return { kind: 'ignored', why: `subscriber ${found.subscriberId} no longer exists` };
    log.info({ subscriberId: found.subscriberId, editionId: found.editionId, type }, 'complaint: subscriber unsubscribed');
    return { kind: 'unsubscribed', ...found };
  }

  return { bounce, complaint };
}

export type ReturnProcessing = ReturnType<typeof createReturnProcessing>;
