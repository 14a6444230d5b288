// The hand-written parts of the reader model (src/learn/): the features, the TF-IDF vectors, the solver, the codec.
import { describe, it, expect } from 'vitest';
import { paperTerms } from '../src/learn/text.js';
import { CorpusVectors, cosine } from '../src/learn/vectors.js';
import { fitLogistic, sigmoid, type Example } from '../src/learn/logistic.js';
import { decodeModel, encodeModel } from '../src/learn/model-codec.js';

describe('features', () => {
  it('are 1-2-grams of title (twice) and abstract, a bigram never spans a stopword, authors are one feature each', () => {
    const t = paperTerms('Diffusion Models', 'Training of diffusion models is slow.', ['Ada  Lovelace']);
    expect(t.get('diffusion')).toBe(3);
    expect(t.get('diffusion models')).toBe(3);
    expect(t.has('training diffusion')).toBe(false);
    expect(t.has('of')).toBe(false);
    expect(t.get('@ada lovelace')).toBe(1);
  });
});

describe('corpus vectors', () => {
  it('drop terms in one paper only, weigh rare terms higher, and are unit length', () => {
    const v = new CorpusVectors('t', [
      { id: 1, title: 'graph networks', abstract: 'graph networks for molecules', authors: [], hasCode: true },
      { id: 2, title: 'graph kernels', abstract: 'graph kernels for molecules', authors: [], hasCode: false },
      { id: 3, title: 'diffusion images', abstract: 'diffusion for images and molecules', authors: [], hasCode: false },
    ]);
    expect(v.vocab.has('networks')).toBe(false);
    expect(v.idf[v.vocab.get('graph')!]!).toBeGreaterThan(v.idf[v.vocab.get('molecules')!]!);
    const x = v.vectors.get(1)!;
    expect([...x.val].reduce((s, y) => s + y * y, 0)).toBeCloseTo(1, 5);
    expect(cosine(x, v.vectors.get(2)!)).toBeGreaterThan(cosine(x, v.vectors.get(3)!));
    expect(v.withCode.has(1)).toBe(true);
  });
});

describe('logistic regression (SGD)', () => {
  const vec = (pairs: [number, number][]) => {
    const n = Math.sqrt(pairs.reduce((s, [, x]) => s + x * x, 0));
    return { idx: Int32Array.from(pairs, (p) => p[0]), val: Float32Array.from(pairs, (p) => p[1] / n) };
  };
  it('separates what the positives share from what the negatives share, and balances unequal classes', () => {
    const ex: Example[] = [];
    for (let i = 0; i < 5; i++)
      ex.push({
        x: vec([
          [0, 1],
          [10 + i, 1],
        ]),
        y: 1,
        weight: 1,
      });
    for (let i = 0; i < 50; i++)
      ex.push({
        x: vec([
          [1, 1],
          [20 + i, 1],
        ]),
        y: 0,
        weight: 1,
      });
    const m = fitLogistic(ex);
    const p = (pairs: [number, number][]) => {
      const x = vec(pairs);
      let z = m.bias;
      x.idx.forEach((j, k) => {
        z += (m.weights.get(j) ?? 0) * x.val[k]!;
      });
      return sigmoid(z);
    };
    expect(p([[0, 1]])).toBeGreaterThan(0.8);
    expect(p([[1, 1]])).toBeLessThan(0.2);
    // Balanced: a paper with neither feature sits near even odds, not at the 5-in-55 prior.
    expect(p([[99, 1]])).toBeGreaterThan(0.3);
    expect(p([[99, 1]])).toBeLessThan(0.7);
  });
  it('a warm start begins from the given model (the refit on the kept terms)', () => {
    const ex: Example[] = [
      { x: vec([[0, 1]]), y: 1, weight: 1 },
      { x: vec([[1, 1]]), y: 0, weight: 1 },
    ];
    const first = fitLogistic(ex);
    const warm = fitLogistic(ex, { epochs: 0, warm: { model: first, steps: 50 } });
    expect(warm.bias).toBe(first.bias);
    expect(warm.weights.get(0)).toBeCloseTo(first.weights.get(0)!, 12);
  });
  it('gives the same model for the same examples', () => {
    const ex: Example[] = [
      { x: vec([[0, 1]]), y: 1, weight: 1 },
      { x: vec([[1, 1]]), y: 0, weight: 1 },
    ];
    expect([...fitLogistic(ex).weights]).toEqual([...fitLogistic(ex).weights]);
  });
});

describe('model codec', () => {
  it('round-trips and refuses bytes it cannot read', () => {
    const m = { bias: -0.5, terms: ['diffusion', 'graph neural', '@ada lovelace', 'ünïcode'], weights: Float32Array.from([1.5, -2, 0.25, 3]) };
    const back = decodeModel(encodeModel(m))!;
    expect(back.terms).toEqual(m.terms);
    expect([...back.weights]).toEqual([...m.weights]);
    expect(back.bias).toBeCloseTo(-0.5, 6);
    expect(decodeModel(Buffer.from([9, 0, 0, 0]))).toBeNull();
  });
});
