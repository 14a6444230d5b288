// Owns the bench's real paperboy: a temp SQLite ledger with the seed corpus and N active subscribers, and one
// `paperboy send --force` through the real delivery service, selector, renderer and pipelining SMTP client.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import type { AppConfig } from '../../src/app.js';
import { openStore, type Store } from '../../src/db/open.js';
import { ingestPaths } from '../../src/corpus/ingest.js';
import { systemClock } from '../../src/clock.js';
import { silentLogger } from '../../src/log.js';
import { pipeliningMessengerFromConfig } from '../../src/mail/pipelining-messenger.js';
import { createDeliveryService, type RunSummary } from '../../src/delivery/send-runs.js';
import { digestSourceFor } from '../../src/app.js';
import { DeliverySubscriber, isNothing } from '../../src/delivery/ports.js';
import { buildTemplate, personalise } from '../../src/delivery/mime.js';
import { buildSkeleton, encodeBlock, personaliseAssembled } from '../../src/delivery/assembled-mime.js';
import { decodeRecipe } from '../../src/render/blocks.js';
import { deliveryMessageId, feedbackId, headersConfig } from '../../src/delivery/sender.js';
import { installTag } from '../../src/secrets.js';
import { localDateOf } from '../../src/delivery/schedule.js';
import { setHeapGrowth } from '../../src/heap.js';
import { benchDir } from './part.js';
import { createSelector } from '../../src/digest/select.js';
import { createRelevance } from '../../src/learn/relevance.js';

export const SEEDS_DIR = path.join(path.dirname(benchDir), 'seeds');

export interface World {
  dir: string;
  dbPath: string;
  subscribers: number;
  papers: number;
  /** With `distinct`: how many different selections the subscribers have. */
  distinct?: number;
  /** With `models`: how many subscribers have a stored reader model. */
  models?: number;
  cleanup(): void;
}

/**
 * A fresh ledger: the seed corpus ingested, then `n` active daily subscribers (digest_size 10, trending, UTC)
 * inserted in one transaction through one prepared statement, the fast bulk path a migration or import would use.
 */
export interface WorldOptions {
  /**
   * Every subscriber's selection differs: each gets three topics drawn from the words of the seed titles and a digest
   * size of 6-14, redrawn until no two subscribers' selections (paper ids in order, topics matched) are the same, as
   * with personalised ranking, where nearly every reader's digest is their own.
   */
  distinct?: boolean;
  /**
   * Every subscriber also has a reader model (issue 16), as after weeks of taps: real fits (src/learn) for the first
   * MODEL_FITS readers from a few taps each, their stored models copied round-robin to everyone else (fitting 100,000
   * readers would take the bench hours; the send path only reads a stored model, whatever fitted it).
   */
  models?: boolean;
}

const MODEL_FITS = 200;

/** Fits MODEL_FITS readers' models from six taps each and gives every other subscriber one of them. Returns the count. */
function seedModels(store: Store, n: number): number {
  let seed = 42;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
  const ids = (store.db.prepare('SELECT id FROM papers ORDER BY id').all() as { id: number }[]).map((r) => r.id);
  const tap = store.db.prepare(
    "INSERT OR REPLACE INTO feedback (subscriber_id, paper_id, signal, source, created_at) VALUES (?, ?, ?, 'email', '2026-01-01T00:00:00.000Z')",
  );
  const relevance = createRelevance({ store, clock: systemClock });
  const fits = Math.min(n, MODEL_FITS);
  for (let id = 1; id <= fits; id++) {
    store.db.transaction(() => {
      for (let k = 0; k < 6; k++) tap.run(id, ids[Math.floor(rand() * ids.length)]!, k < 3 ? 1 : -1);
    })();
    relevance.refit(id);
  }
  const copy = store.db.prepare(
    'INSERT INTO reader_models (subscriber_id, weights, liked, feedback_count, fitted_at) SELECT ?, weights, liked, feedback_count, fitted_at FROM reader_models WHERE subscriber_id = ?',
  );
  store.db.transaction(() => {
    for (let id = fits + 1; id <= n; id++) copy.run(id, ((id - 1) % fits) + 1);
  })();
  return (store.db.prepare('SELECT COUNT(*) AS n FROM reader_models').get() as { n: number }).n;
}

