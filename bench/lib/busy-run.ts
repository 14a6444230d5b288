// Owns the busy-database scenario shared by the busy test and `npm run bench -- busy`: a real `paperboy serve` and
// the CLI used as people use them (POST /subscribe, GET /, papers --search, subscribers list), first with the
// database idle, then while a separate `paperboy ingest` of a big synthetic corpus writes it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { generateCorpus } from '../corpus-gen.js';

const BIN = fileURLToPath(new URL('../../bin/paperboy.js', import.meta.url));
const SEEDS = fileURLToPath(new URL('../../seeds', import.meta.url));

/** The pause between two operations. */
const GAP_MS = 100;

export type OpName = 'subscribe' | 'home' | 'search' | 'list';
export const OPS: OpName[] = ['subscribe', 'home', 'search', 'list'];

export interface OpStats {
  /** Tries that overlapped the phase (idle: the baseline window; busy: the ingest's run). */
  runs: number;
  failures: string[];
  medianMs: number;
  maxMs: number;
}

export interface BusyResult {
  entries: number;
  ingestSeconds: number;
  /** Papers in the corpus after the ingest (seeds plus the generated ones). */
  papersAfter: number;
  /** Subscribers the busy phase's POSTs asked for that are not in the database afterwards (must be 0). */
  subscribersLost: number;
  idle: Record<OpName, OpStats>;
  busy: Record<OpName, OpStats>;
}

export interface BusyOptions {
  entries: number;
  /** How long the idle phase measures each operation. */
  idleMs?: number;
  /** Extra settings for both the server and the CLI. */
  env?: Record<string, string>;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function stats(samples: number[], failures: string[]): OpStats {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    runs: samples.length + failures.length,
    failures,
    medianMs: sorted.length ? sorted[Math.floor(sorted.length / 2)]! : NaN,
    maxMs: sorted.length ? sorted[sorted.length - 1]! : NaN,
  };
}

export async function runBusyScenario(o: BusyOptions): Promise<BusyResult> {
  const root = mkdtempSync(join(tmpdir(), 'paperboy-busy-'));
  const children = new Set<ChildProcess>();
  // Whatever happens, no child outlives the scenario (process groups: the bin may start workers of its own).
  const killAll = () => {
    for (const c of children)
      if (c.pid && c.exitCode === null)
        try {
          process.kill(-c.pid, 'SIGKILL');
        } catch {}
  };
  process.once('exit', killAll);
  try {
    const dataDir = join(root, 'data');
    const pages = generateCorpus(join(root, 'pages'), o.entries, 1000, 11);
    const port = await freePort();
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? root,
      DATA_DIR: dataDir,
      PORT: String(port),
      FETCH_ENABLED: 'false',
      SCHEDULER_ENABLED: 'false',
      INBOUND_SMTP_ENABLED: 'false',
      LOG_LEVEL: 'warn',
      // Every try is a new address from one client: the per-client limit is not what is measured.
      SUBSCRIBE_RATE_LIMIT_PER_MIN: '1000000',
      ...o.env,
    };
    const run = (args: string[]) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [BIN, ...args], { env, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
        children.add(child);
        let stderr = '';
        child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
        child.on('exit', (code) => {
          children.delete(child);
          resolve({ code, stderr });
        });
      });

    const seeded = await run(['ingest', SEEDS]);
    if (seeded.code !== 0) throw new Error(`ingest seeds failed: ${seeded.stderr}`);

    const server = spawn(process.execPath, [BIN, 'serve'], { env, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    children.add(server);
    let serverErr = '';
    server.stderr!.on('data', (c: Buffer) => (serverErr += c.toString()));
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      if (server.exitCode !== null) throw new Error(`serve exited: ${serverErr}`);
      try {
        if ((await fetch(`${base}/`)).ok) break;
      } catch {}
      if (i > 300) throw new Error(`serve did not answer: ${serverErr}`);
      await sleep(100);
    }

    let n = 0;
    const asked: string[] = [];
    const op: Record<OpName, () => Promise<string | null>> = {
      async subscribe() {
        const email = `busy${n++}@example.org`;
        asked.push(email);
        const res = await fetch(`${base}/subscribe`, {
          method: 'POST',
          redirect: 'manual',
          body: new URLSearchParams({ email, frequency: 'daily', kind: 'trending' }),
        });
        return res.status === 303 ? null : `POST /subscribe ${res.status}: ${(await res.text()).slice(0, 200)}`;
      },
      async home() {
        const res = await fetch(`${base}/`);
        const body = await res.text();
        return res.status === 200 && body.includes('<form') ? null : `GET / ${res.status}: ${body.slice(0, 200)}`;
      },
      async search() {
        const r = await run(['papers', '--search', 'diffusion', '--json']);
        return r.code === 0 ? null : `papers --search exited ${r.code}: ${r.stderr.slice(0, 300)}`;
      },
      async list() {
        const r = await run(['subscribers', 'list']);
        return r.code === 0 ? null : `subscribers list exited ${r.code}: ${r.stderr.slice(0, 300)}`;
      },
    };

    /**
     * Runs the operations one after another, as a person (or a script) would, until `until` resolves and every
     * operation ran at least once since the start; each try's time, or its failure.
     */
    const measure = async (until: Promise<unknown>) => {
      let done = false;
      void until.then(() => (done = true));
      const samples = Object.fromEntries(OPS.map((k) => [k, [] as number[]])) as Record<OpName, number[]>;
      const failures = Object.fromEntries(OPS.map((k) => [k, [] as string[]])) as Record<OpName, string[]>;
      do {
        for (const name of OPS) {
          const t = performance.now();
          const failed = await op[name]().catch((e: unknown) => `${name}: ${String(e)}`);
          if (failed) failures[name].push(failed);
          else samples[name].push(performance.now() - t);
          await sleep(GAP_MS);
        }
      } while (!done);
      return Object.fromEntries(OPS.map((k) => [k, stats(samples[k], failures[k])])) as Record<OpName, OpStats>;
    };

    const idle = await measure(sleep(o.idleMs ?? 4000));
    const started = performance.now();
    const ingest = run(['ingest', pages]);
    const busy = await measure(ingest);
    const ingested = await ingest;
    const ingestSeconds = (performance.now() - started) / 1000;
    if (ingested.code !== 0) throw new Error(`the big ingest failed: ${ingested.stderr}`);

    // What the POSTs asked for is in the database, read from the file itself after the server stops.
    server.kill('SIGTERM');
    await new Promise((r) => (server.exitCode !== null ? r(null) : server.once('exit', r)));
    const db = new Database(join(dataDir, 'paperboy.db'), { readonly: true });
    const have = new Set(db.prepare('SELECT email FROM subscribers').pluck().all() as string[]);
    const papersAfter = db.prepare('SELECT count(*) FROM papers').pluck().get() as number;
    db.close();
    return {
      entries: o.entries,
      ingestSeconds,
      papersAfter,
      idle,
      busy,
      subscribersLost: asked.filter((e) => !have.has(e)).length,
    };
  } finally {
    killAll();
    process.removeListener('exit', killAll);
    rmSync(root, { recursive: true, force: true });
  }
}
