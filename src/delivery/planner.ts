// Owns putting deliveries in the ledger: who is due, what each gets (selected, rendered once per distinct selection), in batched transactions.
import type { Store } from '../db/open.js';
import type { QueryParams } from '../db/query-types.js';
import type { Clock } from '../clock.js';
import { createHash } from 'node:crypto';
import { DeliverySubscriber, isNothing, type ComposedDigest, type DigestKind, type DigestSource, type PreparedDigest } from './ports.js';
import { currentSlot, dueSlot, type Slot } from './schedule.js';

/**
 * Subscribers per page (one keyset query, one write transaction) and the longest stretch of selecting between two
 * turns of the event loop. A send drains while it plans, on this thread: every millisecond spent selecting or writing
 * without a turn is a millisecond the pooled connections wait with their replies unread. Measured (20,000 readers,
 * one selection for all, `npm run bench -- send`): 500 and no turn inside a page, 2,640 msg/s and stalls of 40 ms;
 * 100 and a turn every 0.25 ms, 3,450 msg/s (distinct selections: 1,620 to 1,800).
 */
const PAGE = 100;
const YIELD_MS = 0.25;

export type PlanMode = 'due' | 'force' | 'to';

export interface PlanOptions {
  mode: PlanMode;
  runId: string | null;
  kind?: DigestKind | undefined;
  /** Only subscribers with this frequency (daily or weekly); everyone when absent. */
  frequency?: 'daily' | 'weekly' | undefined;
  /** For `to`: the one subscriber. */
  subscriber?: DeliverySubscriber | undefined;
  dryRun?: boolean;
  /** Called for every subscriber with a slot (dry runs list these). */
  onDecision?: (d: Decision) => void;
  onError?: (subscriber: DeliverySubscriber, err: unknown) => void;
}

export interface Decision {
  subscriber: DeliverySubscriber;
  slot: Slot;
  /** Paper ids, or why nothing is sent. */
  papers?: number[];
  skip?: string;
  /** For a real run: false when the ledger already had a delivery (another planner won the race). */
  queued?: boolean;
}

export interface PlanResult {
  queued: number;
  skipped: number;
  /** Subscribers whose selection or rendering threw: nothing written for them, so the next tick tries again. */
  errors: number;
  /** Subscribers with a slot who already had their delivery, or whose previous one is still in flight. */
  already: number;
  /** The ids of the editions the run met (planned into, or found its subscribers already in). */
  editions: number[];
}

