// The ranker's top-n pick gives what a stable sort of the whole window would: highest blend first, ties in index order.
import { describe, expect, it } from 'vitest';
import { topByBlend } from '../src/digest/select.js';

function bySort(blended: Float64Array, n: number, passes: (i: number) => boolean): number[] {
  return [...blended.keys()]
    .sort((a, b) => blended[b]! - blended[a]! || a - b)
    .filter(passes)
    .slice(0, n);
}

describe('topByBlend', () => {
  it('matches a stable sort, filtered, for windows with many ties', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 300; round++) {
      const w = Math.floor(rand() * 60);
      // Few distinct values, so ties are common.
      const blended = Float64Array.from({ length: w }, () => Math.floor(rand() * 6) - 3);
      const n = Math.floor(rand() * 12);
      const cut = rand();
      const passes = (i: number) => (i * 0.37 + cut) % 1 > 0.3;
      expect(topByBlend(blended, n, passes), `round ${round}`).toEqual(bySort(blended, n, passes));
    }
  });

  it('keeps index order among equal blends and skips what does not pass', () => {
    expect(topByBlend(Float64Array.from([1, 2, 2, 3, 2]), 3, () => true)).toEqual([3, 1, 2]);
    expect(topByBlend(Float64Array.from([1, 2, 2, 3, 2]), 3, (i) => i !== 3)).toEqual([1, 2, 4]);
    expect(topByBlend(Float64Array.from([1, 2]), 0, () => true)).toEqual([]);
  });
});
