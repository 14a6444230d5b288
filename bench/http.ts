// Owns the `http` benchmark: requests/s and latency of the home page, subscribe and one-click unsubscribe under load.
//
// The real web app runs in a child process (bench/http-server.ts) so autocannon, in this process, does not share its
// event loop. Every response is checked (status, and the body or redirect target), the database is checked against
// the responses afterwards, and any error, timeout or unexpected answer fails the bench.
import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import autocannon, { type Request as LoadRequest } from 'autocannon';
import { subscriberLinks } from '../src/subscriptions/subscriber-links.js';
import { generateCorpus } from './corpus-gen.js';
import { num, options, writeResult, type BenchPart } from './lib/part.js';
import type { ChildMessage, ParentMessage, ServerStats } from './http-server.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

export interface HttpBenchOptions {
  /** Concurrent connections per target (BENCH_HTTP_CONNECTIONS, default 50). */
  connections?: number;
  /** Seconds per target (BENCH_HTTP_DURATION, default 10). */
  durationSec?: number;
  /** Upper bound on requests per target (BENCH_HTTP_MAX_REQUESTS, default 200,000). */
  maxRequests?: number;
  /** Active subscribers created for the unsubscribe target, which also bounds it (BENCH_HTTP_SUBSCRIBERS, default 50,000). */
  subscribers?: number;
  /** Unmeasured GET / load before the first target, for the JIT (BENCH_HTTP_WARMUP, default 2 s). */
  warmupSec?: number;
  /** Server log level (BENCH_HTTP_LOG_LEVEL, default info as in production; the log goes to a file, not a pipe). */
  logLevel?: string;
  /** Longest wait for the confirmation queue to drain between targets (BENCH_HTTP_DRAIN_TIMEOUT, default 120 s). */
  drainTimeoutSec?: number;
  /** Generated papers ingested on top of the seeds, to see the pages at corpus scale (BENCH_HTTP_PAPERS, default 0). */
  extraPapers?: number;
  /** Which targets to run, in order (BENCH_HTTP_TARGETS, default home,subscribe,unsubscribe). */
  targets?: string[];
  /** Write a V8 CPU profile of the server into this directory (BENCH_HTTP_CPU_PROF), to see what a figure is made of. */
  cpuProfileDir?: string;
  /** Print the table (default true). */
  print?: boolean;
}

export interface TargetResult {
  name: string;
  request: string;
  expect: string;
  /** Answers received; `sent` also counts requests still in flight when the time was up (the server may have done them). */
  requests: number;
  sent: number;
  seconds: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  /** Connection errors and timeouts. */
  errors: number;
  /** Answers with a status other than the expected one (for subscribe, the expected one is a 303). */
  non2xx: number;
  /** Answers with the expected status but the wrong body or redirect target. */
  mismatches: number;
  status: Record<string, number>;
  /** CPU seconds the server used during this target, and the server's RSS after it. */
  server_cpu_s: number;
  server_rss_mb: number;
  /** CPU seconds autocannon (this process) used: near the run's seconds means the load generator was the limit. */
  client_cpu_s: number;
}

export interface HttpBenchResult {
  at: string;
  machine: { cpus: number; cpu: string; loadavg_before: number[]; cpu_pressure_before: string | null; node: string };
  connections: number;
  duration_s: number;
  max_requests: number;
  papers: number;
  subscribers_precreated: number;
  targets: TargetResult[];
  /** Confirmation emails the background worker handed to the null messenger, and how long the backlog took. */
  confirmations: { queued: number; sent: number; drain_s: number | null };
  notes: string[];
  failures: string[];
  file?: string;
}

export class HttpBenchFailure extends Error {
  constructor(public readonly result: HttpBenchResult) {
    super(`http bench failed: ${result.failures.join('; ')}`);
    this.name = 'HttpBenchFailure';
  }
}

