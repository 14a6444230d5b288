// Owns `npm run bench -- ranking`: 200 simulated readers over 30 days of a growing corpus, each ranked three ways by
// the real selector and reader models (trending only, today's keyword topics, learned), precision@10 per day.
import os from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { benchDir, machine, num, options, table, writeResult, type BenchPart } from './lib/part.js';
import { openStore, type Store } from '../src/db/open.js';
import { ingestPaths } from '../src/corpus/ingest.js';
import { FakeClock } from '../src/clock.js';
import { createSelector } from '../src/digest/select.js';
import { createRelevance } from '../src/learn/relevance.js';
import { CorpusVectors } from '../src/learn/vectors.js';

const ROOT = path.dirname(benchDir);
const DAY_MS = 86_400_000;
const RANKERS = ['trending', 'keywords', 'learned'] as const;
type Ranker = (typeof RANKERS)[number];

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    // mulberry32: small, fast, good enough for a simulation.
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

interface Seed {
  title: string;
  abstract: string;
  authors: string[];
  cluster: number;
}

/** The seed papers, clustered by spherical k-means over the real TF-IDF vectors: a cluster is a research area. */
function seedClusters(k: number, rand: () => number): { seeds: Seed[]; keywords: string[][] } {
  const scratch = openStore(':memory:');
  ingestPaths(scratch, [path.join(ROOT, 'seeds')], new FakeClock(new Date('2026-01-01T00:00:00Z')));
  const rows = scratch.db.prepare('SELECT id, title, abstract, author_names FROM papers ORDER BY id').all() as {
    id: number;
    title: string;
    abstract: string;
    author_names: string;
  }[];
  scratch.close();
  const v = new CorpusVectors(
    'seeds',
    rows.map((r) => ({ id: r.id, title: r.title, abstract: r.abstract, authors: JSON.parse(r.author_names) as string[], hasCode: false })),
  );
  const dim = v.terms.length;
  const vecs = rows.map((r) => v.vectors.get(r.id)!);
  let centroids = Array.from({ length: k }, () => {
    const c = new Float64Array(dim);
    const x = vecs[Math.floor(rand() * vecs.length)]!;
    x.idx.forEach((i, j) => {
      c[i] = x.val[j]!;
    });
    return c;
  });
  let assign = new Array<number>(vecs.length).fill(0);
  for (let iter = 0; iter < 20; iter++) {
    assign = vecs.map((x) => {
      let best = 0;
      let bestS = -1;
      centroids.forEach((c, ci) => {
        let s = 0;
        for (let j = 0; j < x.idx.length; j++) s += c[x.idx[j]!]! * x.val[j]!;
        if (s > bestS) [best, bestS] = [ci, s];
      });
      return best;
    });
    centroids = centroids.map((old, ci) => {
      const c = new Float64Array(dim);
      let n = 0;
      vecs.forEach((x, i) => {
        if (assign[i] !== ci) return;
        n++;
        x.idx.forEach((t, j) => {
          c[t] = c[t]! + x.val[j]!;
        });
      });
      if (n === 0) return old;
      const norm = Math.sqrt(c.reduce((s, y) => s + y * y, 0)) || 1;
      return c.map((y) => y / norm);
    });
  }
  const seeds = rows.map((r, i) => ({ title: r.title, abstract: r.abstract, authors: JSON.parse(r.author_names) as string[], cluster: assign[i]! }));
  // What a reader of an area would type: one of its eight heaviest single words.
  const keywords = centroids.map((c) =>
    [...c.entries()]
      .filter(([t]) => !v.terms[t]!.includes(' ') && !v.terms[t]!.startsWith('@'))
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([t]) => v.terms[t]!),
  );
  return { seeds, keywords };
}

const sentences = (text: string) => text.split(/(?<=[.!?])\s+/).filter((s) => s.length > 20);

