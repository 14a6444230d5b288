// Migration 070 on a real SQLite file holding case twins in every status combination (issue 13, defect 1).
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR, openStore } from '../src/db/open.js';
import { tempDir } from './helpers/tmp.js';

const STATUSES = ['pending', 'active', 'unsubscribed', 'bounced'] as const;
type Status = (typeof STATUSES)[number];
const RANK: Record<Status, number> = { pending: 1, active: 2, unsubscribed: 3, bounced: 4 };

/** A database as it was before migration 070: the earlier migrations only, and no prepared queries. */
function oldDatabase(dir: string): string {
  const migrations = join(dir, 'old-migrations');
  const queries = join(dir, 'no-queries');
  mkdirSync(migrations);
  mkdirSync(queries);
  for (const f of readdirSync(MIGRATIONS_DIR).filter((f) => /^\d{3}_/.test(f) && Number(f.slice(0, 3)) < 70)) {
    copyFileSync(join(MIGRATIONS_DIR, f), join(migrations, f));
  }
  const path = join(dir, 'paperboy.db');
  openStore(path, { migrationsDir: migrations, queriesDir: queries }).close();
  return path;
}

interface Row {
  email: string;
  status: Status;
  created_at: string;
  confirmed_at: string | null;
  papers: number[];
}

