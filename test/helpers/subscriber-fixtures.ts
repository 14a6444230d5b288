// Seeds a store with the subscribers an admin's pages have to show: every status, digests with SMTP replies, bounces,
// a complaint and feedback, inserted directly (the pages read them; how they got there is other tests' business).
import type { Store } from '../../src/db/open.js';

export interface SeededSubscribers {
  /** The richly filled one: weekly, topics, two digests (one sent, one bounced), a bounce, feedback. */
  ada: { id: number; email: string };
  bounced: { id: number; email: string };
  complained: { id: number; email: string };
  total: number;
}

const FIRST = ['alan', 'grace', 'edsger', 'barbara', 'donald', 'frances', 'ken', 'radia', 'tim', 'margaret', 'john', 'lynn'];
const DOMAINS = ['example.org', 'uni.example.edu', 'lab.example.com'];

export function seedAdminSubscribers(store: Store, opts: { extra?: number } = {}): SeededSubscribers {
  const { db } = store;
  const ins = db.prepare(
    `INSERT INTO subscribers (email, status, frequency, weekday, kind, topics, digest_size, delivery_hour, time_zone, source,
       created_at, updated_at, confirmed_at, unsubscribed_at, bounced_at, bounce_reason, complained_at)
     VALUES (@email, @status, @frequency, @weekday, @kind, @topics, @digest_size, @delivery_hour, @time_zone, @source,
       @created_at, @created_at, @confirmed_at, @unsubscribed_at, @bounced_at, @bounce_reason, @complained_at)`,
  );
  const add = (email: string, status: string, extra: Record<string, unknown> = {}) =>
    Number(
      ins.run({
        email,
        status,
        frequency: 'daily',
        weekday: 1,
        kind: 'trending',
        topics: '[]',
        digest_size: 10,
        delivery_hour: 8,
        time_zone: 'UTC',
        source: 'web',
        created_at: '2026-11-02T09:15:00.000Z',
        confirmed_at: status === 'pending' ? null : '2026-11-02T09:20:00.000Z',
        unsubscribed_at: status === 'unsubscribed' ? '2026-11-20T18:00:00.000Z' : null,
        bounced_at: status === 'bounced' ? '2026-11-25T07:01:00.000Z' : null,
        bounce_reason: status === 'bounced' ? 'hard bounce: 5.1.1 user unknown' : null,
        complained_at: null,
        ...extra,
      }).lastInsertRowid,
    );
  let total = 0;
  const statuses = ['active', 'active', 'active', 'pending', 'unsubscribed'];
  const n = opts.extra ?? 56;
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const day = String((i % 28) + 1).padStart(2, '0');
      add(`${FIRST[i % FIRST.length]}.${i + 1}@${DOMAINS[i % DOMAINS.length]}`, statuses[i % statuses.length]!, {
        created_at: `2026-10-${day}T10:00:00.000Z`,
        confirmed_at: statuses[i % statuses.length] === 'pending' ? null : `2026-10-${day}T10:05:00.000Z`,
        kind: i % 3 === 0 ? 'new' : i % 3 === 1 ? 'trending' : 'both',
        frequency: i % 4 === 0 ? 'weekly' : 'daily',
        source: i % 2 ? 'import' : 'web',
      });
      total++;
    }
  })();

  const bouncedEmail = 'gone.mailbox@example.org';
  const bouncedId = add(bouncedEmail, 'bounced');
  const complainedEmail = 'angry.reader@example.com';
  const complainedId = add(complainedEmail, 'unsubscribed', { complained_at: '2026-11-28T12:00:00.000Z' });
  const adaEmail = 'ada.lovelace@analytical.example';
  const adaId = add(adaEmail, 'active', {
    frequency: 'weekly',
    weekday: 3,
    kind: 'both',
    topics: JSON.stringify(['diffusion', 'graph neural networks', 'robotics']),
    digest_size: 12,
    delivery_hour: 7,
    time_zone: 'Europe/London',
    created_at: '2026-11-03T08:00:00.000Z',
    confirmed_at: '2026-11-03T08:04:00.000Z',
  });
  total += 3;

  const now = '2026-12-01T07:05:00.000Z';
  const edition = (local: string) =>
    Number(db.prepare(`INSERT INTO editions (kind, frequency, local_date, created_at) VALUES ('both', 'weekly', ?, ?)`).run(local, now).lastInsertRowid);
  const delivery = db.prepare(
    `INSERT INTO deliveries (edition_id, subscriber_id, frequency, period, paper_ids, status, attempts, smtp_response, message_id, created_at, updated_at, sent_at)
     VALUES (?, ?, 'weekly', ?, '[1,2,3]', ?, ?, ?, ?, ?, ?, ?)`,
  );
  const e1 = edition('2026-W47');
  const e2 = edition('2026-W48');
  delivery.run(e1, adaId, '2026-W47', 'sent', 1, '250 2.0.0 Ok: queued as 4F2A19C03B', '<w47.ada@paperboy.example>', now, now, '2026-11-25T07:02:11.000Z');
  const d2 = Number(
    delivery.run(
      e2,
      adaId,
      '2026-W48',
      'bounced',
      1,
      '550 5.2.2 <ada.lovelace@analytical.example>: Recipient address rejected: mailbox full, try again much later or contact the postmaster of analytical.example',
      '<w48.ada@paperboy.example>',
      now,
      now,
      null,
    ).lastInsertRowid,
  );
  db.prepare(
    `INSERT INTO bounces (subscriber_id, delivery_id, edition_id, email, severity, status, action, diagnostic, source, received_at)
     VALUES (?, ?, ?, ?, 'soft', '5.2.2', 'failed', 'smtp; 552 5.2.2 Mailbox full', 'dsn', '2026-12-02T07:03:00.000Z')`,
  ).run(adaId, d2, e2, adaEmail);
  db.prepare(
    `INSERT INTO bounces (subscriber_id, delivery_id, edition_id, email, severity, status, action, diagnostic, source, received_at)
     VALUES (?, NULL, NULL, ?, 'hard', '5.1.1', 'failed', 'smtp; 550 5.1.1 user unknown', 'dsn', '2026-11-25T07:01:00.000Z')`,
  ).run(bouncedId, bouncedEmail);
  db.prepare(
    `INSERT INTO complaints (subscriber_id, delivery_id, edition_id, feedback_type, user_agent, received_at) VALUES (?, NULL, ?, 'abuse', 'Yahoo!-Mail-Feedback/2.0', ?)`,
  ).run(complainedId, e1, '2026-11-28T12:00:00.000Z');
  // Feedback needs papers; the seeds (or a test's papers) may not be there yet, so only when some exist.
  const papers = db.prepare(`SELECT id FROM papers ORDER BY id LIMIT 2`).all() as { id: number }[];
  const fb = db.prepare(`INSERT INTO feedback (subscriber_id, paper_id, signal, source, created_at) VALUES (?, ?, ?, 'email', ?)`);
  for (const [i, p] of papers.entries()) fb.run(adaId, p.id, i === 0 ? 1 : -1, `2026-11-26T0${i + 8}:00:00.000Z`);
  return {
    ada: { id: adaId, email: adaEmail },
    bounced: { id: bouncedId, email: bouncedEmail },
    complained: { id: complainedId, email: complainedEmail },
    total,
  };
}
