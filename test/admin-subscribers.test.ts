// Issue 17: the admin subscriber pages over real HTTP against the running service: search, status filter, paging, one
// subscriber's mail, suppress and unsuppress, GDPR erase, CSV export (the CLI's bytes) and import (the CLI's path).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPORT_COLUMNS } from '../src/subscriptions/export.js';
import { createOutboxMessenger } from '../src/mail/outbox-messenger.js';
import { createOutbox } from '../src/mail/outbox.js';
import { silentLogger } from '../src/log.js';
import { runCli } from './helpers/cli.js';
import { startTestService, type RunningService } from './helpers/running-service.js';
import { seedAdminSubscribers, type SeededSubscribers } from './helpers/subscriber-fixtures.js';
import { tempDir } from './helpers/tmp.js';

const TOKEN = 'admin-token-subscriber-pages-0123';
const SECRET = 's'.repeat(40);
const bearer = { authorization: `Bearer ${TOKEN}`, accept: 'text/html' };

describe('admin subscriber pages', () => {
  const dir = tempDir();
  let svc: RunningService;
  let seeded: SeededSubscribers;
  let session: string;

  const get = (path: string, headers: Record<string, string> = bearer) => fetch(svc.base + path, { headers, redirect: 'manual' });
  const post = (path: string, form: Record<string, string>, headers: Record<string, string> = bearer) =>
    fetch(svc.base + path, { method: 'POST', headers, body: new URLSearchParams(form), redirect: 'manual' });
  const row = (id: number) => svc.app.store.db.prepare('SELECT * FROM subscribers WHERE id = ?').get(id) as Record<string, unknown> | undefined;
  const count = (sql: string, ...args: unknown[]) => (svc.app.store.db.prepare(sql).get(...args) as { n: number }).n;
  /** The addresses a list page shows, in order. */
  const listed = (html: string) => [...html.matchAll(/<td class="subs-email"><a href="\/admin\/subscribers\/\d+">([^<]+)<\/a>/g)].map((m) => m[1]);
  const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

  beforeAll(async () => {
    svc = await startTestService(dir, { ADMIN_TOKEN: TOKEN, SECRET_KEY: SECRET });
    seeded = seedAdminSubscribers(svc.app.store);
    const login = await fetch(`${svc.base}/admin/login`, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ token: TOKEN, next: '/admin' }) });
    session = /^(paperboy_admin=[^;]+)/.exec(login.headers.get('set-cookie') ?? '')![1]!;
  });
  afterAll(() => svc?.stop());

  it('is behind the admin guard', async () => {
    for (const path of ['/admin/subscribers', `/admin/subscribers/${seeded.ada.id}`, '/admin/subscribers.csv', '/admin/subscribers/import']) {
      const res = await get(path, { accept: 'text/html' });
      expect(res.status, path).toBe(401);
      expect(await res.text()).toContain('action="/admin/login"');
    }
    const res = await post(`/admin/subscribers/${seeded.ada.id}/suppress`, {}, {});
    expect(res.status).toBe(401);
    expect(row(seeded.ada.id)!.status).toBe('active');
  });

  it('lists newest first with counts per status, and pages', async () => {
    const res = await get('/admin/subscribers');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toMatch(/<link rel="stylesheet" href="\/static\/admin-subscribers\.css\?v(?:=|&#x3D;)[0-9a-z]+">/);
    // The page's own markup (the layout is the admin console's) carries no inline style for the CSP to block.
    expect(html.slice(html.indexOf('<main'))).not.toMatch(/<style|style=/);
    const first = listed(html);
    expect(first).toHaveLength(50);
    expect(first[0]).toBe(seeded.ada.email);
    // Each count is its own element, so "Active" and its number never run together.
    const pending = count(`SELECT COUNT(*) AS n FROM subscribers WHERE status = 'pending'`);
    expect(html).toMatch(new RegExp(`<span class="subs-filter-name">Pending</span> <span class="subs-count">${pending}</span>`));
    expect(html).toMatch(/<span class="subs-filter-name">Complained<\/span> <span class="subs-count">1<\/span>/);
    expect(html).toContain(`1–50 of ${seeded.total}`);
    // A page number written any other way is a bad request, answered with the error page, not a crash or JSON.
    const bad = await get('/admin/subscribers?page=0x2');
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/^text\/html/);
    const second = listed(await (await get('/admin/subscribers?page=2')).text());
    expect(second).toHaveLength(seeded.total - 50);
    expect(second.filter((e) => first.includes(e))).toEqual([]);
  });

  it('searches by address substring, case-insensitively, with % and _ taken literally', async () => {
    expect(listed(await (await get('/admin/subscribers?q=LoveLace')).text())).toEqual([seeded.ada.email]);
    const lab = listed(await (await get('/admin/subscribers?q=%40lab.example.com')).text());
    expect(lab.length).toBeGreaterThan(5);
    expect(lab.every((e) => e!.endsWith('@lab.example.com'))).toBe(true);
    const none = await (await get('/admin/subscribers?q=%25')).text();
    expect(listed(none)).toEqual([]);
    expect(none).toContain('No subscriber matches “%”.');
  });

  it('filters by status, and by complaints, combined with a search', async () => {
    expect(listed(await (await get('/admin/subscribers?status=bounced')).text())).toEqual([seeded.bounced.email]);
    expect(listed(await (await get('/admin/subscribers?status=complained')).text())).toEqual([seeded.complained.email]);
    const pending = listed(await (await get('/admin/subscribers?status=pending&q=uni.example')).text());
    const expected = (
      svc.app.store.db.prepare(`SELECT email FROM subscribers WHERE status = 'pending' AND email LIKE '%uni.example%' ORDER BY id DESC`).all() as {
        email: string;
      }[]
    ).map((r) => r.email);
    expect(expected.length).toBeGreaterThan(0);
    expect(pending).toEqual(expected);
  });

  it("shows one subscriber's preferences, digests with the SMTP replies, bounces, complaints and feedback", async () => {
    const html = await (await get(`/admin/subscribers/${seeded.ada.id}`)).text();
    expect(html).toContain('07:00 Europe/London');
    expect(html).toContain('weekly, on Wednesday');
    expect(html).toContain('graph neural networks');
    expect(html).toContain('250 2.0.0 Ok: queued as 4F2A19C03B');
    expect(html).toContain('550 5.2.2 &lt;ada.lovelace@analytical.example&gt;: Recipient address rejected');
    expect(html).toContain('smtp; 552 5.2.2 Mailbox full');
    expect(html).toMatch(/more like this/);
    const complained = await (await get(`/admin/subscribers/${seeded.complained.id}`)).text();
    expect(complained).toContain('Yahoo!-Mail-Feedback/2.0');
    expect((await get('/admin/subscribers/999999')).status).toBe(404);
    expect((await get('/admin/subscribers/0x10')).status).toBe(404);
  });

  it('suppresses and unsuppresses with the same state the bounce processing uses', async () => {
    const id = seeded.ada.id;
    const res = await post(`/admin/subscribers/${id}/suppress`, { note: 'asked by phone' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/admin/subscribers/${id}?done=suppressed`);
    expect(row(id)).toMatchObject({ status: 'bounced', bounce_reason: 'suppressed by an admin: asked by phone' });
    expect(await (await get(`/admin/subscribers/${id}?done=suppressed`)).text()).toContain('is suppressed: no digest or confirmation goes to it');
    // Twice: nothing changes, and the page says so.
    expect((await post(`/admin/subscribers/${id}/suppress`, {})).headers.get('location')).toContain('done=unchanged');

    const back = await post(`/admin/subscribers/${id}/unsuppress`, {});
    expect(back.headers.get('location')).toBe(`/admin/subscribers/${id}?done=unsuppressed`);
    expect(row(id)).toMatchObject({ status: 'active', bounced_at: null, bounce_reason: null });
    // The bounce reports stay as history.
    expect(count('SELECT COUNT(*) AS n FROM bounces WHERE subscriber_id = ?', id)).toBe(1);
    // A complained address never becomes active again by an unsuppress.
    svc.app.store.db.prepare(`UPDATE subscribers SET status = 'bounced' WHERE id = ?`).run(seeded.complained.id);
    await post(`/admin/subscribers/${seeded.complained.id}/unsuppress`, {});
    expect(row(seeded.complained.id)!.status).toBe('unsubscribed');
  });

  it('refuses a signed-in form without its CSRF token, or from another origin', async () => {
    const id = seeded.ada.id;
    const cookie = { cookie: session, accept: 'text/html' };
    const page = await (await get(`/admin/subscribers/${id}`, cookie)).text();
    const csrf = csrfOf(page);
    expect(csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await post(`/admin/subscribers/${id}/suppress`, {}, cookie)).status).toBe(403);
    expect((await post(`/admin/subscribers/${id}/suppress`, { csrf: 'x'.repeat(43) }, cookie)).status).toBe(403);
    expect((await post(`/admin/subscribers/${id}/suppress`, { csrf }, { ...cookie, origin: 'https://evil.example' })).status).toBe(403);
    expect(row(id)!.status).toBe('active');
    // Chromium sends `Origin: null` from pages with Referrer-Policy: no-referrer; the token carries it.
    expect((await post(`/admin/subscribers/${id}/suppress`, { csrf }, { ...cookie, origin: 'null' })).status).toBe(303);
    expect(row(id)!.status).toBe('bounced');
    expect((await post(`/admin/subscribers/${id}/unsuppress`, { csrf }, { ...cookie, origin: svc.base })).status).toBe(303);
    expect(row(id)!.status).toBe('active');
  });

  it('erases a subscriber with all their data after the address is typed again', async () => {
    const s = svc.app.store.db.prepare(`SELECT id, email FROM subscribers WHERE email = ?`).get(seeded.ada.email) as { id: number; email: string };
    // A report that named the address but matched no row, and a send run aimed at it: both hold the address too.
    svc.app.store.db
      .prepare(
        `INSERT INTO bounces (subscriber_id, email, severity, status, diagnostic, source, received_at) VALUES (NULL, ?, 'hard', '5.1.1', 'x', 'text', '2026-12-01T00:00:00Z')`,
      )
      .run(s.email.toUpperCase());
    svc.app.store.db
      .prepare(
        `INSERT INTO send_runs (id, trigger, mode, target, dry_run, status, started_at) VALUES ('run-ada', 'cli', 'to', ?, 0, 'done', '2026-12-01T00:00:00Z')`,
      )
      .run(s.email);
    // The embedded outbox stored mail for the address (and for someone else): the erase takes theirs, only theirs.
    const outboxMessenger = createOutboxMessenger(svc.app.config, silentLogger);
    const store = (to: string, n: number) =>
      outboxMessenger.sendRaw({
        envelope: { from: 'digest@example.org', to: [to] },
        raw: Buffer.from(`Subject: d${n}\r\nTo: ${to}\r\n\r\nhello\r\n`),
        messageId: `<m${n}@x>`,
      });
    await store(s.email, 1);
    await store(s.email.toUpperCase(), 2);
    await store('someone@else.example', 3);
    const outbox = createOutbox(svc.app.config.OUTBOX_DIR);
    const before = (await outbox.list({ perPage: 1000 })).entries.map((e) => e.to);
    expect(before.filter((t) => t.toLowerCase() === s.email.toLowerCase())).toHaveLength(2);

    const confirm = await (await get(`/admin/subscribers/${s.id}/erase`)).text();
    expect(confirm).toContain('Erase this subscriber?');
    expect(confirm).toMatch(/Digests sent or queued<\/span> <span class="subs-count">2</);

    const wrong = await post(`/admin/subscribers/${s.id}/erase`, { confirm_email: 'someone@else.example' });
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toContain('Type the address exactly as shown');
    expect(row(s.id)).toBeDefined();

    const res = await post(`/admin/subscribers/${s.id}/erase`, { confirm_email: ` ${s.email.toUpperCase()} ` });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/subscribers?done=erased');
    expect(row(s.id)).toBeUndefined();
    for (const table of ['deliveries', 'bounces', 'complaints', 'feedback', 'confirm_tokens', 'confirmation_queue', 'sent_papers']) {
      expect(count(`SELECT COUNT(*) AS n FROM ${table} WHERE subscriber_id = ?`, s.id), table).toBe(0);
    }
    expect(count('SELECT COUNT(*) AS n FROM bounces WHERE email = ? COLLATE NOCASE', s.email)).toBe(0);
    expect(svc.app.store.db.prepare(`SELECT target FROM send_runs WHERE id = 'run-ada'`).get()).toEqual({ target: null });
    const after = (await outbox.list({ perPage: 1000 })).entries.map((e) => e.to.toLowerCase());
    expect(after).not.toContain(s.email.toLowerCase());
    expect(after).toContain('someone@else.example');
    expect(after).toHaveLength(before.length - 2);
    expect(await (await get('/admin/subscribers?done=erased')).text()).toContain('The subscriber and all their data are erased.');
    expect((await get(`/admin/subscribers/${s.id}`)).status).toBe(404);
  });

  it('exports the same CSV as `paperboy subscribers export`, all or one status', async () => {
    for (const status of [undefined, 'active']) {
      const res = await get(`/admin/subscribers.csv${status ? `?status=${status}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(res.headers.get('content-disposition')).toMatch(new RegExp(`^attachment; filename="subscribers-${status ?? 'all'}-\\d{4}-\\d{2}-\\d{2}\\.csv"$`));
      const body = await res.text();
      expect(body.split('\r\n')[0]).toBe(EXPORT_COLUMNS.join(','));
      const cli = runCli(['subscribers', 'export', ...(status ? ['--status', status] : [])], { DATA_DIR: dir, FETCH_ENABLED: 'false' });
      expect(cli.stderr).toBe('');
      expect(body).toBe(cli.stdout);
    }
    expect((await get('/admin/subscribers.csv?status=nobody')).status).toBe(400);
  });

  const upload = (csv: string, fields: Record<string, string> = {}, headers: Record<string, string> = bearer) => {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.set(k, v);
    form.set('file', new Blob([csv], { type: 'text/csv' }), 'list.csv');
    return fetch(`${svc.base}/admin/subscribers/import`, { method: 'POST', headers, body: form });
  };

  it('imports a CSV from the browser through the CLI path: added, skipped and rejected rows with reasons', async () => {
    const before = count('SELECT COUNT(*) AS n FROM subscribers');
    const csv = [
      'email,frequency,kind,topics',
      'new.one@example.net,weekly,new,"diffusion, robots"',
      'not-an-address,daily,trending,',
      `${seeded.bounced.email.toUpperCase()},daily,trending,`,
      'new.two@example.net,hourly,trending,',
      'new.three@example.net,,,',
      'NEW.ONE@example.net,daily,new,',
    ].join('\r\n');
    const res = await upload(csv);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toMatch(/<span class="subs-stat-n">2<\/span><span class="subs-stat-label">added \(pending\)<\/span>/);
    expect(html).toMatch(/<span class="subs-stat-n">2<\/span><span class="subs-stat-label">skipped<\/span>/);
    expect(html).toMatch(/<span class="subs-stat-n">2<\/span><span class="subs-stat-label">rejected<\/span>/);
    expect(html).toContain('already in the list');
    expect(html).toContain('appears earlier in the file');
    expect(html).toContain('frequency: Choose daily, weekly or paused.');
    expect(html).toMatch(/<td data-label="Line" class="subs-when">3<\/td><td class="subs-email">not-an-address<\/td>/);
    expect(count('SELECT COUNT(*) AS n FROM subscribers')).toBe(before + 2);
    expect(svc.app.store.db.prepare(`SELECT status, frequency, kind, topics, source FROM subscribers WHERE email = 'new.one@example.net'`).get()).toEqual({
      status: 'pending',
      frequency: 'weekly',
      kind: 'new',
      topics: '["diffusion","robots"]',
      source: 'import',
    });
    expect(count(`SELECT COUNT(*) AS n FROM confirmation_queue q JOIN subscribers s ON s.id = q.subscriber_id WHERE s.email LIKE 'new.%'`)).toBe(2);

    const confirmed = await upload('moved.list@example.net\r\n', { confirmed: 'yes' });
    expect(await confirmed.text()).toContain('added (active)');
    expect(svc.app.store.db.prepare(`SELECT status FROM subscribers WHERE email = 'moved.list@example.net'`).get()).toEqual({ status: 'active' });
  });

  it('refuses a malformed CSV as a whole with a clear error, and changes nothing', async () => {
    const before = count('SELECT COUNT(*) AS n FROM subscribers');
    const broken = await upload('email,topics\r\nfine.row@example.net,ok\r\nbroken@example.net,"never closed\r\nlast@example.net,x\r\n');
    expect(broken.status).toBe(400);
    const html = await broken.text();
    expect(html).toContain('role="alert"');
    expect(html).toContain('The file could not be read: line 3: a quoted field starts on this line and is never closed; nothing was imported');
    const headerless = await upload('name,city\r\nAda,London\r\n');
    expect(headerless.status).toBe(400);
    expect(await headerless.text()).toContain('the file has no &quot;email&quot; column');
    const empty = await upload('\r\n');
    expect(empty.status).toBe(400);
    expect(await empty.text()).toContain('The file is empty');
    expect(count('SELECT COUNT(*) AS n FROM subscribers')).toBe(before);
    expect(count(`SELECT COUNT(*) AS n FROM subscribers WHERE email = 'fine.row@example.net'`)).toBe(0);
  });

  it('refuses a signed-in import without its CSRF token', async () => {
    const cookie = { cookie: session, accept: 'text/html' };
    const csrf = csrfOf(await (await get('/admin/subscribers/import', cookie)).text());
    expect((await upload('sneaky@example.net\r\n', {}, cookie)).status).toBe(403);
    expect(count(`SELECT COUNT(*) AS n FROM subscribers WHERE email = 'sneaky@example.net'`)).toBe(0);
    expect((await upload('welcome@example.net\r\n', { csrf }, cookie)).status).toBe(200);
    expect(count(`SELECT COUNT(*) AS n FROM subscribers WHERE email = 'welcome@example.net'`)).toBe(1);
  });
});