const envNum = (key: string, fallback: number) => {
  const v = process.env[key];
  if (v === undefined || v === '') return fallback;
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${key} expects a positive number, got ${v}`);
  return n;
};

/** Linux PSI: how often runnable tasks waited for a CPU. High means other load shares the machine; req/s will show it. */
function cpuPressure(): string | null {
  try {
    const m = /^some avg10=([\d.]+) avg60=([\d.]+)/m.exec(readFileSync('/proc/pressure/cpu', 'utf8'));
    return m ? `${m[1]}% over 10 s, ${m[2]}% over 60 s` : null;
  } catch {
    return null;
  }
}

/** The web app in its child process, and a way to ask it things. */
interface Server {
  child: ChildProcess;
  address: string;
  subscriberIds: number[];
  papers: number;
  ask(m: ParentMessage, reply: ChildMessage['type'], timeoutMs?: number): Promise<ChildMessage>;
  logTail(): string;
}

async function startServer(env: Record<string, string>, logFile: string, cpuProfileDir?: string): Promise<Server> {
  const log = openSync(logFile, 'a');
  const child = fork(join(here, 'http-server.ts'), [], {
    cwd: root,
    execArgv: ['--import', 'tsx', ...(cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [])],
    env: { ...process.env, FETCH_ENABLED: 'false', ...env },
    stdio: ['ignore', log, log, 'ipc'],
  });
  closeSync(log);
  const logTail = () => {
    try {
      return readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n');
    } catch {
      return '';
    }
  };
  const next = (type: ChildMessage['type'], timeoutMs: number) =>
    new Promise<ChildMessage>((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`bench server sent no "${type}" within ${timeoutMs} ms\n${logTail()}`)), timeoutMs);
      const onMessage = (m: ChildMessage) => m.type === type && done(null, m);
      const onExit = (code: number | null) => done(new Error(`bench server exited (${code}) before "${type}"\n${logTail()}`));
      function done(err: Error | null, m?: ChildMessage) {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        if (err) reject(err);
        else resolve(m!);
      }
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const ready = await next('ready', 120_000);
  if (ready.type !== 'ready') throw new Error('unreachable');
  return {
    child,
    address: ready.address,
    subscriberIds: ready.subscriberIds,
    papers: ready.papers,
    ask(m, reply, timeoutMs = 30_000) {
      const p = next(reply, timeoutMs);
      child.send(m);
      return p;
    },
    logTail,
  };
}

async function stats(server: Server): Promise<ServerStats> {
  const m = await server.ask({ type: 'stats' }, 'stats');
  if (m.type !== 'stats') throw new Error('unreachable');
  return m.stats;
}

interface Target {
  name: string;
  request: string;
  expect: string;
  requests: LoadRequest[];
  /** Bound on requests for this target (the unsubscribe target has one pre-created subscriber per request). */
  maxRequests: number;
}

async function measure(server: Server, t: Target, connections: number, durationSec: number): Promise<TargetResult> {
  const before = await stats(server);
  const clientBefore = process.cpuUsage();
  const r = await autocannon({
    url: server.address,
    connections,
    duration: durationSec,
    // Both bounds hold: whichever comes first ends the run. Can't be less than `connections`.
    maxOverallRequests: Math.max(t.maxRequests, connections),
    timeout: 10,
    requests: t.requests,
  });
  const client = process.cpuUsage(clientBefore);
  const after = await stats(server);
  const status = Object.fromEntries(Object.entries(r.statusCodeStats).map(([code, s]) => [code, s.count]));
  const total = Object.values(status).reduce((a, b) => a + b, 0);
  const expectedStatus = t.name === 'subscribe' ? '303' : '200';
  const seconds = (r.finish.getTime() - r.start.getTime()) / 1000;
  return {
    name: t.name,
    request: t.request,
    expect: t.expect,
    requests: total,
    sent: r.requests.sent,
    seconds: Number(seconds.toFixed(2)),
    rps: Math.round(total / seconds),
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    max_ms: r.latency.max,
    errors: r.errors,
    non2xx: total - (status[expectedStatus] ?? 0),
    mismatches: r.mismatches,
    status,
    server_cpu_s: Number((after.cpuSeconds - before.cpuSeconds).toFixed(2)),
    server_rss_mb: after.rssMB,
    client_cpu_s: Number(((client.user + client.system) / 1e6).toFixed(2)),
  };
}

/** Counts answers with the right status but the wrong content; autocannon reports them as `mismatches`. */
function checker(ok: (status: number, body: string, headers: Record<string, string>) => boolean, seen: { bad: number; sample?: string }) {
  return (status: number, body: string, _ctx: Record<string, unknown>, headers: Record<string, string>) => {
    if (!ok(status, body, headers)) {
      seen.bad++;
      seen.sample ??= `${status} ${headers.location ?? ''} ${body.slice(0, 120)}`;
    }
  };
}

export async function runHttpBench(opts: HttpBenchOptions = {}): Promise<HttpBenchResult> {
  const connections = opts.connections ?? envNum('BENCH_HTTP_CONNECTIONS', 50);
  const durationSec = opts.durationSec ?? envNum('BENCH_HTTP_DURATION', 10);
  const maxRequests = opts.maxRequests ?? envNum('BENCH_HTTP_MAX_REQUESTS', 200_000);
  const subscribers = opts.subscribers ?? envNum('BENCH_HTTP_SUBSCRIBERS', 50_000);
  const warmupSec = opts.warmupSec ?? envNum('BENCH_HTTP_WARMUP', 2);
  const drainTimeoutSec = opts.drainTimeoutSec ?? envNum('BENCH_HTTP_DRAIN_TIMEOUT', 120);
  const logLevel = opts.logLevel ?? process.env.BENCH_HTTP_LOG_LEVEL ?? 'info';
  const extraPapers = opts.extraPapers ?? (process.env.BENCH_HTTP_PAPERS ? envNum('BENCH_HTTP_PAPERS', 0) : 0);
  const targetNames = opts.targets ?? (process.env.BENCH_HTTP_TARGETS ?? 'home,subscribe,unsubscribe').split(',').map((t) => t.trim());
  const cpuProfileDir = opts.cpuProfileDir ?? process.env.BENCH_HTTP_CPU_PROF;
  const print = opts.print ?? true;
  const say = (s: string) => print && console.log(s);

  const dir = mkdtempSync(join(os.tmpdir(), 'paperboy-bench-http-'));
  const secret = randomBytes(32).toString('base64url');
  const publicUrl = 'https://papers.bench.example.org';
  const result: HttpBenchResult = {
    at: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      cpu: os.cpus()[0]?.model ?? 'unknown',
      loadavg_before: os.loadavg().map((x) => Number(x.toFixed(2))),
      cpu_pressure_before: cpuPressure(),
      node: process.version,
    },
    connections,
    duration_s: durationSec,
    max_requests: maxRequests,
    papers: 0,
    subscribers_precreated: subscribers,
    targets: [],
    confirmations: { queued: 0, sent: 0, drain_s: null },
    notes: [
      'server: the service as npm start runs it (createApp + startService: seeds ingested, all routes, confirmation worker running; scheduler and inbound SMTP off) in a child process; autocannon in this one, over loopback',
      'mail: a null Messenger (bench/null-messenger.ts) that writes nothing; confirmation emails are sent by the background worker, not in the request, and are not what is measured',
      `subscribe rate limit raised to SUBSCRIBE_RATE_LIMIT_PER_MIN=1000000 (all load comes from one client IP); server log level ${logLevel}, to a file`,
      'subscribe: every request a distinct address, honeypot empty; the expected answer is 303 to /check-inbox (counted as success)',
      'unsubscribe: RFC 8058 one-click POST (List-Unsubscribe=One-Click) to signed links of pre-created active subscribers, one per request',
    ],
    failures: [],
  };

  say(
    `http bench: ${connections} connections, ${durationSec} s per target (at most ${maxRequests.toLocaleString('en-US')} requests), ${os.cpus().length} CPUs, load average before ${result.machine.loadavg_before.join(' ')}`,
  );
  if (result.machine.cpu_pressure_before) say(`  CPU pressure before (share of time some task waited for a CPU): ${result.machine.cpu_pressure_before}`);
  let extraPagesDir = '';
  if (extraPapers > 0) {
    say(`  generating ${extraPapers.toLocaleString('en-US')} more papers (bench/corpus-gen.ts) ...`);
    extraPagesDir = generateCorpus(join(dir, 'pages'), extraPapers);
  }
  say(
    `  starting the web app (seeds${extraPapers ? ' and the generated pages' : ''} ingested, ${subscribers.toLocaleString('en-US')} active subscribers created) ...`,
  );
  const server = await startServer(
    {
      DATA_DIR: join(dir, 'data'),
      SEEDS_DIR: join(root, 'seeds'),
      OUTBOX_DIR: join(dir, 'outbox'),
      HOST: '127.0.0.1',
      PUBLIC_URL: publicUrl,
      SECRET_KEY: secret,
      SUBSCRIBE_RATE_LIMIT_PER_MIN: '1000000',
      LOG_LEVEL: logLevel,
      SCHEDULER_ENABLED: 'false',
      // No test or bench reaches an outside host: the live sources are off.
      FETCH_ENABLED: 'false',
      INBOUND_SMTP_ENABLED: 'false',
      BENCH_HTTP_SUBSCRIBERS: String(subscribers),
      BENCH_HTTP_EXTRA_PAGES: extraPagesDir,
    },
    join(dir, 'server.log'),
    cpuProfileDir,
  );
  result.papers = server.papers;
  say(`  listening on ${server.address} with ${server.papers.toLocaleString('en-US')} papers`);
  try {
    // The links a digest carries, built the way the mailer builds them; the bench posts to their paths.
    const unsubscribePaths = server.subscriberIds.map(
      (id) => new URL(subscriberLinks({ PUBLIC_URL: publicUrl, MAIL_DOMAIN: 'bench.example.org' }, secret, id).unsubscribeUrl).pathname,
    );
    const run = randomBytes(4).toString('hex');
    let nextAddress = 0;
    let nextUnsub = 0;
    const bad = {
      home: { bad: 0 } as { bad: number; sample?: string },
      subscribe: { bad: 0 } as { bad: number; sample?: string },
      unsubscribe: { bad: 0 } as { bad: number; sample?: string },
    };

    const home: Target = {
      name: 'home',
      request: 'GET /',
      expect: '200, the form and 5 papers',
      maxRequests,
      requests: [
        {
          method: 'GET',
          path: '/',
          onResponse: checker((s, b) => s === 200 && b.includes('action="/subscribe"') && (b.match(/<h3>/g)?.length ?? 0) === 5, bad.home),
        },
      ],
    };
    const subscribe: Target = {
      name: 'subscribe',
      request: 'POST /subscribe (form, new address each)',
      expect: '303 -> /check-inbox',
      maxRequests,
      requests: [
        {
          method: 'POST',
          path: '/subscribe',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          setupRequest: (req) => ({
            ...req,
            body: `email=reader-${run}-${nextAddress++}%40bench.example.org&frequency=daily&kind=trending&topics=&time_zone=Europe%2FBerlin&website=`,
          }),
          onResponse: checker((s, _b, h) => s === 303 && h.location === '/check-inbox', bad.subscribe),
        },
      ],
    };
    const unsubscribe: Target = {
      name: 'unsubscribe',
      request: 'POST /unsubscribe/:token (one-click)',
      expect: '200 "You have been unsubscribed."',
      maxRequests: Math.min(maxRequests, unsubscribePaths.length),
      requests: [
        {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'List-Unsubscribe=One-Click',
          // Past the end (autocannon may ask for a request it never sends) it wraps: a repeat is a valid 200 too.
          setupRequest: (req) => ({ ...req, path: unsubscribePaths[nextUnsub++ % unsubscribePaths.length]! }),
          onResponse: checker((s, b) => s === 200 && b === 'You have been unsubscribed.\n', bad.unsubscribe),
        },
      ],
    };
    if (unsubscribePaths.length === 0) throw new Error('BENCH_HTTP_SUBSCRIBERS must be at least 1');

    if (warmupSec > 0) {
      say(`  warming up (GET / for ${warmupSec} s, not measured) ...`);
      await autocannon({ url: server.address, connections: Math.min(10, connections), duration: warmupSec });
    }

    const all = { home, subscribe, unsubscribe };
    for (const n of targetNames) if (!(n in all)) throw new Error(`unknown http bench target ${JSON.stringify(n)}; targets: ${Object.keys(all).join(', ')}`);
    for (const t of targetNames.map((n) => all[n as keyof typeof all])) {
      say(`  ${t.name}: ${t.request} ...`);
      const r = await measure(server, t, connections, durationSec);
      r.mismatches += bad[t.name as keyof typeof bad].bad;
      result.targets.push(r);
      const sample = bad[t.name as keyof typeof bad].sample;
      if (r.errors > 0) result.failures.push(`${t.name}: ${r.errors} connection errors or timeouts`);
      if (r.non2xx > 0) result.failures.push(`${t.name}: ${r.non2xx} answers not ${t.expect} (status counts ${JSON.stringify(r.status)})`);
      if (r.mismatches > 0) result.failures.push(`${t.name}: ${r.mismatches} answers with the wrong content, e.g. ${JSON.stringify(sample)}`);
      if (r.requests === 0) result.failures.push(`${t.name}: no answers at all`);

      if (t === subscribe) {
        // Every 303 must be a new pending subscriber with a queued confirmation; wait for the worker to send them all,
        // so its backlog does not eat into the next target's CPU.
        const s0 = await stats(server);
        result.confirmations.queued = s0.subscribers.pending ?? 0;
        const accepted = r.status['303'] ?? 0;
        // Requests in flight when autocannon stopped may have been done without their answer being counted.
        if (result.confirmations.queued < accepted || result.confirmations.queued > r.sent) {
          result.failures.push(`subscribe: ${accepted} answered 303 (${r.sent} sent) but ${result.confirmations.queued} pending subscribers in the database`);
        }
        const t0 = performance.now();
        let s = s0;
        while (s.confirmationsSent < result.confirmations.queued && performance.now() - t0 < drainTimeoutSec * 1000) {
          await new Promise((res) => setTimeout(res, 250));
          s = await stats(server);
        }
        result.confirmations.sent = s.confirmationsSent;
        if (s.confirmationsSent >= result.confirmations.queued) result.confirmations.drain_s = Number(((performance.now() - t0) / 1000).toFixed(1));
        else
          result.notes.push(
            `confirmation backlog not drained within ${drainTimeoutSec} s (${s.confirmationsSent} of ${result.confirmations.queued} sent): the unsubscribe target ran alongside the worker`,
          );
      }
      if (t === unsubscribe) {
        const s = await stats(server);
        const done = s.subscribers.unsubscribed ?? 0;
        if (done < Math.min(r.status['200'] ?? 0, unsubscribePaths.length) || done > r.sent) {
          result.failures.push(`unsubscribe: ${r.status['200'] ?? 0} answered 200 (${r.sent} sent) but ${done} unsubscribed in the database`);
        }
      }
    }
  } finally {
    try {
      await server.ask({ type: 'stop' }, 'stopped', 60_000);
    } catch (err) {
      server.child.kill('SIGKILL');
      result.failures.push(`server did not stop cleanly: ${(err as Error).message.split('\n')[0]}`);
    }
    rmSync(dir, { recursive: true, force: true });
  }

  if (print) printTable(result);
  result.file = writeResult('http', result);
  say(`  wrote ${result.file}`);
  if (result.failures.length > 0) throw new HttpBenchFailure(result);
  return result;
}

export function printTable(result: HttpBenchResult): void {
  const rows = result.targets.map((t) => ({
    target: t.request,
    'req/s': t.rps.toLocaleString('en-US'),
    'p50 ms': String(t.p50_ms),
    'p99 ms': String(t.p99_ms),
    'max ms': String(t.max_ms),
    requests: t.requests.toLocaleString('en-US'),
    errors: String(t.errors),
    'non-2xx': String(t.non2xx),
    'bad body': String(t.mismatches),
    'server CPU s': t.server_cpu_s.toFixed(1),
    // Less sensitive than req/s to other load on the machine (the server's own work per answer).
    'server CPU ms/req': t.requests ? ((t.server_cpu_s * 1000) / t.requests).toFixed(2) : '-',
    'autocannon CPU s': t.client_cpu_s.toFixed(1),
  }));
  if (rows.length === 0) return;
  const cols = Object.keys(rows[0]!) as (keyof (typeof rows)[0])[];
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => r[c].length)));
  const line = (vals: string[]) => '| ' + vals.map((v, i) => (i === 0 ? v.padEnd(width[i]!) : v.padStart(width[i]!))).join(' | ') + ' |';
  console.log('');
  console.log(line(cols));
  console.log('|' + width.map((w, i) => (i === 0 ? ':' : '-') + '-'.repeat(w) + (i === 0 ? '-' : ':')).join('|') + '|');
  for (const r of rows) console.log(line(cols.map((c) => r[c])));
  console.log('');
  console.log(`non-2xx counts answers other than the expected status (subscribe expects 303 to /check-inbox).`);
  const c = result.confirmations;
  console.log(
    `confirmations: ${c.sent} of ${c.queued} queued sent by the background worker to a null messenger${c.drain_s !== null ? ` (backlog drained ${c.drain_s} s after the subscribe load)` : ''}; not part of the figures.`,
  );
  for (const n of result.notes) console.log(`note: ${n}`);
  for (const f of result.failures) console.log(`FAIL: ${f}`);
}

/** For the bench registry: `npm run bench -- http [--connections=50] [--duration=10] [--max-requests=N] [--subscribers=N] [--papers=N]`. */
export const httpPart: BenchPart = {
  name: 'http',
  description: 'requests/s and p50/p99 latency of home, subscribe and one-click unsubscribe under autocannon, zero errors',
  async run(args) {
    const o = options(args);
    const n = (key: string) => (o.has(key) ? num(o, key, 0) : undefined);
    const picked = {
      connections: n('connections'),
      durationSec: n('duration'),
      maxRequests: n('max-requests'),
      subscribers: n('subscribers'),
      extraPapers: n('papers'),
    };
    await runHttpBench(Object.fromEntries(Object.entries(picked).filter(([, v]) => v !== undefined)) as HttpBenchOptions);
  },
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    await httpPart.run(process.argv.slice(2));
  } catch (err) {
    console.error(err instanceof HttpBenchFailure ? err.message : err);
    process.exitCode = 1;
  }
}