/** Creates the planner for one run; caches prepared digests, edition ids and variant ids for the run's length. */
export function createPlanner(store: Store, clock: Clock, digest: DigestSource) {
  const prepared = new Map<string, Promise<PreparedDigest>>();
  const editions = new Map<string, number>();
  const variants = new Map<string, number>();

  const prepare = (kind: DigestKind, date: string) => {
    const key = `${kind}|${date}`;
    let p = prepared.get(key);
    if (!p) {
      p = Promise.resolve(digest.prepare(kind, date));
      prepared.set(key, p);
    }
    return p;
  };

  /** An edition's id if it exists, without creating it (for subscribers who already have theirs). */
  const knownEditionId = (kind: DigestKind, slot: Slot): number | undefined => {
    const key = `${kind}|${slot.frequency}|${slot.period}`;
    let id = editions.get(key);
    if (id === undefined) {
      id = store.q('delivery-edition-id').get(kind, slot.frequency, slot.period)?.id;
      if (id !== undefined) editions.set(key, id);
    }
    return id;
  };
  const editionId = (kind: DigestKind, slot: Slot): number => {
    const key = `${kind}|${slot.frequency}|${slot.period}`;
    let id = editions.get(key);
    if (id === undefined) {
      store.q('delivery-edition-ensure').run(kind, slot.frequency, slot.period, clock.now().toISOString());
      id = store.q('delivery-edition-id').get(kind, slot.frequency, slot.period)!.id;
      editions.set(key, id);
    }
    return id;
  };

  // Pieces (wrappers, blocks) this run has stored, per edition: each is written once, whoever reads it.
  const storedPieces = new Set<string>();

  /**
   * A reader's assembled variant: the pieces it names stored once per edition (INSERT OR IGNORE: a second planner
   * agrees), then the recipe itself, keyed by its content, so two readers with the same digest share one row.
   */
  const composedVariantId = (edition: number, slot: Slot, composed: ComposedDigest, paperCount: number): number => {
    const now = clock.now().toISOString();
    const key = `${slot.localDate}|r|${createHash('sha256').update(composed.recipe).digest('hex').slice(0, 32)}`;
    const cacheKey = `${edition}|${key}`;
    const cached = variants.get(cacheKey);
    if (cached !== undefined) return cached;
    // Called inside the page's transaction: the pieces, the variant and the delivery rows commit together.
    for (const p of composed.pieces) {
      const pk = `${edition}|${p.key}`;
      if (storedPieces.has(pk)) continue;
      const insert = { edition_id: edition, key: p.key, subject: '', html: p.html, text: p.text, paper_count: p.key.startsWith('block|') ? 1 : 0, now };
      store.q('delivery-variant-insert').run(insert);
      if (storedPieces.size > 50_000) storedPieces.clear();
      storedPieces.add(pk);
    }
    const ins = store
      .q('delivery-variant-insert')
      .run({ edition_id: edition, key, subject: composed.subject, html: composed.recipe, text: '', paper_count: paperCount, now });
    const id = ins.changes === 1 ? Number(ins.lastInsertRowid) : store.q('delivery-variant-id').get(edition, key)!.id;
    if (variants.size > 10_000) variants.clear();
    variants.set(cacheKey, id);
    return id;
  };

  // The papers a rendered variant shows, when the render had to drop the last cards to fit the size budget.
  const renderedPapers = new Map<number, number[]>();
  const variantId = async (
    edition: number,
    slot: Slot,
    digestP: PreparedDigest,
    selection: { key: string; paperIds: number[] },
  ): Promise<{ id: number; paperIds: number[] }> => {
    // The local date is part of the key: a weekly edition spans days, and a digest may show its date.
    const key = `${slot.localDate}|${selection.key}`;
    const cacheKey = `${edition}|${key}`;
    const cached = variants.get(cacheKey);
    if (cached !== undefined) return { id: cached, paperIds: renderedPapers.get(cached) ?? selection.paperIds };
    let row = store.q('delivery-variant-id').get(edition, key);
    let paperIds = selection.paperIds;
    if (!row) {
      const rendered = await digestP.render(selection as never);
      paperIds = rendered.paperIds ?? selection.paperIds;
      store.q('delivery-variant-insert').run({
        edition_id: edition,
        key,
        subject: rendered.subject,
        html: rendered.html,
        text: rendered.text,
        paper_count: paperIds.length,
        now: clock.now().toISOString(),
      });
      row = store.q('delivery-variant-id').get(edition, key)!;
    }
    if (variants.size > 10_000) {
      variants.clear();
      renderedPapers.clear();
    }
    variants.set(cacheKey, row.id);
    if (paperIds !== selection.paperIds) renderedPapers.set(row.id, paperIds);
    return { id: row.id, paperIds };
  };

  async function plan(opts: PlanOptions): Promise<PlanResult> {
    const result: PlanResult = { queued: 0, skipped: 0, already: 0, errors: 0, editions: [] };
    const met = new Set<number>();
    const now = clock.now();
    let after = 0;
    for (;;) {
      let page: DeliverySubscriber[];
      if (opts.mode === 'to') {
        if (after > 0 || !opts.subscriber) break;
        page = [opts.subscriber];
      } else {
        page = store
          .q('delivery-subscribers-page')
          .all({ after, kind: opts.kind ?? null, limit: PAGE })
          .map((r) => DeliverySubscriber.parse(r));
        if (page.length === 0) break;
      }
      after = page[page.length - 1]!.id;
      // Filtered after paging, so `after` still walks every id.
      if (opts.frequency) page = page.filter((s) => s.frequency === opts.frequency);
      const rows: (Omit<QueryParams<'delivery-insert'>[0], 'now'> & { decision: Decision; composed?: { slot: Slot; digest: ComposedDigest } })[] = [];
      let since = performance.now();
      for (const sub of page) {
        // A drain running alongside waits while this thread selects: every few ms its SMTP replies get a turn, so
        // the pooled connections do not stand idle through a whole page of selections.
        if (performance.now() - since > YIELD_MS) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          since = performance.now();
        }
        const state = store.q('delivery-subscriber-state').get({ id: sub.id, frequency: sub.frequency })!;
        const slot = opts.mode === 'due' ? dueSlot(sub, now, state.latest_period) : currentSlot(sub, now);
        if (!slot) continue;
        if (state.outstanding || (state.latest_period !== null && state.latest_period >= slot.period)) {
          result.already++;
          const known = knownEditionId(sub.kind, slot);
          if (known !== undefined) met.add(known);
          continue;
        }
        let selection: Awaited<ReturnType<PreparedDigest['select']>>;
        let variant: number | null = null;
        let composed: ComposedDigest | null = null;
        // What the digest shows: the selection's papers, or its first ones when not all fit the size budget.
        let shown: number[] | null = null;
        let edition = 0;
        try {
          const digestP = await prepare(sub.kind, slot.localDate);
          selection = await digestP.select(sub);
          if (!opts.dryRun) {
            edition = editionId(sub.kind, slot);
            met.add(edition);
            // Composed digests are stored with the page's rows (one transaction), rendered ones at once as before.
            if (!isNothing(selection)) {
              if (digestP.compose) {
                composed = await digestP.compose(selection);
                shown = composed.paperIds;
              } else ({ id: variant, paperIds: shown } = await variantId(edition, slot, digestP, selection));
            }
          }
        } catch (err) {
          // One subscriber's bad data (or a template error for one selection) never stops the edition.
          result.errors++;
          opts.onError?.(sub, err);
          continue;
        }
        const decision: Decision = { subscriber: sub, slot };
        if (isNothing(selection)) decision.skip = selection.nothing;
        else decision.papers = shown ?? selection.paperIds;
        if (!opts.dryRun) {
          rows.push({
            edition_id: edition,
            subscriber_id: sub.id,
            frequency: slot.frequency,
            period: slot.period,
            variant_id: variant,
            ...(composed ? { composed: { slot, digest: composed } } : {}),
            paper_ids: JSON.stringify(isNothing(selection) ? [] : (shown ?? selection.paperIds)),
            status: isNothing(selection) ? 'skipped' : 'queued',
            skip_reason: isNothing(selection) ? selection.nothing : null,
            run_id: opts.runId,
            decision,
          });
        } else {
          if (decision.skip) result.skipped++;
          else result.queued++;
          opts.onDecision?.(decision);
        }
      }
      if (rows.length > 0) {
        const write = store.db.transaction(() => {
          const iso = clock.now().toISOString();
          for (const { decision, composed, ...row } of rows) {
            const d = decision as Decision;
            if (composed)
              row.variant_id = composedVariantId(Number(row.edition_id), composed.slot, composed.digest, (decision as Decision).papers?.length ?? 0);
            d.queued = store.q('delivery-insert').run({ ...row, now: iso }).changes === 1;
            if (!d.queued) result.already++;
            else if (d.skip) result.skipped++;
            else result.queued++;
          }
        });
        try {
          write.immediate();
        } catch (err) {
          // Rolled back: what this run thought stored may not be.
          storedPieces.clear();
          variants.clear();
          throw err;
        }
        for (const row of rows) opts.onDecision?.(row.decision as Decision);
      }
      if (opts.mode === 'to') break;
      // Let I/O through between pages: a drain running alongside keeps its SMTP connections busy.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    result.editions = [...met].sort((a, b) => a - b);
    return result;
  }

  return { plan, prepare };
}
export type Planner = ReturnType<typeof createPlanner>;
