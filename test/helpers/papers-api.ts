// A local stand-in for the daily-papers and arXiv APIs on port 0: it answers in their documented formats from what a
// test puts in it (a day's items, an Atom feed), pages like the real one (`p`, `limit`), and plays the faults a test
// asks for (429, 5xx, a timeout, malformed JSON, a server that ignores paging). Every request is recorded.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export type Fault = '429' | '500' | 'timeout' | 'bad-json' | 'not-array';

export interface RecordedRequest {
  path: string;
  query: URLSearchParams;
  at: number;
}

export interface PapersApi {
  url: string;
  requests: RecordedRequest[];
  /** The full list of items for a date; the server pages it. */
  days: Map<string, unknown[]>;
  /** Faults for the next daily-papers requests, one per request, in order. */
  dailyFaults: Fault[];
  /** Faults for the next arXiv requests. */
  arxivFaults: Fault[];
  /** Retry-After (seconds) sent with a 429. */
  retryAfter: string | null;
  /** Answer every `p` with the first page (a server that ignores paging). */
  ignorePaging: boolean;
  /** The Atom body for an arXiv query (default: an empty feed). */
  atom: (query: URLSearchParams) => string;
  close(): Promise<void>;
}

export const EMPTY_FEED = '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom"><title>empty</title></feed>\n';

export async function startPapersApi(): Promise<PapersApi> {
  const sockets = new Set<Socket>();
  const api: PapersApi = {
    url: '',
    requests: [],
    days: new Map(),
    dailyFaults: [],
    arxivFaults: [],
    retryAfter: null,
    ignorePaging: false,
    atom: () => EMPTY_FEED,
    close: async () => {},
  };

  function fault(res: ServerResponse, f: Fault): boolean {
    if (f === 'timeout') return true; // never answer; the client's timeout ends it
    if (f === '429') res.writeHead(429, { 'content-type': 'text/plain', ...(api.retryAfter ? { 'retry-after': api.retryAfter } : {}) }).end('slow down');
    else if (f === '500') res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error');
    else if (f === 'bad-json') res.writeHead(200, { 'content-type': 'application/json' }).end('[{"paper": {"id": "2412.0');
    else res.writeHead(200, { 'content-type': 'application/json' }).end('{"error": "not a list"}');
    return true;
  }

  function handle(req: IncomingMessage, res: ServerResponse) {
    const u = new URL(req.url ?? '/', 'http://x');
    api.requests.push({ path: u.pathname, query: u.searchParams, at: performance.now() });
    if (u.pathname === '/api/daily_papers') {
      const f = api.dailyFaults.shift();
      if (f) return fault(res, f);
      const items = api.days.get(u.searchParams.get('date') ?? '') ?? [];
      const limit = Number(u.searchParams.get('limit') ?? 50);
      const p = api.ignorePaging ? 0 : Number(u.searchParams.get('p') ?? 0);
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(items.slice(p * limit, (p + 1) * limit)));
      return;
    }
    if (u.pathname === '/api/query') {
      const f = api.arxivFaults.shift();
      if (f) return fault(res, f);
      res.writeHead(200, { 'content-type': 'application/atom+xml; charset=utf-8' }).end(api.atom(u.searchParams));
      return;
    }
    res.writeHead(404).end('not found');
  }

  const server = createServer(handle);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  api.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  api.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return api;
}

/** One daily-papers item in the documented shape; `over` replaces fields of the inner `paper`. */
export function dailyItem(id: string, title: string, over: Record<string, unknown> = {}, outer: Record<string, unknown> = {}): unknown {
  return {
    paper: {
      id,
      title,
      summary: `We study ${title}. It works well on every benchmark we tried. Code and data are released.`,
      authors: [
        { name: 'Ada Lovelace', hidden: false },
        { name: 'Alan Turing', hidden: false },
      ],
      publishedAt: '2024-12-02T10:00:00.000Z',
      submittedOnDailyAt: '2024-12-03T00:00:00.000Z',
      upvotes: 10,
      ...over,
    },
    publishedAt: '2024-12-03T08:00:00.000Z',
    title,
    numComments: 1,
    ...outer,
  };
}
