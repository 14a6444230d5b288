// Owns fitting an L2-regularised logistic regression on sparse vectors (Nesterov-accelerated gradient descent).
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
  iterations: number;
}

export const LOGISTIC = {
  /** L2 strength, on the weighted mean loss. */
  L2: 1e-3,
  ITERATIONS: 100,
} as const;

const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));
export { sigmoid };

/**
 * Minimises (1/W)·Σ wᵢ·log(1 + e^(−ŷᵢ·(θ·xᵢ + b))) + (λ/2)·‖θ‖² (the bias is not penalised). Every xᵢ is
 * L2-normalised, so the loss's gradient is Lipschitz with L ≤ ¼·(‖x‖² + 1) + λ = ½ + λ: a fixed step 1/L converges, and
 * Nesterov momentum takes it there in about √(L/λ) ≈ 22 times fewer steps than plain descent would need.
 * Positives and negatives are reweighted to equal total weight, so the probability reads as "liked, at even odds".
 */
export function fitLogistic(examples: readonly Example[], opts: { l2?: number; iterations?: number } = {}): FittedModel {
  const l2 = opts.l2 ?? LOGISTIC.L2;
  const iterations = opts.iterations ?? LOGISTIC.ITERATIONS;
  // Local, dense indices over just the features these examples use.
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
  for (const r of rows) (r.y === 1 ? (pos += r.w) : (neg += r.w));
  const scalePos = pos > 0 && neg > 0 ? neg / pos : 1;
  let total = 0;
  const cw = rows.map((r) => (r.y === 1 ? r.w * scalePos : r.w));
  for (const c of cw) total += c;
  const d = global.length;
  const theta = new Float64Array(d);
  const prev = new Float64Array(d);
  const look = new Float64Array(d);
  const grad = new Float64Array(d);
  let b = 0;
  let bPrev = 0;
  const step = 1 / (0.5 + l2);
  if (total === 0) return { bias: 0, weights: new Map(), iterations: 0 };
  let t = 1;
  for (let it = 0; it < iterations; it++) {
    const tNext = (1 + Math.sqrt(1 + 4 * t * t)) / 2;
    const mom = (t - 1) / tNext;
    t = tNext;
    for (let j = 0; j < d; j++) look[j] = theta[j]! + mom * (theta[j]! - prev[j]!);
    const bLook = b + mom * (b - bPrev);
    grad.fill(0);
    let gb = 0;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      let z = bLook;
      for (let k = 0; k < r.idx.length; k++) z += look[r.idx[k]!]! * r.val[k]!;
      // d/dz of the weighted log-loss with y in {0,1}: (σ(z) − y), per unit of total weight.
      const g = ((sigmoid(z) - r.y) * cw[i]!) / total;
      gb += g;
      for (let k = 0; k < r.idx.length; k++) grad[r.idx[k]!]! += g * r.val[k]!;
    }
    prev.set(theta);
    bPrev = b;
    for (let j = 0; j < d; j++) theta[j] = look[j]! - step * (grad[j]! + l2 * look[j]!);
    b = bLook - step * gb;
  }
  const weights = new Map<number, number>();
  for (let j = 0; j < d; j++) if (theta[j] !== 0) weights.set(global[j]!, theta[j]!);
  return { bias: b, weights, iterations };
}