/** Deterministic draws for seeding (mulberry32-like): the same world every run. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32;
}

/** Gives each of the world's subscribers topics and a size such that every selection is distinct; returns how many are. */
function seedDistinct(store: Store, n: number): number {
  const titles = (store.db.prepare('SELECT title FROM papers').all() as { title: string }[]).map((r) => r.title.toLowerCase());
  const freq = new Map<string, number>();
  for (const t of titles) for (const w of new Set(t.match(/[a-z]{5,}/g) ?? [])) freq.set(w, (freq.get(w) ?? 0) + 1);
  // Words a few papers share: each topic moves some papers up, none matches most of the corpus.
  const vocab = [...freq]
    .filter(([, k]) => k >= 2 && k <= titles.length / 6)
    .map(([w]) => w)
    .sort();
  const selector = createSelector({ store, clock: systemClock });
  const date = localDateOf(systemClock.now(), 'UTC');
  const upd = store.db.prepare('UPDATE subscribers SET topics = ?, digest_size = ? WHERE id = ?');
  const seen = new Set<string>();
  store.db.transaction(() => {
    for (let id = 1; id <= n; id++) {
      const r = rng(id * 2654435761);
      for (let attempt = 0; attempt < 50; attempt++) {
        const topics = Array.from({ length: 3 + Math.floor(attempt / 10) }, () => vocab[Math.floor(r() * vocab.length)]!);
        const size = 6 + Math.floor(r() * 9);
        const res = selector.select({ kind: 'trending', size, topics }, date);
        const key = res.status === 'selected' ? res.selection.key : '';
        if (key && !seen.has(key)) {
          seen.add(key);
          upd.run(JSON.stringify(topics), size, id);
          break;
        }
      }
    }
  })();
  return seen.size;
}

