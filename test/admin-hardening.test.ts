// Issue 13 defect 10 (a–d) against the running service: admin login lockout, CRLF in POST /admin/send's `to`,
// canonical decimal numbers in URLs and queries, and config errors that never print a secret (the real bin).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import type { App } from '../src/app.js';
import { freePort } from './helpers/free-port.js';
import { tempDir } from './helpers/tmp.js';
import { startTestService, type RunningService } from './helpers/running-service.js';

const TOKEN = 'admin-token-for-hardening-test';
const MAX_FAILURES = 5;

describe('the running service', () => {
  const dir = tempDir();
  let app: App;
  let base: string;
  let running: RunningService | undefined;

  beforeAll(async () => {
    running = await startTestService(dir, { ADMIN_TOKEN: TOKEN, ADMIN_LOGIN_MAX_FAILURES: String(MAX_FAILURES), ADMIN_LOGIN_LOCKOUT_MINUTES: '15' });
    ({ app, base } = running);
  });
  afterAll(() => running?.stop());

  const login = (token: string) =>
    fetch(`${base}/admin/login`, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ token, next: '/admin/send' }) });

  it('answers 400 to POST /admin/send with a CR/LF in "to", and queues nothing', async () => {
    const runsBefore = app.store.db.prepare('SELECT COUNT(*) FROM send_runs').pluck().get();
    for (const to of ['reader@example.org\r\nBcc: victim@example.org', 'reader@example.org\nX: y', 'a\r\n@example.org']) {
      const res = await fetch(`${base}/admin/send`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ mode: 'to', to }),
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(/"to" must be one email address/);
    }
    expect(app.store.db.prepare('SELECT COUNT(*) FROM send_runs').pluck().get()).toBe(runsBefore);
    expect(app.store.db.prepare('SELECT COUNT(*) FROM deliveries').pluck().get()).toBe(0);
  });

  // Last of the admin calls: the lockout covers Bearer tokens too (issue 17), so the address stays locked out after it.
  it('locks a client out of /admin/login after ADMIN_LOGIN_MAX_FAILURES wrong tokens, even for the right one', async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 60; i++) {
      const res = await login(`wrong-token-number-${i}`);
      statuses.push(res.status);
      if (res.status === 429) retryAfter ??= res.headers.get('retry-after');
      await res.arrayBuffer();
    }
    expect(statuses.slice(0, MAX_FAILURES)).toEqual(Array(MAX_FAILURES).fill(401));
    expect(statuses.slice(MAX_FAILURES)).toEqual(Array(60 - MAX_FAILURES).fill(429));
    // 15 minutes, in seconds, give or take the time the loop took.
    expect(Number(retryAfter)).toBeGreaterThan(14 * 60);
    expect(Number(retryAfter)).toBeLessThanOrEqual(15 * 60);
    // A locked-out address learns nothing from a right guess: it is refused the same way, and gets no session.
    const right = await login(TOKEN);
    expect(right.status).toBe(429);
    expect(right.headers.get('set-cookie')).toBeNull();
    expect(await right.text()).toMatch(/Too many wrong tokens/);
  });

  it('takes only canonical decimal paper ids and limits', async () => {
    expect(app.store.db.prepare('SELECT COUNT(*) FROM papers WHERE id = 16').pluck().get()).toBe(1);
    const ok = await fetch(`${base}/papers/16`);
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
    for (const alias of ['0x10', '2e2', '016', '+16', '16.0', '1e1', '0b10000', ' 16']) {
      const res = await fetch(`${base}/papers/${encodeURIComponent(alias)}`);
      expect(res.status, `/papers/${alias}`).toBe(404);
      await res.arrayBuffer();
    }
    const good = await fetch(`${base}/api/papers?limit=16`);
    expect(good.status).toBe(200);
    expect(((await good.json()) as { papers: unknown[] }).papers).toHaveLength(16);
    for (const alias of ['0x10', '2e1', '016', '16.0', '+16']) {
      const res = await fetch(`${base}/api/papers?limit=${encodeURIComponent(alias)}`);
      expect(res.status, `limit=${alias}`).toBe(400);
      await res.arrayBuffer();
    }
  });
});

describe('a config error from the real bin', () => {
  it('names the bad secret keys and never prints their values', async () => {
    const dir = tempDir();
    const adminToken = 'short-admin-tok'; // 15 characters: one short
    const secretKey = 'a-secret-key-that-is-too-short'; // 30 of 32
    const port = await freePort();
    const child = spawn(process.execPath, ['bin/paperboy.js', 'serve'], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        DATA_DIR: dir,
        FETCH_ENABLED: 'false',
        PORT: String(port),
        INBOUND_SMTP_ENABLED: 'false',
        ADMIN_TOKEN: adminToken,
        SECRET_KEY: secretKey,
      },
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    clearTimeout(timer);
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expect(stderr).toMatch(/ADMIN_TOKEN/);
    expect(stderr).toMatch(/SECRET_KEY/);
    for (const secret of [adminToken, secretKey]) {
      expect(stderr).not.toContain(secret);
      expect(stdout).not.toContain(secret);
    }
  });
});
