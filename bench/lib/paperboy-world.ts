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
import { deliveryMessageId, feedbackId, headersConfig } from '../../src/delivery/sender.js';
import { installTag } from '../../src/secrets.js';
import { localDateOf } from '../../src/delivery/schedule.js';
import { setHeapGrowth } from '../../src/heap.js';
import { benchDir } from './part.js';

export const SEEDS_DIR = path.join(path.dirname(benchDir), 'seeds');

export interface World {
  dir: string;
  dbPath: string;
  subscribers: number;
  papers: number;
  cleanup(): void;
}

/**
 * A fresh ledger: the seed corpus ingested, then `n` active daily subscribers (digest_size 10, trending, UTC)
 * inserted in one transaction through one prepared statement, the fast bulk path a migration or import would use.
 */
export function buildWorld(n: number, digestSize = 10): World {
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
    return { dir, dbPath, subscribers: n, papers, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
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
}

/** What the ledger says after a run: every delivery sent, each with its own Message-ID, and its papers recorded. */
export function checkLedger(store: Store): LedgerCheck {
  const g = (sql: string) => (store.db.prepare(sql).get() as { n: number }).n;
  return {
    sent: g(`SELECT count(*) AS n FROM deliveries WHERE status = 'sent'`),
    other: g(`SELECT count(*) AS n FROM deliveries WHERE status <> 'sent'`),
    distinctMessageIds: g(`SELECT count(DISTINCT message_id) AS n FROM deliveries WHERE status = 'sent'`),
    sentPapers: g(`SELECT count(*) AS n FROM sent_papers`),
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
export async function sampleMessage(world: World): Promise<Buffer> {
  const config = worldConfig(world, 25, 1);
  const store = openStore(world.dbPath);
  try {
    const digest = digestSourceFor({ store, clock: systemClock, config });
    const sub = DeliverySubscriber.parse(store.db.prepare('SELECT * FROM subscribers WHERE id = 1').get());
    const prepared = await digest.prepare(sub.kind, localDateOf(systemClock.now(), 'UTC'));
    const selection = await prepared.select(sub);
    if (isNothing(selection)) throw new Error(`nothing to send: ${selection.nothing}`);
    const template = await buildTemplate(await prepared.render(selection), {
      ...headersConfig(config),
      feedbackId: feedbackId('e1', `${sub.frequency}-${sub.kind}`),
    });
    return await personalise(template, {
      email: sub.email,
      messageId: deliveryMessageId(1, 1, config.MAIL_DOMAIN, installTag(config)),
      links: digest.links(sub.id),
      date: new Date(),
    });
  } finally {
    store.close();
  }
}