describe('migration 070 merges case twins', () => {
  it('keeps the most protective status, the earliest consent and the union of sent papers, with no dangling key', () => {
    const dir = tempDir();
    const path = oldDatabase(dir);
    const old = openStore(path, { migrationsDir: join(dir, 'old-migrations'), queriesDir: join(dir, 'no-queries') });
    const db = old.db;
    const now = '2026-02-01T00:00:00.000Z';
    for (let p = 1; p <= 5; p++) {
      db.prepare(`INSERT INTO papers (id, title_key, title, abstract, first_seen_at, updated_at) VALUES (?, ?, ?, '', ?, ?)`).run(
        p,
        `t${p}`,
        `T${p}`,
        now,
        now,
      );
    }
    db.prepare(
      `INSERT INTO editions (id, kind, frequency, local_date, created_at) VALUES (1, 'trending', 'daily', '2026-01-20', ?), (2, 'trending', 'daily', '2026-01-21', ?)`,
    ).run(now, now);
    const addSub = db.prepare(`INSERT INTO subscribers (email, status, kind, topics, created_at, updated_at, confirmed_at, unsubscribed_at,
        last_confirmation_sent_at, bounced_at, bounce_reason) VALUES (@email, @status, @kind, '[]', @created_at, @created_at, @confirmed_at,
        @unsubscribed_at, @last_sent, @bounced_at, @bounce_reason)`);
    const addDelivery = db.prepare(`INSERT INTO deliveries (edition_id, subscriber_id, frequency, period, paper_ids, status, created_at, updated_at, sent_at)
        VALUES (@edition, @sub, 'daily', @period, @papers, @status, @now, @now, @now)`);
    const addSent = db.prepare('INSERT INTO sent_papers (subscriber_id, paper_id, delivery_id) VALUES (?, ?, ?)');
    const addToken = db.prepare(`INSERT INTO confirm_tokens (token_hash, subscriber_id, created_at, expires_at) VALUES (?, ?, ?, '2026-03-01T00:00:00.000Z')`);
    const addJob = db.prepare(`INSERT INTO confirmation_queue (subscriber_id, status, next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`);

    function insert(r: Row & { kind: string }, delivery: { edition: number; period: string; status: string }): number {
      const id = Number(
        addSub.run({
          email: r.email,
          status: r.status,
          kind: r.kind,
          created_at: r.created_at,
          confirmed_at: r.confirmed_at,
          unsubscribed_at: r.status === 'unsubscribed' ? '2026-01-25T00:00:00.000Z' : null,
          last_sent: r.created_at,
          bounced_at: r.status === 'bounced' ? '2026-01-26T00:00:00.000Z' : null,
          bounce_reason: r.status === 'bounced' ? '550 5.1.1 no such user' : null,
        }).lastInsertRowid,
      );
      if (r.papers.length > 0) {
        const d = Number(addDelivery.run({ ...delivery, sub: id, papers: JSON.stringify(r.papers), now }).lastInsertRowid);
        for (const p of r.papers) addSent.run(id, p, d);
      }
      addToken.run(`hash-${r.email}`, id, now);
      if (r.status === 'pending') addJob.run(id, 'queued', now, now, now);
      return id;
    }

    // Every ordered pair: the older row (lower id) is the later consent, so "earliest" cannot mean "first inserted".
    const groups: { key: string; rows: (Row & { id: number })[] }[] = [];
    let n = 0;
    for (const a of STATUSES) {
      for (const b of STATUSES) {
        n++;
        const first: Row = {
          email: `pair${n}@example.org`,
          status: a,
          created_at: '2026-01-10T00:00:00.000Z',
          confirmed_at: a === 'pending' ? null : '2026-01-11T00:00:00.000Z',
          papers: a === 'pending' ? [] : [1, 2],
        };
        const second: Row = {
          email: `Pair${n}@example.org`,
          status: b,
          created_at: '2026-01-05T00:00:00.000Z',
          confirmed_at: b === 'pending' ? null : '2026-01-06T00:00:00.000Z',
          papers: b === 'pending' ? [] : [2, 3],
        };
        // Both got the same edition (the ledger allows one per period for the merged row), the second one more.
        const id1 = insert({ ...first, kind: 'trending' }, { edition: 1, period: '2026-01-20', status: 'sent' });
        const id2 = insert({ ...second, kind: 'new' }, { edition: 1, period: '2026-01-20', status: 'sent' });
        if (b !== 'pending') {
          const d = Number(addDelivery.run({ edition: 2, sub: id2, period: '2026-01-21', papers: '[4]', status: 'sent', now }).lastInsertRowid);
          addSent.run(id2, 4, d);
          second.papers = [2, 3, 4];
        }
        groups.push({
          key: `pair${n}@example.org`,
          rows: [
            { ...first, id: id1 },
            { ...second, id: id2 },
          ],
        });
      }
    }
    // Three spellings of one mailbox.
    const trio = (['active', 'pending', 'unsubscribed'] as const).map((status, i) => {
      const r: Row = {
        email: ['trio@example.org', 'Trio@example.org', 'TRIO@example.org'][i]!,
        status,
        created_at: `2026-01-0${3 - i}T00:00:00.000Z`,
        confirmed_at: status === 'pending' ? null : `2026-01-1${i}T00:00:00.000Z`,
        papers: status === 'pending' ? [] : [i + 1],
      };
      return { ...r, id: insert({ ...r, kind: 'both' }, { edition: 1, period: '2026-01-20', status: 'sent' }) };
    });
    groups.push({ key: 'trio@example.org', rows: trio });
    const loner = insert(
      { email: 'alone@example.org', status: 'active', created_at: now, confirmed_at: now, papers: [5], kind: 'new' },
      { edition: 1, period: '2026-01-20', status: 'sent' },
    );
    old.close();

    const store = openStore(path);
    try {
      const sdb = store.db;
      expect(sdb.pragma('foreign_key_check')).toEqual([]);
      for (const g of groups) {
        const rows = sdb.prepare('SELECT * FROM subscribers WHERE lower(email) = ?').all(g.key) as Record<string, unknown>[];
        expect(rows, g.key).toHaveLength(1);
        const s = rows[0]!;
        const label = `${g.key}: ${g.rows.map((r) => r.status).join(' + ')}`;
        const best = Math.max(...g.rows.map((r) => RANK[r.status]));
        const winner = g.rows.find((r) => RANK[r.status] === best)!;
        expect(s.status, label).toBe(winner.status);
        expect(s.id, label).toBe(winner.id);
        expect(s.email, label).toBe(winner.email);
        expect(s.created_at, label).toBe(g.rows.map((r) => r.created_at).sort()[0]);
        const confirmed = g.rows
          .map((r) => r.confirmed_at)
          .filter((c): c is string => c !== null)
          .sort();
        expect(s.confirmed_at, label).toBe(confirmed[0] ?? null);
        if (g.rows.some((r) => r.status === 'unsubscribed')) expect(s.unsubscribed_at, label).toBe('2026-01-25T00:00:00.000Z');
        if (s.status === 'bounced') expect(s.bounce_reason, label).toBe('550 5.1.1 no such user');
        const papers = (sdb.prepare('SELECT paper_id FROM sent_papers WHERE subscriber_id = ? ORDER BY paper_id').all(s.id) as { paper_id: number }[]).map(
          (r) => r.paper_id,
        );
        expect(papers, label).toEqual([...new Set(g.rows.flatMap((r) => r.papers))].sort());
        // One delivery per period survives, and every sent paper points at a delivery of this subscriber.
        const periods = (sdb.prepare('SELECT period FROM deliveries WHERE subscriber_id = ? ORDER BY period').all(s.id) as { period: string }[]).map(
          (r) => r.period,
        );
        expect(new Set(periods).size, label).toBe(periods.length);
        expect(
          sdb
            .prepare(
              'SELECT COUNT(*) AS n FROM sent_papers sp JOIN deliveries d ON d.id = sp.delivery_id WHERE sp.subscriber_id = ? AND d.subscriber_id <> sp.subscriber_id',
            )
            .get(s.id),
        ).toEqual({ n: 0 });
        // The twins' tokens follow the mailbox, and at most one confirmation waits for it.
        const tokens = sdb.prepare('SELECT COUNT(*) AS n FROM confirm_tokens WHERE subscriber_id = ?').get(s.id) as { n: number };
        expect(tokens.n, label).toBe(g.rows.length);
        const jobs = sdb.prepare(`SELECT COUNT(*) AS n FROM confirmation_queue WHERE subscriber_id = ? AND status = 'queued'`).get(s.id) as { n: number };
        expect(jobs.n, label).toBe(g.rows.some((r) => r.status === 'pending') ? 1 : 0);
      }
      expect(sdb.prepare('SELECT COUNT(*) AS n FROM subscribers').get()).toEqual({ n: groups.length + 1 });
      expect(sdb.prepare('SELECT status FROM subscribers WHERE id = ?').get(loner)).toEqual({ status: 'active' });
      // And no new twin can appear.
      expect(() => sdb.prepare(`INSERT INTO subscribers (email, created_at, updated_at) VALUES ('ALONE@example.org', ?, ?)`).run(now, now)).toThrow(/UNIQUE/);
    } finally {
      store.close();
    }
  });
});
