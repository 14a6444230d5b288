// Owns the crash scenario shared by the crash test and `npm run bench -- crash`: `paperboy send --force` SIGKILLed
// (its whole process group) at random moments of real SMTP sends, then run to the end, and what the ledger and a
// real smtp-server saw afterwards.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { SMTPServer } from 'smtp-server';
import { openStore } from '../../src/db/open.js';
import { buildWorld } from './paperboy-world.js';

const BIN = fileURLToPath(new URL('../../bin/paperboy.js', import.meta.url));

export interface CrashOptions {
  subscribers: number;
  kills: number;
  /** Extra settings; the defaults are what the scenario is about. */
  env?: Record<string, string>;
  seed?: number;
}

export interface CrashResult {
  kills: number;
  subscribers: number;
  /** Rows left `sending` at the kills (summed over all kills): what the old recovery turned `unknown` wholesale. */
  claimedAtKills: number;
  /** Of those, rows whose body was on the wire (the wire journal's on_wire_at): the only ones whose outcome is unknown. */
  onWireAtKills: number;
  /** Subscribers with no complete message at the end. */
  missed: number;
  /** Complete messages beyond one per subscriber. */
  extra: number;
  /** Rows that arrived more than once although they were never on the wire at a kill (must be 0). */
  duplicatesNotOnWire: number;
  /** The largest number of duplicates any one kill caused is at most this: rows on the wire at one kill. */
  maxOnWirePerKill: number;
  /** Rows not `sent` at the end (with RESEND_UNKNOWN=false: the unknown ones). */
  notSent: Record<string, number>;
  messages: number;
  seconds: number;
}

function rng(seed: number) {
  return () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
}

/** A real receiving server that keeps the Message-ID of every complete message. */
async function sink() {
  const ids: string[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    size: 10 * 1024 * 1024,
    onData(stream, _session, cb) {
      let head = '';
      stream.on('data', (c: Buffer) => {
        if (head.length < 16384) head += c.toString('latin1');
      });
      stream.on('end', () => {
        const id = /^Message-ID:\s*(\S+)/im.exec(head)?.[1];
        if (id) ids.push(id);
        cb();
      });
    },
  });
  // A client killed mid-session resets its connection: expected here, not a server failure.
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { ids, port: (server.server.address() as AddressInfo).port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

export async function runCrashScenario(o: CrashOptions): Promise<CrashResult> {
  const started = Date.now();
  const world = buildWorld(o.subscribers, 3);
  const smtp = await sink();
  const random = rng(o.seed ?? 20261203);
  const children = new Set<ChildProcess>();
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATA_DIR: world.dir,
    FETCH_ENABLED: 'false',
    SCHEDULER_ENABLED: 'false',
    INBOUND_SMTP_ENABLED: 'false',
    SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
    LOG_LEVEL: 'warn',
    ...o.env,
  };
  const send = () => {
    // detached: its own process group, so the kill reaches everything it started.
    const child = spawn(process.execPath, [BIN, 'send', '--force'], { env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    children.add(child);
    let err = '';
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => (children.delete(child), resolve(code))));
    return { child, exit, err: () => err };
  };
  const withStore = <T>(f: (s: ReturnType<typeof openStore>) => T): T => {
    const s = openStore(world.dbPath);
    try {
      return f(s);
    } finally {
      s.close();
    }
  };
  const unsent = () =>
    withStore((s) => {
      const r = s.db.prepare("SELECT COUNT(*) AS total, COUNT(*) FILTER (WHERE status != 'sent') AS left FROM deliveries").get() as {
        total: number;
        left: number;
      };
      return r.total === 0 ? Infinity : r.left;
    });
  /** Ids on the wire at each kill, read right after it (before a restart's recovery changes them). */
  const onWireByKill: Set<number>[] = [];
  let claimedAtKills = 0;
  let kills = 0;
  try {
    for (let round = 0; kills < o.kills && round < o.kills * 3; round++) {
      const before = smtp.ids.length;
      const run = send();
      let exited = false;
      void run.exit.then(() => (exited = true));
      const target = before + 1 + Math.floor(random() * 120);
      const deadline = Date.now() + 30_000;
      while (!exited && Date.now() < deadline && smtp.ids.length < target) await sleep(1);
      if (exited) {
        if ((await run.exit) !== 0) throw new Error(`paperboy send failed: ${run.err()}`);
        if (unsent() === 0) break;
        continue;
      }
      process.kill(-run.child.pid!, 'SIGKILL');
      await run.exit;
      kills++;
      withStore((s) => {
        const rows = s.db.prepare("SELECT id, on_wire_at FROM deliveries WHERE status = 'sending'").all() as { id: number; on_wire_at: string | null }[];
        claimedAtKills += rows.length;
        onWireByKill.push(new Set(rows.filter((r) => r.on_wire_at !== null).map((r) => r.id)));
      });
    }
    for (let attempt = 0; attempt < 5 && unsent() > 0; attempt++) {
      const last = send();
      if ((await last.exit) !== 0) throw new Error(`paperboy send failed: ${last.err()}`);
    }
    const rows = withStore(
      (s) => s.db.prepare('SELECT id, status, message_id FROM deliveries').all() as { id: number; status: string; message_id: string | null }[],
    );
    const count = new Map<string, number>();
    for (const id of smtp.ids) count.set(id, (count.get(id) ?? 0) + 1);
    const onWire = new Set(onWireByKill.flatMap((s) => [...s]));
    const notSent: Record<string, number> = {};
    for (const r of rows) if (r.status !== 'sent') notSent[r.status] = (notSent[r.status] ?? 0) + 1;
    return {
      kills,
      subscribers: o.subscribers,
      claimedAtKills,
      onWireAtKills: onWireByKill.reduce((n, s) => n + s.size, 0),
      missed: rows.filter((r) => !r.message_id || !count.has(r.message_id)).length + (o.subscribers - rows.length),
      extra: smtp.ids.length - count.size,
      duplicatesNotOnWire: rows.filter((r) => r.message_id && count.get(r.message_id)! > 1 && !onWire.has(r.id)).length,
      maxOnWirePerKill: Math.max(0, ...onWireByKill.map((s) => s.size)),
      notSent,
      messages: smtp.ids.length,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    for (const c of children) {
      try {
        process.kill(-c.pid!, 'SIGKILL');
      } catch {}
    }
    await smtp.close();
    world.cleanup();
  }
}
