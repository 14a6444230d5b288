// The error answers Fastify gave as bare JSON even to a browser (issue 17): 431 (headers too large, refused by Node
// before any route) and 503 while the server closes; and bad-link 404s, which answered HTML even to JSON clients.
// All over real sockets against a listening server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { startTestService, type RunningService } from './helpers/running-service.js';
import { startHarness, type Harness } from './helpers/web-harness.js';
import { tempDir } from './helpers/tmp.js';

/** Everything the server writes on one connection until it closes it. */
function collect(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    socket.on('data', (b: Buffer) => (out += b.toString('utf8')));
    socket.on('error', (e) => (out ? resolve(out) : reject(e)));
    socket.on('close', () => resolve(out));
  });
}

function open(base: string): Promise<Socket> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), hostname, () => resolve(s));
    s.on('error', reject);
  });
}

async function raw(base: string, request: string): Promise<string> {
  const s = await open(base);
  const done = collect(s);
  s.write(request);
  return done;
}

const split = (response: string) => {
  const at = response.indexOf('\r\n\r\n');
  return { head: response.slice(0, at), body: response.slice(at + 4) };
};

function expectSitePage(response: string, status: number, heading: RegExp) {
  const { head, body } = split(response);
  expect(head).toMatch(new RegExp(`^HTTP/1.1 ${status} `));
  expect(head).toMatch(/\r\ncontent-type: text\/html/i);
  expect(head).toMatch(/\r\ncontent-security-policy: [^\r]*style-src 'self'/i);
  expect(body).toContain('<link rel="stylesheet" href="/static/style.css');
  expect(body).toContain('<header class="site-header">');
  expect(body).toMatch(heading);
  expect(body).not.toMatch(/"statusCode"/);
}

function expectJson(response: string, status: number, error: string) {
  const { head, body } = split(response);
  expect(head).toMatch(new RegExp(`^HTTP/1.1 ${status} `));
  expect(head).toMatch(/\r\ncontent-type: application\/json/i);
  expect(JSON.parse(body)).toEqual({ error, message: expect.any(String) });
}

const BIG = 'x'.repeat(20_000); // over Node's 16 KiB header limit

describe('431 and bad links, from the running service', () => {
  const dir = tempDir();
  let s: RunningService;
  beforeAll(async () => {
    s = await startTestService(dir);
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('431: the site page for a browser, JSON for a JSON client or the API', async () => {
    const browser = await raw(s.base, `GET / HTTP/1.1\r\nHost: x\r\nAccept: text/html,*/*;q=0.8\r\nCookie: big=${BIG}\r\n\r\n`);
    expectSitePage(browser, 431, /sent too much/);
    const api = await raw(s.base, `GET /feed.xml HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\nCookie: big=${BIG}\r\n\r\n`);
    expectJson(api, 431, 'request_header_fields_too_large');
    const papers = await raw(s.base, `GET /api/papers HTTP/1.1\r\nHost: x\r\nX-Big: ${BIG}\r\n\r\n`);
    expectJson(papers, 431, 'request_header_fields_too_large');
  });

  it('an invalid or expired link answers JSON to a JSON client and the page to a browser', async () => {
    const bad = 'A'.repeat(43);
    for (const path of [`/preferences/${bad}`, `/unsubscribe/${bad}`, `/confirm/${bad}`]) {
      const json = await fetch(s.base + path, { headers: { accept: 'application/json' } });
      expect(json.status, path).toBe(404);
      expect(json.headers.get('content-type'), path).toMatch(/^application\/json/);
      expect(await json.json()).toEqual({ error: 'not_found', message: expect.stringMatching(/not valid|copied only in part/) });
      const page = await fetch(s.base + path, { headers: { accept: 'text/html' } });
      expect(page.status, path).toBe(404);
      expect(await page.text()).toContain('This link is not valid');
    }
    const post = await fetch(`${s.base}/unsubscribe/${bad}`, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(post.status).toBe(404);
    expect(post.headers.get('content-type')).toMatch(/^application\/json/);
  });
});

describe('503 while the server closes', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close().catch(() => {});
  });

  it('a request arriving while it drains gets the site page (browser) or JSON (API), with Connection: close', async () => {
    // Two requests in flight (bodies not yet sent in full) hold their connections open through close().
    const started = [await open(h.url), await open(h.url)];
    const answers = started.map(collect);
    const head = 'POST /subscribe HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 30\r\n\r\n';
    for (const sock of started) sock.write(`${head}email=someone%40example`);
    await new Promise((r) => setTimeout(r, 200));
    const closing = h.app.close();
    await new Promise((r) => setTimeout(r, 200));
    // The rest of each body, and a pipelined request that now arrives at a closing server.
    started[0]!.write('.org&frequency=\r\n'.slice(0, 30 - 'email=someone%40example'.length) + 'GET / HTTP/1.1\r\nHost: x\r\nAccept: text/html\r\n\r\n');
    started[1]!.write('.org&frequency=\r\n'.slice(0, 30 - 'email=someone%40example'.length) + 'GET /api/papers HTTP/1.1\r\nHost: x\r\n\r\n');
    const [browser, api] = await Promise.all(answers);
    await closing;
    const second = (all: string) => all.slice(all.indexOf('HTTP/1.1', 10));
    expectSitePage(second(browser!), 503, /restarting/);
    expect(split(second(browser!)).head).toMatch(/\r\nconnection: close/i);
    expect(split(second(browser!)).head).toMatch(/\r\nretry-after: 5/i);
    expectJson(second(api!), 503, 'unavailable');
  });
});
