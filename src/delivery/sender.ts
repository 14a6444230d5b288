// Owns sending the ledger: due deliveries in keyset pages, a bounded number in flight, paced, every outcome written back.
import type { Store } from '../db/open.js';
import type { QueryRow } from '../db/query-types.js';
import type { Config } from '../config.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { SendError, type Messenger } from '../mail/messenger.js';
import type { RecipientLinks } from './ports.js';
import { buildTemplate, personaliseForWire, RecipientError, type MessageTemplate, type MessageHeadersConfig } from './mime.js';
import { buildSkeleton, encodeBlock, personaliseAssembledForWire, type AssembledVariant, type EncodedBlock, type Skeleton } from './assembled-mime.js';
import { decodeRecipe, isRecipe } from '../render/blocks.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { dkimKey } from '../mail/dkim.js';
import { verpSender } from '../mail/return-path.js';
import { bounceSeverity, type BounceSeverity } from '../mail/bounce-report.js';
import { recordBounce } from './bounce-processing.js';
import { installTag, signingKey } from '../secrets.js';

const PAGE = 500;
const TEMPLATE_CACHE = 64;
/** Encoded paper blocks kept (about 10 KB each): a corpus's worth of an edition's papers, whatever the readers. */
const BLOCK_CACHE_BYTES = 24 * 1024 * 1024;

type DueRow = QueryRow<'delivery-due-page'>;

/** A 5xx reply at RCPT or DATA, classified like a bounce that came back by mail (src/mail/bounce-report.ts). */
interface ReplyBounce {
  severity: BounceSeverity;
  status: string | null;
  subscriberId: number;
  editionId: number;
  email: string;
}

type Outcome =
  | { id: number; kind: 'sent'; response: string }
  | { id: number; kind: 'retry'; response: string; attempts: number; maybeDelivered: boolean }
  | { id: number; kind: 'failed'; response: string; bounce?: ReplyBounce }
  | { id: number; kind: 'unsent'; response: string }
  | { id: number; kind: 'bounced'; response: string; bounce: ReplyBounce };

export interface DrainStats {
  sent: number;
  retried: number;
  failed: number;
  bounced: number;
  skipped: number;
  /** Sends that found the mail server unreachable: back in the queue, no attempt spent. */
  unsent: number;
  /** The editions whose rows were claimed: a run's summary reports them as a whole. */
  editions: Set<number>;
}

export function emptyDrainStats(): DrainStats {
  return { sent: 0, retried: 0, failed: 0, bounced: 0, skipped: 0, unsent: 0, editions: new Set() };
}

/** Adds `b` into `a`. */
export function addDrainStats(a: DrainStats, b: DrainStats): void {
  a.sent += b.sent;
  a.retried += b.retried;
  a.failed += b.failed;
  a.bounced += b.bounced;
  a.skipped += b.skipped;
  a.unsent += b.unsent;
  for (const e of b.editions) a.editions.add(e);
}

export interface SenderDeps {
  store: Store;
  config: Config;
  clock: Clock;
  log: Logger;
  messenger: Messenger;
  links: (subscriberId: number) => RecipientLinks;
  /**
   * Messages in flight at once; defaults to SMTP_POOL_SIZE * 8: every pooled connection always has its next messages
   * ready, and refilling at half the window writes about 4 outcomes per connection in each transaction.
   */
  maxInFlight?: number;
}

/** The deterministic Message-ID of a delivery: a resend after a crash carries the same one, so receivers can drop the copy. */
export function deliveryMessageId(deliveryId: number, editionId: number, mailDomain: string, install: string): string {
  // Delivery ids restart at 1 on every install; the install tag keeps ids from two installs apart.
  return `<d${deliveryId}.e${editionId}.${install}@${mailDomain}>`;
}

/** `Feedback-ID` for a digest: campaign (the edition), its kind, the mail type and paperboy as the sender id. */
export function feedbackId(campaign: string, kind: string): string {
  return `${campaign}:${kind}:digest:paperboy`;
}

