// Owns the one process-wide V8 setting paperboy makes: how far the heap may grow between full collections.
import v8 from 'node:v8';

/**
 * Sets V8's heap growing factor to 1 + percent/100 (0 restores V8's own rule). V8 reads the flag each time it sets
 * the next full-GC limit, so setting it at run time takes effect from the next collection on.
 *
 * Why: a send allocates per message (chunks, promises, ledger rows) while its live heap stays about 30 MB. V8's own
 * rule lets the next limit grow to up to 4x the live heap, and the longer a send runs the more often it reaches
 * that, so the peak RSS of a 100,000-subscriber send was 1.5x that of a 10,000 one. At 50% the peak stays flat,
 * for a few more full collections (see docs/delivery.md, "Memory", and `npm run bench -- memory`).
 */
export function setHeapGrowth(percent: number): void {
  if (!Number.isInteger(percent) || percent < 0) throw new RangeError(`heap growth must be a whole percent >= 0, got ${percent}`);
  v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
}
