// Issue 17: the Send page's form endpoints and the audience, over HTTP against the running service and a real SMTP server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers/tmp.js';
import { startTestService, type RunningService } from './helpers/running-service.js';
import { startSmtpReceiver, type SmtpReceiver } from './helpers/smtp-receiver.js';
import { insertSubscribers } from './helpers/delivery-fixtures.js';

const TOKEN = 'admin-token-for-the-send-page-test';
const auth = { authorization: `Bearer ${TOKEN}` };

let smtp: SmtpReceiver;
let running: RunningService;
let base: string;

beforeAll(async () => {
  smtp = await startSmtpReceiver();
  running = await startTestService(tempDir(), { ADMIN_TOKEN: TOKEN, MAIL_TRANSPORT: 'smtp', SMTP_URL: smtp.url });
  base = running.base;
  const emails = ['day1@example.org', 'day2@example.org', 'week1@example.org'];
  insertSubscribers(running.app.store, 3, (i) => ({ email: emails[i - 1]!, frequency: i === 3 ? 'weekly' : 'daily' }));
});
afterAll(async () => {
  await running?.stop();
  await smtp?.close();
});

const runs = () => running.app.store.db.prepare('SELECT COUNT(*) FROM send_runs').pluck().get() as number;
const form = (path: string, fields: Record<string, string>) =>
  fetch(`${base}${path}`, { method: 'POST', redirect: 'manual', headers: { ...auth, accept: 'text/html' }, body: new URLSearchParams(fields) });

describe('the Send page over HTTP', () => {
  it('refuses a confirm without the dry run’s key, or with fields the form does not have, and starts nothing', async () => {
    const before = runs();
    const noKey = await form('/admin/send/confirm', { kind: 'any', audience: 'all', timing: 'now' });
    expect(noKey.status).toBe(400);
    expect(await noKey.text()).toContain('Start with a dry run');
    const junk = await form('/admin/send/confirm', { mode: 'force', key: 'k-1' });
    expect(junk.status).toBe(400);
    await junk.arrayBuffer();
    expect(runs()).toBe(before);
    expect(smtp.received).toHaveLength(0);
  });

  it("answers a browser's error on the Send page's forms with the site's page, and the API's with JSON", async () => {
    const big = 'x'.repeat(100 * 1024);
    const page = await form('/admin/send/dry-run', { kind: big });
    expect(page.status).toBe(413);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('<link rel="stylesheet" href="/static/style.css');
    const api = await fetch(`${base}/admin/send`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: big }),
    });
    expect(api.status).toBe(413);
    expect(api.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('says what is wrong with a test address, on the form', async () => {
    const res = await form('/admin/send/dry-run', { kind: 'trending', audience: 'test', timing: 'now', to: 'not an address' });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('That test address does not work');
    expect(html).toContain('action="/admin/send/dry-run"');
  });

  it('lists the audience in the dry run: weekly only', async () => {
    const res = await form('/admin/send/dry-run', { kind: 'any', audience: 'weekly', timing: 'now' });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('week1@example.org');
    expect(html).not.toContain('day1@example.org');
    expect(html).toMatch(/data-testid="would-send">1</);
    expect(smtp.received).toHaveLength(0);
  });

  it('POST /admin/send with frequency sends that audience only, and the run says so', async () => {
    const res = await fetch(`${base}/admin/send`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': 'weekly-only-1' },
      body: JSON.stringify({ mode: 'force', frequency: 'weekly' }),
    });
    expect(res.status).toBe(202);
    const { runId } = (await res.json()) as { runId: string };
    const [mail] = await smtp.waitFor(1);
    expect(mail!.to).toEqual(['week1@example.org']);
    for (let i = 0; i < 100; i++) {
      const r = (await (await fetch(`${base}/admin/send/${runId}`, { headers: auth })).json()) as { status: string };
      if (r.status !== 'running') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const report = (await (await fetch(`${base}/admin/send/${runId}`, { headers: auth })).json()) as { frequency: string; status: string; planned: number };
    expect(report).toMatchObject({ frequency: 'weekly', status: 'done', planned: 1 });
    expect(smtp.received).toHaveLength(1);
    const page = await fetch(`${base}/admin/runs/${runId}`, { headers: { ...auth, accept: 'text/html' } });
    expect(await page.text()).toContain('force · weekly');
  });
});

describe('paperboy send --frequency (the CLI makes the same runs)', () => {
  it('dry-runs weekly subscribers only, and names the flag on a bad value', async () => {
    const { runCli } = await import('./helpers/cli.js');
    const { loadConfig } = await import('../src/config.js');
    const { openStore } = await import('../src/db/open.js');
    const dir = tempDir();
    const env = { DATA_DIR: dir, FETCH_ENABLED: 'false' };
    expect(runCli(['ingest', 'seeds'], env).code).toBe(0);
    const store = openStore(loadConfig(env).DATABASE_PATH);
    const emails = ['cli.day@example.org', 'cli.week@example.org'];
    insertSubscribers(store, 2, (i) => ({ email: emails[i - 1]!, frequency: i === 2 ? 'weekly' : 'daily' }));
    store.close();
    const dry = runCli(['send', '--force', '--frequency', 'weekly', '--dry-run'], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('cli.week@example.org');
    expect(dry.stdout).not.toContain('cli.day@example.org');
    const bad = runCli(['send', '--frequency', 'monthly'], env);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--frequency.*expected one of daily, weekly/);
  }, 40_000);
});