export function headersConfig(config: Config): MessageHeadersConfig {
  const dkim = dkimKey(config);
  return { from: config.MAIL_FROM, mailDomain: config.MAIL_DOMAIN, listId: `paperboy digest <digest.${config.MAIL_DOMAIN}>`, ...(dkim ? { dkim } : {}) };
}

/** Why a message was not accepted, short enough for the ledger and the dashboard. */
function describe(err: unknown): string {
  if (err instanceof SendError) return (err.response ?? err.message).slice(0, 500);
  return (err instanceof Error ? err.message : String(err)).slice(0, 500);
}

export class Sender {
  private readonly templates = new Map<number, Promise<MessageTemplate | AssembledVariant>>();
  private readonly skeletons = new Map<string, Promise<Skeleton>>();
  private readonly blocks = new Map<string, EncodedBlock>();
  private blockBytes = 0;
  private readonly maxInFlight: number;
  private readonly secret: string;
  private readonly install: string;
  /** Set when the lease is lost mid-drain: stop claiming, finish what is in flight. */
  stopRequested = false;
  /**
   * Set while the mail server cannot be reached: since when, and how long until the next probe. Kept across drains,
   * so the scheduler's next tick goes on probing instead of starting over at full speed.
   */
  outage: { since: number; delayMs: number } | null = null;

  constructor(private readonly d: SenderDeps) {
    this.maxInFlight = d.maxInFlight ?? d.config.SMTP_POOL_SIZE * 8;
    this.secret = signingKey(d.config);
    this.install = installTag(d.config);
  }

  /** A wrapper or block an assembled variant names, from the edition's stored pieces. */
  private piece(editionId: number, key: string): { html: string; text: string } {
    const row = this.d.store.q('delivery-piece-get').get(editionId, key);
    if (!row) throw new RecipientError(`piece ${key} of edition ${editionId} is missing`);
    return row;
  }

  private skeleton(editionId: number, key: string, cfg: MessageHeadersConfig): Promise<Skeleton> {
    const k = `${editionId}|${key}`;
    let s = this.skeletons.get(k);
    if (!s) {
      s = Promise.resolve().then(() => buildSkeleton(this.piece(editionId, key), cfg));
      if (this.skeletons.size >= TEMPLATE_CACHE) this.skeletons.delete(this.skeletons.keys().next().value!);
      this.skeletons.set(k, s);
      s.catch(() => this.skeletons.delete(k));
    }
    return s;
  }

  /** An encoded block, kept while the cache holds under BLOCK_CACHE_BYTES (oldest out first). */
  private block(editionId: number, key: string): EncodedBlock {
    const k = `${editionId}|${key}`;
    let b = this.blocks.get(k);
    if (!b) {
      b = encodeBlock(this.piece(editionId, key));
      this.blocks.set(k, b);
      this.blockBytes += b.bytes;
      while (this.blockBytes > BLOCK_CACHE_BYTES && this.blocks.size > 1) {
        const [oldest, ob] = this.blocks.entries().next().value!;
        this.blocks.delete(oldest);
        this.blockBytes -= ob.bytes;
      }
    }
    return b;
  }

  private template(variantId: number | null): Promise<MessageTemplate | AssembledVariant> {
    // The planner queues a row only with its variant; NULL is a skipped row's, so this one cannot be sent.
    if (variantId === null) return Promise.reject(new RecipientError('queued without a variant'));
    let t = this.templates.get(variantId);
    if (!t) {
      const row = this.d.store.q('delivery-variant-get').get(variantId);
      if (!row) return Promise.reject(new RecipientError(`variant ${variantId} is missing`));
      const cfg = { ...headersConfig(this.d.config), feedbackId: feedbackId(`e${row.edition_id}`, `${row.frequency}-${row.kind}`) };
      if (isRecipe(row.html)) {
        // Assembled from the edition's blocks (kept like a template: readers who share a digest share its recipe).
        const recipe = decodeRecipe(row.html);
        const editionId = row.edition_id;
        t = this.skeleton(editionId, recipe.wrapper, cfg).then((skeleton) => {
          const blocks = (key: string) => this.block(editionId, key);
          // Looked up once (a missing block fails here, before the wire), so the message is pure concatenation.
          const resolved = recipe.sections.map((items) => items.map((item) => blocks(item.block)));
          return { skeleton, recipe, blocks, resolved };
        });
      } else t = buildTemplate(row, cfg);
      if (this.templates.size >= TEMPLATE_CACHE) this.templates.delete(this.templates.keys().next().value!);
      this.templates.set(variantId, t);
      t.catch(() => this.templates.delete(variantId));
    }
    return t;
  }

