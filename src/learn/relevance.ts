// Owns each reader's relevance: the shared corpus vectors, the stored per-reader models, and the background refit
// queue that feedback feeds (never the send path: a send only reads what the last refit stored).
import { z } from 'zod';
import type { Store } from '../db/open.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { ftsPhrase, normalizeTopics } from '../digest/pool.js';
import { CorpusVectors, cosine, type SparseVector } from './vectors.js';
import { fitLogistic, sigmoid, type Example } from './logistic.js';
import { decodeModel, encodeModel, type StoredModel } from './model-codec.js';

export const LEARN = {
  /** Terms a stored model keeps (largest |weight| first): about 2 KB a reader. */
  TOP_TERMS: 128,
  /** A paper matching one of the reader's typed topics is a pseudo-positive worth this much of a tap. */
  TOPIC_WEIGHT: 0.5,
  /** A paper matching a muted topic is a pseudo-negative worth this much of a tap. */
  MUTED_WEIGHT: 0.5,
  /** Pseudo-examples per topic at most (the newest papers first). */
  PER_TOPIC: 60,
  /**
   * A typed topic's pull fades as taps come in: its pseudo-examples count TOPIC_WEIGHT × H / (H + taps). A keyword
   * also matches papers outside what the reader means; their taps say what they do mean.
   */
  TOPIC_HALF_TAPS: 30,
  /**
   * Papers the reader never rated, as weak negatives (as arxiv-sanity trains against every untagged paper): most of
   * any corpus is not what one reader wants, and without them a few likes cannot say which words are specific.
   */
  BACKGROUND: 150,
  BACKGROUND_WEIGHT: 0.1,
  /** A background paper this close (TF-IDF cosine) to a liked one is left out of the negatives. */
  BACKGROUND_MAX_SIMILARITY: 0.3,
  /** Epochs of the second fit, on the kept terms, started from the first. */
  REFIT_EPOCHS: 8,
  /** Likes kept with the model for "because you liked <title>". */
  LIKED_KEPT: 50,
} as const;

export type SelectionMode = 'top' | 'threshold';

/** What selection needs to know about one reader, read in one query at send time. */
export interface ReaderProfile {
  topics: string[];
  muted: string[];
  followed: string[];
  onlyWithCode: boolean;
  mode: SelectionMode;
  /** 0..100: the model's probability, in percent, a paper needs in threshold mode. */
  relevanceBar: number;
  /** 0..100: 0 = only relevance, 100 = only the community trend. */
  trendWeight: number;
  model: StoredModel | null;
  /** Liked paper ids, newest first. */
  liked: number[];
}

const List = z.array(z.string());
function parseList(s: string | null | undefined): string[] {
  if (!s) return [];
  try {
    return normalizeTopics(List.parse(JSON.parse(s)));
  } catch {
    return [];
  }
}
function parseIds(s: string | null | undefined): number[] {
  if (!s) return [];
  try {
    return z.array(z.number().int()).parse(JSON.parse(s));
  } catch {
    return [];
  }
}

export interface RelevanceDeps {
  store: Store;
  clock: Clock;
  log?: Logger;
}

export interface RefitResult {
  examples: number;
  feedback: number;
  terms: number;
  bytes: number;
}

