// Builds the world delivery tests run in: a temp SQLite file, a config, papers and subscribers inserted directly.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config.js';
import { openStore, type Store } from '../../src/db/open.js';
import type { Clock } from '../../src/clock.js';
import type { DigestSource } from '../../src/delivery/ports.js';
import { digestSourceFor } from '../../src/app.js';
import { resolveSecrets } from '../../src/secrets.js';

export function tempDir(prefix = 'paperboy-delivery-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function testConfig(dir: string, extra: Record<string, string> = {}): Config {
  return loadConfig({
    DATA_DIR: dir,
    DATABASE_PATH: join(dir, 'paperboy.db'),
    PUBLIC_URL: 'https://paperboy.example',
    MAIL_DOMAIN: 'paperboy.example',
    MAIL_FROM: 'paperboy <digest@paperboy.example>',
    SECRET_KEY: 'k'.repeat(40),
    ADMIN_TOKEN: 'admin-token-0123456789',
    SEND_RETRY_BASE_SECONDS: '60',
    SEND_MAX_ATTEMPTS: '4',
    SMTP_POOL_SIZE: '3',
    LOG_LEVEL: 'silent',
    ...extra,
  });
}

export function insertPapers(store: Store, n: number, at = '2026-11-01T00:00:00.000Z'): number[] {
  const ins = store.db.prepare(
    `INSERT INTO papers (title_key, title, abstract, authors, published_on, upvotes, first_listed_on, links, first_seen_at, updated_at)
     VALUES (?, ?, ?, 3, ?, ?, ?, '[]', ?, ?)`,
  );
  const ids: number[] = [];
  store.db.transaction(() => {
    for (let i = 1; i <= n; i++) {
      const day = `2026-10-${String((i % 28) + 1).padStart(2, '0')}`;
      const r = ins.run(
        `paper ${i}`,
        `Paper ${i}: Schrödinger bridges & <b>diffusion</b>`,
        `Abstract ${i}. We study "things" at scale — résumé of results, café.`,
        day,
        n - i,
        day,
        at,
        at,
      );
      ids.push(Number(r.lastInsertRowid));
    }
  })();
  return ids;
}

export interface SubscriberSeed {
  email?: string;
  status?: string;
  frequency?: string;
  weekday?: number;
  kind?: string;
  digest_size?: number;
  delivery_hour?: number;
  time_zone?: string;
  confirmed_at?: string;
}

export function insertSubscribers(store: Store, n: number, seed: SubscriberSeed | ((i: number) => SubscriberSeed) = {}): number[] {
  const ins = store.db.prepare(
    `INSERT INTO subscribers (email, status, frequency, weekday, kind, digest_size, delivery_hour, time_zone, created_at, updated_at, confirmed_at)
     VALUES (@email, @status, @frequency, @weekday, @kind, @digest_size, @delivery_hour, @time_zone, @created_at, @created_at, @confirmed_at)`,
  );
  const ids: number[] = [];
  store.db.transaction(() => {
    for (let i = 1; i <= n; i++) {
      const s = typeof seed === 'function' ? seed(i) : seed;
      const created = s.confirmed_at ?? '2026-01-01T00:00:00.000Z';
      const r = ins.run({
        email: s.email ?? `reader${i}@example.test`,
        status: s.status ?? 'active',
        frequency: s.frequency ?? 'daily',
        weekday: s.weekday ?? 1,
        kind: s.kind ?? 'trending',
        digest_size: s.digest_size ?? 3,
        delivery_hour: s.delivery_hour ?? 0,
        time_zone: s.time_zone ?? 'UTC',
        created_at: created,
        confirmed_at: created,
      });
      ids.push(Number(r.lastInsertRowid));
    }
  })();
  return ids;
}

export function openTestStore(config: Config): Store {
  return openStore(config.DATABASE_PATH);
}

/** The digest source `paperboy send` uses (real selector, renderer, signed links and placeholders), over this store; secrets as the app resolves them. */
export function testDigest(store: Store, config: Config, clock: Clock): DigestSource {
  return digestSourceFor({ store, clock, config: { ...config, ...resolveSecrets(config) } });
}