  private backoffMs(attempts: number): number {
    return this.d.config.SEND_RETRY_BASE_SECONDS * 1000 * 2 ** Math.max(0, attempts - 1);
  }

  /** True when the current outage has lasted longer than one run waits (SEND_OUTAGE_MAX_SECONDS). */
  get outageExceeded(): boolean {
    return this.outage !== null && this.d.clock.now().getTime() - this.outage.since >= this.d.config.SEND_OUTAGE_MAX_SECONDS * 1000;
  }

  /**
   * The wire journal: the row is marked on the wire, in its own committed write, before its body goes to the socket.
   * A crash leaves every claimed row `sending`; recovery resends those never marked (they cannot have arrived) and
   * treats only the marked few as unknown. A failing write throws, and the messenger then does not send.
   */
  private markOnWire(id: number): void {
    this.d.store.q('delivery-mark-on-wire').run({ id, now: this.d.clock.now().toISOString() });
  }

  /** One delivery through SMTP; never throws: every end becomes an Outcome. */
  private async sendOne(row: DueRow, messageId: string): Promise<Outcome> {
    const attempts = row.attempts + 1;
    try {
      const template = await this.template(row.variant_id);
      const recipient = { email: row.email, messageId, links: this.d.links(row.subscriber_id), date: this.d.clock.now() };
      const { raw, dotStuffed } =
        'recipe' in template ? await personaliseAssembledForWire(template, recipient, this.d.config.PUBLIC_URL) : await personaliseForWire(template, recipient);
      const onWire = () => this.markOnWire(row.id);
      // VERP: a bounce that comes back later by mail names this delivery (src/mail/return-path.ts).
      const from = verpSender(row.id, this.secret, this.d.config);
      const res = await this.d.messenger.sendRaw({ envelope: { from, to: [row.email] }, raw, messageId, dotStuffed, onWire });
      // A server can answer 250 to DATA yet have refused the only recipient at RCPT: that is not a delivery.
      if (res.rejected.length > 0 || res.accepted.length === 0) {
        const refusal = res.rejectedErrors?.[0]?.error;
        if (refusal?.failure === 'permanent') return this.refused(row, refusal, describe(refusal));
        return { id: row.id, kind: 'failed', response: `recipient rejected: ${res.response}`.slice(0, 500) };
      }
      return { id: row.id, kind: 'sent', response: res.response.slice(0, 500) };
    } catch (err) {
      const response = describe(err);
      if (err instanceof RecipientError) return { id: row.id, kind: 'failed', response };
      if (err instanceof SendError && err.unreachable) return { id: row.id, kind: 'unsent', response };
      if (err instanceof SendError && err.failure === 'permanent') return this.refused(row, err, response);
      // 4xx, a dropped connection, or anything unexpected: worth another try, until the attempts run out.
      if (attempts >= this.d.config.SEND_MAX_ATTEMPTS) return { id: row.id, kind: 'failed', response: `gave up after ${attempts} attempts: ${response}` };
      // No SMTP reply at all (connection dropped or timed out): the server may have taken the message, if its body
      // had gone out (the ledger's on_wire_at says; delivery-mark-retry checks it).
      const maybeDelivered = !(err instanceof SendError && err.responseCode !== undefined);
      return { id: row.id, kind: 'retry', response, attempts, maybeDelivered };
    }
  }

  /**
   * A permanent refusal. A 5xx reply from the server is a bounce, classified the one way bounces are: hard suppresses
   * the address, soft is counted. A refusal without a reply (a message that cannot be built) is only a failure.
   */
  private refused(row: DueRow, err: SendError, response: string): Outcome {
    const severity =
      err.responseCode === undefined ? null : bounceSeverity(err.enhancedCode ?? null, { replyCode: err.responseCode, diagnostic: err.response ?? null });
    if (severity === null) return { id: row.id, kind: 'failed', response };
    const bounce: ReplyBounce = { severity, status: err.enhancedCode ?? null, subscriberId: row.subscriber_id, editionId: row.edition_id, email: row.email };
    return severity === 'hard' ? { id: row.id, kind: 'bounced', response, bounce } : { id: row.id, kind: 'failed', response, bounce };
  }

