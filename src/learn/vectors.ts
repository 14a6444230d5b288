// Owns the corpus's shared vocabulary and IDF, and every paper's sparse TF-IDF vector, built once per corpus version.
import { normalizeAuthor, paperTerms } from './text.js';

export interface SparseVector {
  /** Vocabulary indices, ascending. */
  idx: Int32Array;
  /** L2-normalised TF-IDF values, one per index. */
  val: Float32Array;
}

export interface CorpusText {
  id: number;
  title: string;
  abstract: string;
  authors: readonly string[];
  hasCode: boolean;
}

export const VECTORS = {
  /** A term must be in this many papers: one seen once cannot tell the reader's papers from the rest. */
  MIN_DF: 2,
  /** Terms in more than this share of a corpus of at least 50 papers say nothing about a paper ("model", "learning"). */
  MAX_DF_SHARE: 0.5,
  /**
   * Each paper keeps its strongest terms only: a digest scores a few hundred candidates per reader, and a shorter
   * vector makes that (and the model) cheaper without losing what the paper is about.
   */
  MAX_TERMS_PER_PAPER: 64,
} as const;

export class CorpusVectors {
  readonly vocab = new Map<string, number>();
  readonly terms: string[] = [];
  idf = new Float64Array(0);
  readonly vectors = new Map<number, SparseVector>();
  readonly titles = new Map<number, string>();
  readonly authors = new Map<number, readonly string[]>();
  /** Normalised author name -> ids of their papers. */
  readonly byAuthor = new Map<string, number[]>();
  readonly withCode = new Set<number>();
  readonly ids: number[] = [];

  constructor(
    readonly version: string,
    papers: Iterable<CorpusText>,
  ) {
    const docs: [number, Map<string, number>][] = [];
    const df = new Map<string, number>();
    for (const p of papers) {
      const terms = paperTerms(p.title, p.abstract, p.authors);
      docs.push([p.id, terms]);
      for (const t of terms.keys()) df.set(t, (df.get(t) ?? 0) + 1);
      this.ids.push(p.id);
      this.titles.set(p.id, p.title);
      this.authors.set(p.id, p.authors);
      if (p.hasCode) this.withCode.add(p.id);
      for (const a of p.authors) {
        const key = normalizeAuthor(a);
        if (!key) continue;
        const list = this.byAuthor.get(key);
        if (list) list.push(p.id);
        else this.byAuthor.set(key, [p.id]);
      }
    }
    const n = docs.length;
    const maxDf = n >= 50 ? Math.floor(n * VECTORS.MAX_DF_SHARE) : n;
    const idf: number[] = [];
    for (const [t, d] of df) {
      if (d < VECTORS.MIN_DF || d > maxDf) continue;
      this.vocab.set(t, this.terms.length);
      this.terms.push(t);
      idf.push(Math.log((1 + n) / (1 + d)) + 1);
    }
    this.idf = Float64Array.from(idf);
    for (const [id, terms] of docs) this.vectors.set(id, this.vectorOf(terms));
  }

  get size(): number {
    return this.ids.length;
  }

  /** Sublinear TF times IDF, the strongest MAX_TERMS_PER_PAPER kept, L2-normalised. */
  vectorOf(terms: Map<string, number>): SparseVector {
    const pairs: [number, number][] = [];
    for (const [t, c] of terms) {
      const i = this.vocab.get(t);
      if (i !== undefined) pairs.push([i, (1 + Math.log(c)) * this.idf[i]!]);
    }
    if (pairs.length > VECTORS.MAX_TERMS_PER_PAPER) {
      pairs.sort((a, b) => b[1] - a[1]);
      pairs.length = VECTORS.MAX_TERMS_PER_PAPER;
    }
    pairs.sort((a, b) => a[0] - b[0]);
    let norm = 0;
    for (const [, v] of pairs) norm += v * v;
    norm = Math.sqrt(norm) || 1;
    return { idx: Int32Array.from(pairs, (p) => p[0]), val: Float32Array.from(pairs, (p) => p[1] / norm) };
  }
}

/** Cosine of two L2-normalised sparse vectors (a merge of their sorted indices). */
export function cosine(a: SparseVector, b: SparseVector): number {
  let i = 0;
  let j = 0;
  let s = 0;
  while (i < a.idx.length && j < b.idx.length) {
    const x = a.idx[i]!;
    const y = b.idx[j]!;
    if (x === y) s += a.val[i++]! * b.val[j++]!;
    else if (x < y) i++;
    else j++;
  }
  return s;
}