export function createRelevance(deps: RelevanceDeps) {
  const { store, clock, log } = deps;
  let cached: CorpusVectors | null = null;
  let scratch = new Float64Array(0);

  function versionKey(): string {
    const v = store.q('learn-corpus-version').get()!;
    return `${v.generation}:${v.n}:${v.updated}`;
  }

  const LinkKinds = z.array(z.object({ kind: z.string() }).passthrough());
  const Names = z.array(z.string());

  /** The shared vocabulary, IDF and paper vectors, rebuilt only when the corpus changed. */
  function vectors(): CorpusVectors {
    const version = versionKey();
    if (cached?.version === version) return cached;
    const rows = store.q('learn-corpus-text').all();
    cached = new CorpusVectors(
      version,
      rows.map((r) => ({
        id: r.id,
        title: r.title,
        abstract: r.abstract,
        authors: safe(() => Names.parse(JSON.parse(r.author_names)), []),
        hasCode: safe(() => LinkKinds.parse(JSON.parse(r.links)), []).some((l) => l.kind === 'code'),
      })),
    );
    if (scratch.length < cached.terms.length) scratch = new Float64Array(cached.terms.length);
    return cached;
  }

  function reader(subscriberId: number): ReaderProfile | null {
    const r = store.q('learn-reader').get(subscriberId);
    if (!r) return null;
    return {
      topics: parseList(r.topics),
      muted: parseList(r.muted_topics),
      followed: parseList(r.followed_authors),
      onlyWithCode: r.only_with_code === 1,
      mode: r.selection_mode === 'threshold' ? 'threshold' : 'top',
      relevanceBar: clamp(r.relevance_bar),
      trendWeight: clamp(r.trend_weight),
      model: r.weights ? decodeModel(r.weights) : null,
      liked: parseIds(r.liked),
    };
  }

  /** The model's logit for each id (in order); ids without a vector get the bias alone. */
  function logits(model: StoredModel, v: CorpusVectors, ids: readonly number[]): Float64Array {
    const out = new Float64Array(ids.length);
    if (scratch.length < v.terms.length) scratch = new Float64Array(v.terms.length);
    const touched: number[] = [];
    for (let k = 0; k < model.terms.length; k++) {
      const i = v.vocab.get(model.terms[k]!);
      if (i === undefined) continue;
      scratch[i] = model.weights[k]!;
      touched.push(i);
    }
    try {
      for (let n = 0; n < ids.length; n++) {
        let z = model.bias;
        const x = v.vectors.get(ids[n]!);
        if (x) for (let k = 0; k < x.idx.length; k++) z += scratch[x.idx[k]!]! * x.val[k]!;
        out[n] = z;
      }
    } finally {
      for (const i of touched) scratch[i] = 0;
    }
    return out;
  }

  function topicMatches(topic: string): number[] {
    try {
      return store
        .q('digest-topic-matches')
        .all(ftsPhrase(topic))
        .map((r) => r.id);
    } catch {
      return [];
    }
  }

  /** Fits and stores one reader's model now (the queue calls this; tests and the bench may too). */
  function refit(subscriberId: number): RefitResult | null {
    const r = reader(subscriberId);
    if (!r) return null;
    const v = vectors();
    const feedback = store.q('learn-feedback-for-fit').all(subscriberId);
    const examples: Example[] = [];
    const seen = new Set<number>();
    const push = (id: number, y: 0 | 1, weight: number) => {
      if (seen.has(id)) return;
      const x = v.vectors.get(id);
      if (!x || x.idx.length === 0) return;
      seen.add(id);
      examples.push({ x, y, weight });
    };
    for (const f of feedback) push(f.paper_id, f.signal > 0 ? 1 : 0, 1);
    const feedbackExamples = examples.length;
    for (const t of r.muted) for (const id of topicMatches(t).slice(-LEARN.PER_TOPIC)) push(id, 0, LEARN.MUTED_WEIGHT);
    const topicWeight = (LEARN.TOPIC_WEIGHT * LEARN.TOPIC_HALF_TAPS) / (LEARN.TOPIC_HALF_TAPS + feedbackExamples);
    for (const t of r.topics) for (const id of topicMatches(t).slice(-LEARN.PER_TOPIC)) push(id, 1, topicWeight);
    if (examples.length === 0) {
      store.q('learn-model-delete').run(subscriberId);
      return { examples: 0, feedback: 0, terms: 0, bytes: 0 };
    }
    // A fixed stride through the corpus (offset by the reader) rather than random: the same data gives the same model.
    const ids = v.ids;
    const want = Math.min(LEARN.BACKGROUND, ids.length);
    const stride = Math.max(1, Math.floor(ids.length / Math.max(1, want)));
    // An unrated paper much like one they liked is probably one they would like: not a background negative.
    const likedVectors = feedback
      .filter((f) => f.signal > 0)
      .slice(0, LEARN.LIKED_KEPT)
      .flatMap((f) => v.vectors.get(f.paper_id) ?? []);
    const nearLiked = (id: number) => {
      const x = v.vectors.get(id);
      return x !== undefined && likedVectors.some((y) => cosine(x, y) >= LEARN.BACKGROUND_MAX_SIMILARITY);
    };
    for (let k = 0, i = subscriberId % stride; k < want && i < ids.length; k++, i += stride) {
      if (!seen.has(ids[i]!) && !nearLiked(ids[i]!)) push(ids[i]!, 0, LEARN.BACKGROUND_WEIGHT);
    }
    // Fit, keep the TOP_TERMS strongest terms, and fit again on those alone: the second fit puts back the weight the
    // dropped terms carried (cutting an L2 model's tail without refitting cost a fifth of its precision, bench ranking).
    const first = fitLogistic(examples);
    const keep = new Set(strongest(first.weights, LEARN.TOP_TERMS).map(([i]) => i));
    const fitted = fitLogistic(
      examples.map((e) => ({ ...e, x: restrict(e.x, keep) })),
      { epochs: LEARN.REFIT_EPOCHS, warm: { model: first, steps: examples.length * first.epochs } },
    );
    const top = strongest(fitted.weights, LEARN.TOP_TERMS);
    const blob = encodeModel({ bias: fitted.bias, terms: top.map(([i]) => v.terms[i]!), weights: Float32Array.from(top, ([, w]) => w) });
    const liked = feedback
      .filter((f) => f.signal > 0)
      .slice(0, LEARN.LIKED_KEPT)
      .map((f) => f.paper_id);
    store.q('learn-model-upsert').run({
      subscriber_id: subscriberId,
      weights: blob,
      liked: JSON.stringify(liked),
      feedback_count: feedbackExamples,
      now: clock.now().toISOString(),
    });
    return { examples: examples.length, feedback: feedbackExamples, terms: top.length, bytes: blob.length };
  }

  // The refit queue: a Set coalesces a burst of taps from one reader into one fit; one fit per macrotask, so
  // requests and sends interleave with a long queue.
  const queue = new Set<number>();
  let scheduled = false;
  let closed = false;
  let waiters: (() => void)[] = [];
  const settle = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  function schedule(): void {
    if (scheduled || closed) return;
    scheduled = true;
    setImmediate(drain);
  }
  function drain(): void {
    scheduled = false;
    const next = queue.values().next();
    if (!next.done) {
      queue.delete(next.value);
      try {
        refit(next.value);
      } catch (err) {
        // A reader's fit that fails keeps their previous model; the next tap tries again.
        log?.warn({ err, subscriber: next.value }, 'reader model refit failed');
      }
    }
    if (queue.size > 0 && !closed) schedule();
    else settle();
  }

  return {
    vectors,
    reader,
    logits,
    refit,
    /** Call after a feedback row is written or removed (or topics change): queues a background refit and returns at once. */
    onFeedback(subscriberId: number): void {
      if (closed) return;
      queue.add(subscriberId);
      schedule();
    },
    /** Refits still queued. */
    get pending(): number {
      return queue.size;
    },
    /** Resolves once the queue is empty (tests, the bench, a graceful stop). */
    idle(): Promise<void> {
      if (queue.size === 0 && !scheduled) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
    /** Stops taking refits; queued ones are dropped (their feedback rows stay, so the next tap refits). */
    close(): void {
      closed = true;
      queue.clear();
      settle();
    },
  };
}
export type Relevance = ReturnType<typeof createRelevance>;

export function probability(logit: number): number {
  return sigmoid(logit);
}

export type { SparseVector };

/** The k weights of largest magnitude, largest first. */
function strongest(weights: Map<number, number>, k: number): [number, number][] {
  const top = [...weights].filter(([, w]) => Math.abs(w) > 1e-6).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]));
  top.length = Math.min(top.length, k);
  return top;
}

function restrict(x: SparseVector, keep: ReadonlySet<number>): SparseVector {
  const idx: number[] = [];
  const val: number[] = [];
  for (let k = 0; k < x.idx.length; k++) {
    if (keep.has(x.idx[k]!)) {
      idx.push(x.idx[k]!);
      val.push(x.val[k]!);
    }
  }
  return { idx: Int32Array.from(idx), val: Float32Array.from(val) };
}

function clamp(n: number): number {
  return Math.max(0, Math.min(100, Math.round(n)));
}

function safe<T>(f: () => T, fallback: T): T {
  try {
    return f();
  } catch {
    return fallback;
  }
}
