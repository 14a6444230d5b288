// Owns fitting an L2-regularised logistic regression on sparse vectors (stochastic gradient descent, Bottou's schedule).
import type { SparseVector } from './vectors.js';

export interface Example {
  x: SparseVector;
  /** 1 = the reader wants papers like it, 0 = they do not. */
  y: 0 | 1;
  /** How much the example counts (a tap 1, a paper matching a typed topic less, a background paper less still). */
  weight: number;
}

export interface FittedModel {
  bias: number;
  /** Global vocabulary index -> weight, for every feature any example had. */
  weights: Map<number, number>;
  epochs: number;
}

export const LOGISTIC = {
  /** L2 strength, on the weighted mean loss. */
  L2: 1e-3,
  EPOCHS: 25,
  /** The first step size; it decays as η₀ / (1 + λ·η₀·t). */
  ETA0: 0.5,
} as const;

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/**
 * Minimises (1/W)·Σ wᵢ·log(1 + e^(−ŷᵢ·(θ·xᵢ + b))) + (λ/2)·‖θ‖² (the bias is not penalised) by SGD over shuffled
 * examples. A step touches only the example's own features: θ is kept as scale × v, so the L2 shrink of every weight
 * is one multiplication (Bottou, "Stochastic Gradient Descent Tricks"). A fit of 600 examples is ~1 ms where
 * full-batch descent over the same data took ~80 ms (it walks every feature each step).
 * Positives and negatives are reweighted to equal total weight, so the probability reads as "liked, at even odds".
 */
export function fitLogistic(
  examples: readonly Example[],
  opts: {
    l2?: number;
    epochs?: number;
    seed?: number;
    /** Start from this model (a refit on fewer features), with the step size where its fit left off. */
    warm?: { model: FittedModel; steps: number };
  } = {},
): FittedModel {
  const l2 = opts.l2 ?? LOGISTIC.L2;
  const epochs = opts.epochs ?? LOGISTIC.EPOCHS;
  const local = new Map<number, number>();
  const global: number[] = [];
  const rows = examples.map((e) => {
    const idx = new Int32Array(e.x.idx.length);
    for (let k = 0; k < e.x.idx.length; k++) {
      const g = e.x.idx[k]!;
      let l = local.get(g);
      if (l === undefined) {
        l = global.length;
        local.set(g, l);
        global.push(g);
      }
      idx[k] = l;
    }
    return { idx, val: e.x.val, y: e.y, w: e.weight };
  });
  let pos = 0;
  let neg = 0;
  for (const r of rows) r.y === 1 ? (pos += r.w) : (neg += r.w);
  if (pos + neg === 0) return { bias: 0, weights: new Map(), epochs: 0 };
  const scalePos = pos > 0 && neg > 0 ? neg / pos : 1;
  const total = rows.reduce((s, r) => s + (r.y === 1 ? r.w * scalePos : r.w), 0);
  // Per-example weights relative to the mean, so one step of SGD is one example's share of the mean loss.
  const cw = rows.map((r) => ((r.y === 1 ? r.w * scalePos : r.w) * rows.length) / total);
  const v = new Float64Array(global.length);
  let scale = 1;
  let b = opts.warm?.model.bias ?? 0;
  if (opts.warm) for (let j = 0; j < global.length; j++) v[j] = opts.warm.model.weights.get(global[j]!) ?? 0;
  const order = rows.map((_, i) => i);
  let seed = (opts.seed ?? 1) >>> 0;
  const rand = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  let t = opts.warm?.steps ?? 0;
  for (let ep = 0; ep < epochs; ep++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const i of order) {
      const r = rows[i]!;
      const eta = LOGISTIC.ETA0 / (1 + l2 * LOGISTIC.ETA0 * t++);
      let z = b;
      for (let k = 0; k < r.idx.length; k++) z += scale * v[r.idx[k]!]! * r.val[k]!;
      const g = (sigmoid(z) - r.y) * cw[i]!;
      scale *= 1 - eta * l2;
      if (scale < 1e-9) {
        for (let j = 0; j < v.length; j++) v[j] = v[j]! * scale;
        scale = 1;
      }
      const step = (eta * g) / scale;
      for (let k = 0; k < r.idx.length; k++) {
        const j = r.idx[k]!;
        v[j] = v[j]! - step * r.val[k]!;
      }
      b -= eta * g;
    }
  }
  const weights = new Map<number, number>();
  for (let j = 0; j < v.length; j++) if (v[j] !== 0) weights.set(global[j]!, v[j]! * scale);
  return { bias: b, weights, epochs };
}
