// Owns how paper sources talk HTTP: one GET with a timeout, retried with backoff on what may pass (no answer,
// 429, 5xx, a timeout, a body that does not parse), paced where a source asks for it, stopped by an AbortSignal.

export type FetchErrorKind = 'unreachable' | 'timeout' | 'http' | 'bad-body' | 'aborted';

/** Why a source could not be read; `message` is what the log and the dashboard show. */
export class FetchError extends Error {
  constructor(
    readonly kind: FetchErrorKind,
    message: string,
    readonly status: number | null = null,
    /** A 429's Retry-After, in ms. */
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
    this.name = 'FetchError';
  }
  /** Requests made before giving up (set by getWithRetry). */
  attempts = 1;
  /** 4xx other than 429 means the request itself is wrong: asking again gives the same answer. */
  get retryable(): boolean {
    return this.kind !== 'aborted' && !(this.kind === 'http' && this.status !== null && this.status !== 429 && this.status < 500);
  }
}

export interface HttpDeps {
  /** Per attempt. */
  timeoutMs: number;
  /** Attempts after the first. */
  retries: number;
  /** Delay before retry n (1-based). */
  backoffMs(retry: number): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  fetchImpl: typeof fetch;
  signal?: AbortSignal;
  userAgent: string;
}

/** Answers larger than this are refused: 10,000 papers with long abstracts are about 25 MB. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;
/** A server's Retry-After is followed up to this long; beyond it, the next scheduled fetch tries again. */
const MAX_RETRY_AFTER_MS = 120_000;

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new FetchError('aborted', 'stopped'));
    const t = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort() {
      clearTimeout(t);
      reject(new FetchError('aborted', 'stopped'));
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function defaultHttpDeps(over: Partial<HttpDeps> = {}): HttpDeps {
  return {
    timeoutMs: 20_000,
    retries: 2,
    // 1 s, 3 s (then 9 s …): a briefly busy server gets time; one that is down costs a fetch ~4 s in the background, and
    // the next scheduled fetch is the retry after that.
    backoffMs: (n) => 1000 * 3 ** (n - 1),
    sleep: abortableSleep,
    fetchImpl: globalThis.fetch,
    userAgent: 'paperboy (self-hosted research digest)',
    ...over,
  };
}

const duration = (ms: number) => (ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`);

function describeNetworkError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? (err as { code?: string }).code;
  const msg = cause?.message ?? (err as Error).message ?? String(err);
  return code && !msg.includes(code) ? `${code}: ${msg}` : msg;
}

function retryAfter(h: string | null): number | null {
  if (!h) return null;
  const secs = Number(h);
  if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
  const at = Date.parse(h);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}

async function once(url: string, deps: HttpDeps): Promise<string> {
  const timeout = AbortSignal.timeout(deps.timeoutMs);
  const signal = deps.signal ? AbortSignal.any([deps.signal, timeout]) : timeout;
  let res: Response;
  try {
    res = await deps.fetchImpl(url, { signal, headers: { 'user-agent': deps.userAgent, accept: 'application/json, application/atom+xml;q=0.9, */*;q=0.5' } });
  } catch (err) {
    if (deps.signal?.aborted) throw new FetchError('aborted', 'stopped');
    if (timeout.aborted) throw new FetchError('timeout', `no answer within ${duration(deps.timeoutMs)}`);
    throw new FetchError('unreachable', `unreachable (${describeNetworkError(err)})`);
  }
  try {
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw new FetchError(
        'http',
        `HTTP ${res.status}${res.statusText ? ' ' + res.statusText : ''}`,
        res.status,
        res.status === 429 ? retryAfter(res.headers.get('retry-after')) : null,
      );
    }
    const declared = Number(res.headers.get('content-length') ?? 0);
    if (declared > MAX_BODY_BYTES) throw new FetchError('bad-body', `answer too large (${declared} bytes)`);
    const buf = Buffer.from(await res.arrayBuffer());
    if (buf.length > MAX_BODY_BYTES) throw new FetchError('bad-body', `answer too large (${buf.length} bytes)`);
    return buf.toString('utf8');
  } catch (err) {
    if (err instanceof FetchError) throw err;
    if (deps.signal?.aborted) throw new FetchError('aborted', 'stopped');
    if (timeout.aborted) throw new FetchError('timeout', `answer not complete within ${duration(deps.timeoutMs)}`);
    throw new FetchError('unreachable', `connection lost (${describeNetworkError(err)})`);
  }
}

/**
 * GETs `url` and hands the body to `parse` (which throws a FetchError('bad-body') for what it cannot read); retries
 * what may pass, waiting `backoffMs(n)` (or a 429's Retry-After, when longer) between attempts. `beforeEach` runs
 * before every attempt (a source's pacing). The last error is thrown once the retries are spent.
 */
export async function getWithRetry<T>(
  url: string,
  deps: HttpDeps,
  parse: (body: string) => T,
  beforeEach?: () => Promise<void>,
): Promise<{ value: T; attempts: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      await beforeEach?.();
      const body = await once(url, deps);
      return { value: parse(body), attempts: attempt };
    } catch (err) {
      const e = err instanceof FetchError ? err : new FetchError('bad-body', (err as Error).message ?? String(err));
      if (!e.retryable || attempt > deps.retries) {
        e.attempts = attempt;
        if (attempt > 1) e.message += ` (after ${attempt} attempts)`;
        throw e;
      }
      const wait = Math.max(deps.backoffMs(attempt), Math.min(e.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
      await deps.sleep(wait, deps.signal);
    }
  }
}

/** How early a timer may fire by performance.now(), at most, for the pacer to make up. */
const EARLY_TIMER_MS = 5;

/**
 * At most one request start per `intervalMs` (arXiv asks for one every 3 seconds). `now` and `sleep` are the
 * pacer's own, so tests can shrink the interval rather than wait.
 */
export function createPacer(intervalMs: number, sleep: HttpDeps['sleep'] = abortableSleep, now: () => number = () => performance.now()) {
  let last = -Infinity;
  let chain: Promise<void> = Promise.resolve();
  return (signal?: AbortSignal): Promise<void> => {
    const turn = chain.then(async () => {
      const wait = last + intervalMs - now();
      if (wait > 0) await sleep(wait, signal);
      // A timer may fire a little early by this clock (measured: 1.3 ms in 150 under load), and the interval is a
      // promise to the server: the rest is slept too. Only a few ms: an injected sleep that returns at once (tests)
      // is not turned into a busy wait.
      const short = last + intervalMs - now();
      if (short > 0 && short <= EARLY_TIMER_MS) await sleep(short + 1, signal);
      last = now();
    });
    chain = turn.catch(() => {});
    return turn;
  };
}
export type Pacer = ReturnType<typeof createPacer>;