  /** Writes finished outcomes, skips rows no longer sendable, and claims the next rows: one IMMEDIATE transaction. */
  /** `outcomes` is emptied only once written, so a failed write loses nothing. */
  private commit(outcomes: Outcome[], claims: DueRow[], skips: { id: number; reason: string }[], stats: DrainStats): Map<number, string> {
    const { q } = this.d.store;
    const claimed = new Map<number, string>();
    const counted = emptyDrainStats();
    this.d.store.db
      .transaction(() => {
        const now = this.d.clock.now();
        const iso = now.toISOString();
        // The common outcome, `sent`, is written for the whole batch in two statements instead of two per message.
        const sent = outcomes.filter((o) => o.kind === 'sent');
        if (sent.length > 0) {
          const marked = q('delivery-mark-sent-batch').all({ batch: JSON.stringify(sent.map((o) => [o.id, o.response])), now: iso });
          if (marked.length > 0) q('delivery-record-sent-papers-batch').run(JSON.stringify(marked.map((r) => r.id)));
          counted.sent += sent.length;
        }
        for (const o of outcomes) {
          if (o.kind === 'sent') {
          } else if (o.kind === 'unsent') {
            q('delivery-mark-unsent').run({ id: o.id, response: o.response, now: iso });
            counted.unsent++;
          } else if (o.kind === 'retry') {
            q('delivery-mark-retry').run({
              id: o.id,
              response: o.response,
              now: iso,
              maybe_delivered: o.maybeDelivered ? 1 : 0,
              next: new Date(now.getTime() + this.backoffMs(o.attempts)).toISOString(),
            });
            counted.retried++;
          } else {
            q('delivery-mark-final').run({ id: o.id, status: o.kind, response: o.response, now: iso });
            if (o.bounce) {
              const b = o.bounce;
              const fact = { subscriberId: b.subscriberId, deliveryId: o.id, editionId: b.editionId, email: b.email, status: b.status, action: null };
              recordBounce(this.d.store, this.d.config, { ...fact, severity: b.severity, diagnostic: o.response, source: 'smtp' }, now);
            }
            if (o.kind === 'bounced') counted.bounced++;
            else counted.failed++;
          }
        }
        for (const s of skips) {
          if (q('delivery-mark-skipped').run({ id: s.id, reason: s.reason, now: iso }).changes === 1) counted.skipped++;
        }
        if (claims.length > 0) {
          const ids = claims.map((row) => [row.id, deliveryMessageId(row.id, row.edition_id, this.d.config.MAIL_DOMAIN, this.install)] as const);
          const got = new Set(
            q('delivery-claim-batch')
              .all({ batch: JSON.stringify(ids), now: iso })
              .map((r) => r.id),
          );
          for (const [id, messageId] of ids) if (got.has(id)) claimed.set(id, messageId);
        }
      })
      .immediate();
    outcomes.length = 0;
    for (const row of claims) if (claimed.has(row.id)) counted.editions.add(row.edition_id);
    addDrainStats(stats, counted);
    return claimed;
  }

  /** Notes an outcome: an unreachable server starts (or keeps) an outage; any answer from it ends one. */
  private observe(o: Outcome): void {
    if (o.kind === 'unsent') {
      if (!this.outage) {
        this.outage = { since: this.d.clock.now().getTime(), delayMs: this.d.config.SEND_PROBE_INITIAL_MS };
        this.d.log.warn({ reason: o.response }, 'the mail server cannot be reached: sending paused (no attempt spent), probing with backoff');
      }
    } else if (this.outage) {
      const seconds = (this.d.clock.now().getTime() - this.outage.since) / 1000;
      this.outage = null;
      this.d.log.info({ seconds }, 'the mail server answers again: sending resumes');
    }
  }