export interface RankingResult {
  readers: number;
  days: number;
  papers_per_day: number;
  clusters: number;
  noise: number;
  learned_trend_weight: number;
  precision: Record<Ranker, number[]>;
  model_bytes: { mean: number; max: number };
  refits: number;
  refit_ms_mean: number;
  select_us_mean: number;
  seconds: number;
  pass: { learned_day30_at_least_0_7: boolean; learned_at_least_2x_keywords: boolean };
}

export async function runRankingBench(
  opts: {
    readers?: number;
    days?: number;
    perDay?: number;
    clusters?: number;
    noise?: number;
    trendWeight?: number;
    seed?: number;
    log?: (s: string) => void;
  } = {},
): Promise<RankingResult> {
  const readers = opts.readers ?? 200;
  const days = opts.days ?? 30;
  const perDay = opts.perDay ?? 80;
  const k = opts.clusters ?? 12;
  const noise = opts.noise ?? 0.1;
  const learnedKnob = opts.trendWeight ?? 50;
  const log = opts.log ?? ((s: string) => void process.stdout.write(s + '\n'));
  const rand = rng(opts.seed ?? 16);
  const started = performance.now();

  const { seeds, keywords } = seedClusters(k, rand);
  const byCluster = Array.from({ length: k }, (_, c) => seeds.filter((s) => s.cluster === c));
  const live = byCluster.map((xs, c) => (xs.length >= 2 ? c : -1)).filter((c) => c >= 0);
  const allSentences = seeds.flatMap((s) => sentences(s.abstract));

  const dir = mkdtempSync(path.join(tmpdir(), 'paperboy-bench-ranking-'));
  const store: Store = openStore(path.join(dir, 'paperboy.db'));
  try {
    const start = Date.parse('2026-04-01T08:00:00Z');
    const clock = new FakeClock(new Date(start));
    const relevance = createRelevance({ store, clock });
    const clusterOf = new Map<number, number>();
    let serial = 0;
    const insert = store.db.prepare(
      `INSERT INTO papers (title_key, title, abstract, authors, published_on, upvotes, first_listed_on, links, first_seen_at, updated_at, author_names)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    /** A new paper in cluster c: a seed of c rewritten from its own and its neighbours' sentences, one stray sentence. */
    const newPaper = (c: number, date: string) => {
      const pool = byCluster[c]!;
      const parent = pool[Math.floor(rand() * pool.length)]!;
      const sibling = pool[Math.floor(rand() * pool.length)]!;
      const own = sentences(parent.abstract).filter(() => rand() < 0.6);
      const near = sentences(sibling.abstract).filter(() => rand() < 0.4);
      const stray = allSentences[Math.floor(rand() * allSentences.length)]!;
      const abstract = [...own, ...near, stray].sort(() => rand() - 0.5).join(' ');
      const tw = parent.title.split(/\s+/);
      const sw = sibling.title.split(/\s+/);
      const title = `${tw.slice(0, Math.max(2, Math.ceil(tw.length * 0.6))).join(' ')} ${sw.slice(-2).join(' ')} ${++serial}`;
      const authors = [...parent.authors.filter(() => rand() < 0.5), ...sibling.authors.filter(() => rand() < 0.3)].slice(0, 6);
      // Upvotes heavy-tailed and blind to the area: the community's trend, not any one reader's interest.
      const upvotes = Math.floor(Math.exp(rand() * rand() * 6)) - 1;
      const links = rand() < 0.5 ? [{ url: `https://github.com/lab/p${serial}`, kind: 'code' }] : [];
      const seen = new Date(clock.now().getTime()).toISOString();
      const r = insert.run(
        `gen-${serial}`,
        title,
        abstract,
        authors.length || null,
        date,
        upvotes,
        date,
        JSON.stringify(links),
        seen,
        seen,
        JSON.stringify(authors),
      );
      clusterOf.set(Number(r.lastInsertRowid), c);
    };
    const dateOf = (d: number) => new Date(start + d * DAY_MS).toISOString().slice(0, 10);
    const addDay = (d: number, n: number) =>
      store.db.transaction(() => {
        for (let i = 0; i < n; i++) newPaper(live[Math.floor(rand() * live.length)]!, dateOf(d));
      })();
    // A week of backlog before day 1.
    for (let d = -6; d <= 0; d++) addDay(d, perDay);

    // Readers: a hidden interest of two areas; the keyword reader typed one word of each; three subscribers per reader.
    const addSub = store.db.prepare(
      `INSERT INTO subscribers (email, status, kind, topics, digest_size, created_at, updated_at, confirmed_at, trend_weight)
       VALUES (?, 'active', 'trending', ?, 10, ?, ?, ?, ?)`,
    );
    const subs: { id: number; ranker: Ranker; interest: Set<number> }[] = [];
    const now0 = new Date(start).toISOString();
    for (let r = 0; r < readers; r++) {
      const a = live[Math.floor(rand() * live.length)]!;
      let b = a;
      while (b === a) b = live[Math.floor(rand() * live.length)]!;
      const interest = new Set([a, b]);
      const typed = [a, b].map((c) => keywords[c]![Math.floor(rand() * keywords[c]!.length)]!);
      for (const ranker of RANKERS) {
        const topics = ranker === 'trending' ? [] : typed;
        const knob = ranker === 'trending' ? 100 : ranker === 'keywords' ? 0 : learnedKnob;
        const id = Number(addSub.run(`${ranker}-${r}@bench.example`, JSON.stringify(topics), now0, now0, now0, knob).lastInsertRowid);
        subs.push({ id, ranker, interest });
      }
    }
    // The learned reader's cold start: their typed topics as pseudo-positives.
    for (const s of subs) if (s.ranker === 'learned') relevance.refit(s.id);

    const insEdition = store.db.prepare(`INSERT INTO editions (kind, frequency, local_date, created_at) VALUES ('trending', 'daily', ?, ?)`);
    const insDelivery = store.db.prepare(
      `INSERT INTO deliveries (edition_id, subscriber_id, frequency, period, paper_ids, status, created_at, updated_at) VALUES (?, ?, 'daily', ?, ?, 'sent', ?, ?)`,
    );
    const insSent = store.db.prepare('INSERT INTO sent_papers (subscriber_id, paper_id, delivery_id) VALUES (?, ?, ?)');
    const subRow = store.db.prepare('SELECT * FROM subscribers WHERE id = ?');

    const precision: Record<Ranker, number[]> = { trending: [], keywords: [], learned: [] };
    let refits = 0;
    let refitMs = 0;
    let selectMs = 0;
    let selects = 0;
    for (let d = 1; d <= days; d++) {
      clock.set(new Date(start + d * DAY_MS));
      addDay(d, perDay);
      const date = dateOf(d);
      const edition = Number(insEdition.run(date, clock.now().toISOString()).lastInsertRowid);
      const selector = createSelector({ store, clock, relevance });
      const sums: Record<Ranker, number> = { trending: 0, keywords: 0, learned: 0 };
      const taps: [number, number, 1 | -1][] = [];
      store.db.transaction(() => {
        for (const s of subs) {
          const t0 = performance.now();
          const r = selector.selectForSubscriber(subRow.get(s.id) as never, date);
          selectMs += performance.now() - t0;
          selects++;
          if (r.status !== 'selected') continue;
          const ids = r.selection.paperIds;
          const hits = ids.filter((id) => s.interest.has(clusterOf.get(id)!)).length;
          sums[s.ranker] += hits / 10;
          const delivery = insDelivery.run(edition, s.id, date, JSON.stringify(ids), date, date).lastInsertRowid;
          for (const id of ids) insSent.run(s.id, id, delivery);
          if (s.ranker !== 'learned') continue;
          // One tap per paper seen, by the hidden interest, flipped 10% of the time.
          for (const id of ids) {
            const likes = s.interest.has(clusterOf.get(id)!) !== rand() < noise;
            taps.push([s.id, id, likes ? 1 : -1]);
          }
        }
      })();
      const upsert = store.q('feedback-upsert');
      store.db.transaction(() => {
        for (const [sid, pid, signal] of taps) upsert.run({ subscriber_id: sid, paper_id: pid, signal, source: 'email', now: clock.now().toISOString() });
      })();
      const t0 = performance.now();
      for (const sid of new Set(taps.map((t) => t[0]))) relevance.onFeedback(sid);
      refits += relevance.pending;
      await relevance.idle();
      refitMs += performance.now() - t0;
      for (const ranker of RANKERS) precision[ranker].push(sums[ranker] / readers);
      if (d === 1 || d === 7 || d % 10 === 0) {
        log(
          `day ${String(d).padStart(2)}: ` +
            RANKERS.map((x) => `${x} ${precision[x][d - 1]!.toFixed(2)}`).join(', ') +
            ` (${((performance.now() - started) / 1000).toFixed(0)} s)`,
        );
      }
    }
    const sizes = store.db.prepare('SELECT length(weights) AS b FROM reader_models').all() as { b: number }[];
    const at = (r: Ranker, d: number) => precision[r][Math.min(d, days) - 1] ?? 0;
    return {
      readers,
      days,
      papers_per_day: perDay,
      clusters: live.length,
      noise,
      learned_trend_weight: learnedKnob,
      precision,
      model_bytes: { mean: Math.round(sizes.reduce((s, x) => s + x.b, 0) / Math.max(1, sizes.length)), max: Math.max(0, ...sizes.map((x) => x.b)) },
      refits,
      refit_ms_mean: refits ? refitMs / refits : 0,
      select_us_mean: selects ? (selectMs * 1000) / selects : 0,
      seconds: (performance.now() - started) / 1000,
      pass: {
        learned_day30_at_least_0_7: at('learned', 30) >= 0.7,
        learned_at_least_2x_keywords: at('learned', 30) >= 2 * at('keywords', 30),
      },
    };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const rankingPart: BenchPart = {
  name: 'ranking',
  description: 'precision@10 of trending, keyword and learned ranking for simulated readers over 30 days',
  async run(args) {
    const o = options(args);
    const m = machine();
    const loadBefore = os.loadavg();
    console.log(`${m.cpus} x ${m.cpu}, Node ${m.node}, load average ${loadBefore.map((x) => x.toFixed(2)).join(' ')}`);
    const r = await runRankingBench({
      readers: num(o, 'readers', 200),
      days: num(o, 'days', 30),
      perDay: num(o, 'per-day', 80),
      clusters: num(o, 'clusters', 12),
      noise: num(o, 'noise', 0.1),
      trendWeight: num(o, 'trend-weight', 50),
    });
    const at = (xs: number[], d: number) => xs[Math.min(d, xs.length) - 1] ?? 0;
    console.log(
      `\n${r.readers} readers x ${r.days} days, ${r.papers_per_day} papers a day in ${r.clusters} areas, ${Math.round(r.noise * 100)}% noisy taps; learned readers at trend_weight ${r.learned_trend_weight}`,
    );
    table(RANKERS.map((x) => ({ ranker: x, 'p@10 day 1': at(r.precision[x], 1), 'p@10 day 7': at(r.precision[x], 7), 'p@10 day 30': at(r.precision[x], 30) })));
    console.log(
      `model ${r.model_bytes.mean} B mean, ${r.model_bytes.max} B max; ${r.refits} refits, ${r.refit_ms_mean.toFixed(1)} ms each; ` +
        `${r.select_us_mean.toFixed(0)} µs per selection; ${r.seconds.toFixed(0)} s; load average after ${os
          .loadavg()
          .map((x) => x.toFixed(2))
          .join(' ')}`,
    );
    const ok = r.pass.learned_day30_at_least_0_7 && r.pass.learned_at_least_2x_keywords;
    console.log(ok ? 'PASS: learned p@10 on day 30 >= 0.7 and >= 2x keywords' : `FAIL: ${JSON.stringify(r.pass)}`);
    console.log(`wrote ${writeResult('ranking', { ...r, loadavg_before: loadBefore })}`);
    if (!ok) process.exitCode = 1;
  },
};