export function buildWorld(n: number, digestSize = 10, opts: WorldOptions = {}): World {
  const dir = mkdtempSync(path.join(tmpdir(), 'paperboy-bench-'));
  const dbPath = path.join(dir, 'paperboy.db');
  const store = openStore(dbPath);
  try {
    ingestPaths(store, [SEEDS_DIR], systemClock);
    const papers = (store.db.prepare('SELECT count(*) AS n FROM papers').get() as { n: number }).n;
    if (papers === 0) throw new Error(`no papers ingested from ${SEEDS_DIR}`);
    const ins = store.db.prepare(
      `INSERT INTO subscribers (email, status, frequency, weekday, kind, digest_size, delivery_hour, time_zone, source, created_at, updated_at, confirmed_at)
       VALUES (?, 'active', 'daily', 1, 'trending', ?, 0, 'UTC', 'import', ?, ?, ?)`,
    );
    const at = '2026-01-01T00:00:00.000Z';
    store.db.transaction(() => {
      for (let i = 1; i <= n; i++) ins.run(`reader${i}@example.org`, digestSize, at, at, at);
    })();
    const distinct = opts.distinct ? seedDistinct(store, n) : undefined;
    const models = opts.models ? seedModels(store, n) : undefined;
    return {
      dir,
      dbPath,
      subscribers: n,
      papers,
      ...(distinct !== undefined ? { distinct } : {}),
      ...(models !== undefined ? { models } : {}),
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
  } finally {
    store.close();
  }
}

/** The environment `paperboy send` runs with against `world`: what the CLI reads, and what worldConfig parses. */
export function worldEnv(world: World, smtpPort: number, poolSize: number): Record<string, string> {
  return {
    DATA_DIR: world.dir,
    DATABASE_PATH: world.dbPath,
    PUBLIC_URL: 'https://paperboy.example.org',
    MAIL_DOMAIN: 'paperboy.example.org',
    MAIL_FROM: 'paperboy <digest@paperboy.example.org>',
    MAIL_TRANSPORT: 'smtp',
    SMTP_URL: `smtp://127.0.0.1:${smtpPort}?starttls=never`,
    SMTP_POOL_SIZE: String(poolSize),
    SECRET_KEY: 'bench-secret-key-'.repeat(3),
    ADMIN_TOKEN: 'bench-admin-token-0123456789',
    LOG_LEVEL: 'silent',
    INBOUND_SMTP_ENABLED: 'false',
    SCHEDULER_ENABLED: 'false',
    FETCH_ENABLED: 'false',
  };
}

export function worldConfig(world: World, smtpPort: number, poolSize: number): AppConfig {
  return loadConfig(worldEnv(world, smtpPort, poolSize)) as AppConfig;
}

export interface LedgerCheck {
  sent: number;
  other: number;
  distinctMessageIds: number;
  sentPapers: number;
  /** Distinct digests the deliveries point at (one recipe or rendered variant each). */
  distinctVariants: number;
}

/** What the ledger says after a run: every delivery sent, each with its own Message-ID, and its papers recorded. */
export function checkLedger(store: Store): LedgerCheck {
  const g = (sql: string) => (store.db.prepare(sql).get() as { n: number }).n;
  return {
    sent: g(`SELECT count(*) AS n FROM deliveries WHERE status = 'sent'`),
    other: g(`SELECT count(*) AS n FROM deliveries WHERE status <> 'sent'`),
    distinctMessageIds: g(`SELECT count(DISTINCT message_id) AS n FROM deliveries WHERE status = 'sent'`),
    sentPapers: g(`SELECT count(*) AS n FROM sent_papers`),
    distinctVariants: g(`SELECT count(DISTINCT variant_id) AS n FROM deliveries WHERE status = 'sent'`),
  };
}

export interface RealSend {
  summary: RunSummary;
  store: Store;
  close(): Promise<void>;
}

/**
 * `paperboy send --force` against `world`: plan (select, render once per distinct selection, ledger rows),
 * then the sender drains through the pipelining messenger to 127.0.0.1:smtpPort. `close()` closes the messenger
 * (QUIT on every connection) and the store.
 */
export async function realSend(world: World, smtpPort: number, poolSize: number): Promise<RealSend> {
  const config = worldConfig(world, smtpPort, poolSize);
  // As createApp does in the CLI and the service: this process is the sender, so it runs as paperboy would.
  setHeapGrowth(config.HEAP_GROWTH_PERCENT);
  const store = openStore(world.dbPath);
  const clock = systemClock;
  const messenger = pipeliningMessengerFromConfig(config);
  const service = createDeliveryService({ config, store, clock, log: silentLogger, messenger, digest: digestSourceFor({ store, clock, config }) });
  const summary = await service.run({ trigger: 'cli', mode: 'force' });
  return {
    summary,
    store,
    async close() {
      await service.close();
      await messenger.close();
    },
  };
}

/** One recipient's digest exactly as the sender builds it (subscriber 1 of `world`): its size sets smtp-source's. */
export async function sampleMessage(world: World, subscriberId = 1): Promise<Buffer> {
  const config = worldConfig(world, 25, 1);
  const store = openStore(world.dbPath);
  try {
    const digest = digestSourceFor({ store, clock: systemClock, config });
    const sub = DeliverySubscriber.parse(store.db.prepare('SELECT * FROM subscribers WHERE id = ?').get(subscriberId));
    const prepared = await digest.prepare(sub.kind, localDateOf(systemClock.now(), 'UTC'));
    const selection = await prepared.select(sub);
    if (isNothing(selection)) throw new Error(`nothing to send: ${selection.nothing}`);
    const headers = { ...headersConfig(config), feedbackId: feedbackId('e1', `${sub.frequency}-${sub.kind}`) };
    const recipient = {
      email: sub.email,
      messageId: deliveryMessageId(1, 1, config.MAIL_DOMAIN, installTag(config)),
      links: digest.links(sub.id),
      date: new Date(),
    };
    if (prepared.compose) {
      // As the sender assembles it: the reader's feedback links in, every block from the edition's pieces.
      const composed = await prepared.compose(selection);
      const pieces = new Map(composed.pieces.map((p) => [p.key, p]));
      const recipe = decodeRecipe(composed.recipe);
      const skeleton = await buildSkeleton(pieces.get(recipe.wrapper)!, headers);
      return await personaliseAssembled({ skeleton, recipe, blocks: (k) => encodeBlock(pieces.get(k)!) }, recipient, config.PUBLIC_URL);
    }
    return await personalise(await buildTemplate(await prepared.render(selection), headers), recipient);
  } finally {
    store.close();
  }
}