  /** Waits out one probe delay (doubling the next, up to SEND_PROBE_MAX_MS); stops early when asked to stop. */
  private async pauseForProbe(): Promise<void> {
    const outage = this.outage!;
    const until = Date.now() + outage.delayMs;
    outage.delayMs = Math.min(outage.delayMs * 2, this.d.config.SEND_PROBE_MAX_MS);
    while (!this.stopRequested && Date.now() < until) await sleep(Math.min(100, until - Date.now()));
  }

  /**
   * Sends every delivery due now, then returns. Retries scheduled for later are left for a later drain. While the
   * mail server cannot be reached, sends one message at a time as the probe, with a growing pause before each, and
   * returns once the outage has lasted SEND_OUTAGE_MAX_SECONDS (the rows stay queued with no attempt spent).
   */
  async drain(): Promise<DrainStats> {
    const stats = emptyDrainStats();
    const done: Outcome[] = [];
    const inFlight = new Set<Promise<void>>();
    let wake: (() => void) | null = null;
    let after = 0;

    // Outcomes wait at most this long for the next batch: a kill meanwhile leaves a finished send on the wire (unknown).
    let flushTimer: NodeJS.Timeout | null = null;
    const flushSoon = () => {
      flushTimer ??= setTimeout(() => {
        flushTimer = null;
        try {
          if (done.length > 0) this.commit(done, [], [], stats);
        } catch (err) {
          this.d.log.error({ err }, 'could not record send outcomes; retrying with the next batch');
        }
      }, 25);
    };
    const launch = (row: DueRow, messageId: string) => {
      const p = this.sendOne(row, messageId).then((o) => {
        this.observe(o);
        done.push(o);
        inFlight.delete(p);
        flushSoon();
        wake?.();
      });
      inFlight.add(p);
    };
    const waitForSlot = () =>
      new Promise<void>(
        (resolve) =>
          (wake = () => {
            wake = null;
            resolve();
          }),
      );

    try {
      pages: while (!this.stopRequested) {
        const page = this.d.store.q('delivery-due-page').all({ after, now: this.d.clock.now().toISOString(), limit: PAGE });
        if (page.length === 0) break;
        after = page[page.length - 1]!.id;
        let i = 0;
        while (i < page.length && !this.stopRequested) {
          if (this.outage) {
            // Everything in flight comes back first (to an unreachable server, at once), then one probe after a pause.
            while (inFlight.size > 0) await waitForSlot();
            this.commit(done, [], [], stats);
            if (this.outageExceeded) break pages;
            if (this.outage) await this.pauseForProbe();
            if (this.stopRequested) break;
          }
          // While probing, one message at a time; else refill when half the window is free: one transaction records
          // the finished half and claims the next (the pooled connections still have the other half queued meanwhile).
          const window = this.outage ? 1 : this.maxInFlight;
          while (inFlight.size > (this.outage ? 0 : Math.floor(window / 2))) await waitForSlot();
          // Claim as many as there are free slots in one transaction (SMTP_RATE_PER_SEC paces them in the messenger).
          const claims: DueRow[] = [];
          const skips: { id: number; reason: string }[] = [];
          while (i < page.length && claims.length < window - inFlight.size) {
            const row = page[i++]!;
            if (row.subscriber_status !== 'active') skips.push({ id: row.id, reason: `subscriber is ${row.subscriber_status}` });
            else claims.push(row);
          }
          const claimed = this.commit(done, claims, skips, stats);
          for (const row of claims) {
            const messageId = claimed.get(row.id);
            if (messageId) launch(row, messageId);
          }
        }
      }
    } finally {
      // Even when a write failed: let what is on the wire finish and record it, so no row is left `sending` by a live process.
      while (inFlight.size > 0) await Promise.race(inFlight);
      if (flushTimer) clearTimeout(flushTimer);
      this.commit(done, [], [], stats);
    }
    if (this.outageExceeded)
      this.d.log.error(
        { seconds: this.d.config.SEND_OUTAGE_MAX_SECONDS },
        'the mail server has been unreachable too long for this run: the deliveries stay queued, no attempt spent',
      );
    return stats;
  }
}
