// Owns the stored form of a reader's model: a sparse list of (term, weight) and the bias, as one small BLOB.

export interface StoredModel {
  bias: number;
  terms: string[];
  weights: Float32Array;
}

const VERSION = 1;

/**
 * [u8 version][u8 0][u16 K][f32 bias][f32 × K weights][K terms, UTF-8, '\n'-separated]. Terms are stored as text,
 * not as vocabulary ids: the vocabulary is rebuilt as the corpus grows, and a term keeps its meaning across rebuilds.
 */
export function encodeModel(m: StoredModel): Buffer {
  const k = m.terms.length;
  const text = Buffer.from(m.terms.join('\n'), 'utf8');
  const buf = Buffer.alloc(8 + 4 * k + text.length);
  buf.writeUInt8(VERSION, 0);
  buf.writeUInt16LE(k, 2);
  buf.writeFloatLE(m.bias, 4);
  for (let i = 0; i < k; i++) buf.writeFloatLE(m.weights[i]!, 8 + 4 * i);
  text.copy(buf, 8 + 4 * k);
  return buf;
}

/** The stored model, or null for bytes this version cannot read (the reader falls back to the cold start). */
export function decodeModel(buf: Buffer): StoredModel | null {
  if (buf.length < 8 || buf.readUInt8(0) !== VERSION) return null;
  const k = buf.readUInt16LE(2);
  if (buf.length < 8 + 4 * k) return null;
  const weights = new Float32Array(k);
  for (let i = 0; i < k; i++) weights[i] = buf.readFloatLE(8 + 4 * i);
  const terms = k === 0 ? [] : buf.toString('utf8', 8 + 4 * k).split('\n');
  if (terms.length !== k) return null;
  return { bias: buf.readFloatLE(4), terms, weights };
}
