// Issue 14: every admin route sits behind the one guard of src/admin/auth.ts. Walks every /admin* route the real
// service registers, so a route added without the guard fails here; and checks the admin code and templates live
// in one folder each, with one place that reads the Authorization header.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Service } from '../src/service-runner.js';
import { tempDir } from './helpers/tmp.js';
import { startTestService, type RunningService } from './helpers/running-service.js';

const TOKEN = 'admin-token-for-the-guard-walk';

// Open by design: the way in and the way out. Every other /admin* route must be guarded.
const PUBLIC_ADMIN = new Set(['GET /admin/login', 'HEAD /admin/login', 'POST /admin/login', 'POST /admin/logout']);

interface RouteEntry {
  method: string;
  path: string;
}

/** Reads fastify's printRoutes tree (commonPrefix: false): each level indents 4 characters, a node's label is its path piece. */
function parseRouteTree(tree: string): RouteEntry[] {
  const stack: string[] = [];
  const out: RouteEntry[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([\s│├└─]*?)(?:├── |└── )(.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    if (m[3]) for (const method of m[3].split(', ')) out.push({ method, path: stack.join('') });
  }
  return out;
}

describe('the admin guard on the running service', () => {
  const dir = tempDir();
  let service: Service;
  let base: string;
  let running: RunningService | undefined;
  let routes: RouteEntry[];

  beforeAll(async () => {
    // The walk sends a wrong token to every route: far more than the lockout allows one address (that has its own test).
    running = await startTestService(dir, { ADMIN_TOKEN: TOKEN, ADMIN_LOGIN_MAX_FAILURES: '1000' });
    ({ service, base } = running);
    routes = parseRouteTree(service.web.server.printRoutes({ commonPrefix: false })).filter((r) => /^\/admin(?:\/|$)/.test(r.path));
  });
  afterAll(() => running?.stop());

  const call = (r: RouteEntry, headers: Record<string, string> = {}) => {
    const url = base + r.path.replace(/:[^/]+/g, 'no-such-id').replace(/\*/g, 'x');
    // A body no admin route accepts as a request to act (POST /admin/send answers 400, starts no run).
    const body = r.method === 'GET' || r.method === 'HEAD' ? undefined : JSON.stringify({ mode: 'not-a-mode' });
    return fetch(url, { method: r.method, redirect: 'manual', headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers }, body });
  };

  it('finds the admin routes the service registers (the walk below is not empty)', () => {
    const keys = new Set(routes.map((r) => `${r.method} ${r.path}`));
    for (const k of [
      'GET /admin',
      'POST /admin/send',
      'GET /admin/send/:id',
      'GET /admin/outbox',
      'GET /admin/outbox/:id',
      'GET /admin/outbox/:id/raw',
      'GET /admin/preview',
      ...PUBLIC_ADMIN,
    ]) {
      expect(keys, k).toContain(k);
    }
  });

  it('refuses every guarded /admin* route without credentials or with a wrong token: 401, the Bearer challenge, the login form for browsers', async () => {
    const guarded = routes.filter((r) => !PUBLIC_ADMIN.has(`${r.method} ${r.path}`));
    expect(guarded.length).toBeGreaterThanOrEqual(7);
    for (const r of guarded) {
      const label = `${r.method} ${r.path}`;
      for (const headers of [
        {},
        { authorization: 'Bearer wrong-token-wrong-token' },
        { authorization: `Basic ${TOKEN}` },
        { cookie: 'paperboy_admin=1.forged' },
      ] as Record<string, string>[]) {
        const res = await call(r, headers);
        expect(res.status, `${label} ${JSON.stringify(headers)}`).toBe(401);
        expect(res.headers.get('www-authenticate'), label).toBe('Bearer realm="paperboy admin"');
        await res.arrayBuffer();
      }
      if (r.method === 'HEAD') continue;
      const browser = await call(r, { accept: 'text/html' });
      expect(browser.status, label).toBe(401);
      const page = await browser.text();
      expect(page, label).toContain('action="/admin/login"');
    }
  });

  it('lets the right Bearer token and a signed-in session through every guarded /admin* route', async () => {
    const login = await fetch(`${base}/admin/login`, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ token: TOKEN, next: '/admin' }) });
    expect(login.status).toBe(303);
    const session = /^(paperboy_admin=[^;]+)/.exec(login.headers.get('set-cookie') ?? '')?.[1];
    expect(session).toBeDefined();
    for (const r of routes.filter((r) => !PUBLIC_ADMIN.has(`${r.method} ${r.path}`))) {
      for (const headers of [{ authorization: `Bearer ${TOKEN}` }, { cookie: session! }] as Record<string, string>[]) {
        const res = await call(r, headers);
        await res.arrayBuffer();
        expect([401, 403, 503], `${r.method} ${r.path} ${Object.keys(headers)[0]}`).not.toContain(res.status);
        expect(res.status, `${r.method} ${r.path}`).toBeLessThan(500);
      }
    }
  });
});

describe('the admin area in one place', () => {
  const root = join(import.meta.dirname, '..');
  const sources = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(d, e.name)) : e.name.endsWith('.ts') ? [join(d, e.name)] : []));
  const files = sources(join(root, 'src')).map((f) => ({ path: relative(root, f), text: readFileSync(f, 'utf8') }));

  it('registers /admin routes only from src/admin/', () => {
    const outside = files.filter(
      (f) => !f.path.startsWith(join('src', 'admin')) && /\.(?:get|post|put|patch|delete|all|route)\s*(?:<[^>]*>)?\(\s*['"`]\/admin/.test(f.text),
    );
    expect(outside.map((f) => f.path)).toEqual([]);
  });

  it('reads the Authorization header in one module, src/admin/auth.ts', () => {
    const readers = files.filter((f) => /headers\s*(?:\.authorization\b|\[\s*['"]authorization['"]\s*\])/i.test(f.text)).map((f) => f.path);
    expect(readers).toEqual([join('src', 'admin', 'auth.ts')]);
  });

  it('keeps every admin template in templates/admin/', () => {
    expect(existsSync(join(root, 'templates', 'web', 'admin'))).toBe(false);
    for (const t of ['admin-layout', 'admin-login', 'admin-not-found', 'dashboard', 'outbox-list', 'outbox-message', 'preview']) {
      expect(existsSync(join(root, 'templates', 'admin', `${t}.hbs`)), t).toBe(true);
    }
    // No admin markup left in another area's template (the preview used to be a branch of the archive page).
    const templates = (d: string): string[] =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? templates(join(d, e.name)) : [join(d, e.name)]));
    const elsewhere = templates(join(root, 'templates'))
      .filter((f) => !relative(root, f).startsWith(join('templates', 'admin')))
      .filter((f) => /\/admin\b|\{\{#if preview\}\}|\bpreview\./.test(readFileSync(f, 'utf8')))
      .map((f) => relative(root, f));
    expect(elsewhere).toEqual([]);
  });
});
