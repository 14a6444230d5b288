// Owns the machine's reference SMTP rate: Postfix's smtp-sink (receiver) and smtp-source -d (sender), installed if missing.
import { stopWithBench } from './lib/children.js';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync, chmodSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { num, options, table, writeResult, type BenchPart } from './lib/part.js';

const DIRS = ['/usr/sbin', '/usr/lib/postfix', '/usr/libexec/postfix', '/usr/local/sbin'];

function find(bin: string): string | null {
  for (const d of DIRS) if (existsSync(`${d}/${bin}`)) return `${d}/${bin}`;
  return null;
}

/**
 * Paths of smtp-sink and smtp-source; installs Debian's postfix package without starting its daemon
 * (a policy-rc.d that forbids service starts during the install, and `postfix stop` in case one ran anyway).
 */
export function ensurePostfixTools(): { sink: string; source: string } {
  let sink = find('smtp-sink');
  let source = find('smtp-source');
  if (sink && source) return { sink, source };
  console.log('installing Postfix tools (smtp-sink, smtp-source) with apt-get ...');
  const policy = '/usr/sbin/policy-rc.d';
  const hadPolicy = existsSync(policy);
  if (!hadPolicy) {
    writeFileSync(policy, '#!/bin/sh\n# paperboy bench: no daemons started by package installs\nexit 101\n');
    chmodSync(policy, 0o755);
  }
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'postfix'], { stdio: 'inherit', env });
  } finally {
    if (!hadPolicy) unlinkSync(policy);
  }
  try {
    execFileSync('postfix', ['stop'], { stdio: 'ignore' });
  } catch {
    // Not running: what we want.
  }
  sink = find('smtp-sink');
  source = find('smtp-source');
  if (!sink || !source) throw new Error('postfix installed but smtp-sink/smtp-source not found in ' + DIRS.join(', '));
  return { sink, source };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`smtp-sink did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface Sink {
  port: number;
  /** Messages the sink counted (its `-c` counter, "mesg=N"). */
  messages(): number;
  stop(): Promise<void>;
}

/** A fresh smtp-sink on a loopback port, counting; it advertises PIPELINING like a real Postfix. */
export async function startSink(extraArgs: string[] = []): Promise<Sink> {
  const { sink } = ensurePostfixTools();
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  const args = ['-c', ...(asRoot ? ['-u', 'nobody'] : []), ...extraArgs, `127.0.0.1:${port}`, '1024'];
  const child: ChildProcess = stopWithBench(spawn(sink, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
  let tail = '';
  const onOut = (c: Buffer) => {
    tail = (tail + c.toString('latin1')).slice(-400);
  };
  child.stdout!.on('data', onOut);
  child.stderr!.on('data', onOut);
  await waitForPort(port);
  return {
    port,
    messages() {
      const all = [...tail.matchAll(/mesg=(\d+)/g)];
      return all.length ? Number(all[all.length - 1]![1]) : 0;
    },
    stop() {
      return new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    },
  };
}

/** Waits until the sink has counted `n` messages (it updates the counter as each "." is received). */
export async function sinkReached(sink: Sink, n: number, timeoutMs = 5000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (sink.messages() < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return sink.messages();
}

export interface SourceRun {
  messages: number;
  sizeBytes: number;
  sessions: number;
  seconds: number;
  perSecond: number;
  sinkCounted: number;
}

/** smtp-source -d: N messages of `size` payload bytes over `sessions` connections kept open, to a fresh sink. */
export async function runSmtpSource(n: number, size: number, sessions: number): Promise<SourceRun> {
  const { source } = ensurePostfixTools();
  const sink = await startSink();
  try {
    const args = [
      '-d',
      '-s',
      String(sessions),
      '-m',
      String(n),
      '-l',
      String(size),
      '-f',
      'bench@example.org',
      '-t',
      'reader@example.org',
      '-M',
      'bench.example.org',
      `127.0.0.1:${sink.port}`,
    ];
    const t0 = process.hrtime.bigint();
    await new Promise<void>((resolve, reject) => {
      const child = stopWithBench(spawn(source, args, { stdio: ['ignore', 'ignore', 'pipe'] }));
      let err = '';
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`smtp-source exited ${code}: ${err}`))));
    });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const counted = await sinkReached(sink, n);
    return { messages: n, sizeBytes: size, sessions, seconds, perSecond: n / seconds, sinkCounted: counted };
  } finally {
    await sink.stop();
  }
}

export const postfixPart: BenchPart = {
  name: 'postfix',
  description: 'raw SMTP rate of this machine: smtp-source -d to smtp-sink on loopback',
  async run(args) {
    const o = options(args);
    const n = num(o, 'n', 20_000);
    const size = num(o, 'size', 45_000);
    const c = num(o, 'connections', 5);
    const r = await runSmtpSource(n, size, c);
    table([
      {
        tool: 'smtp-source -d',
        messages: r.messages,
        'size (B)': size,
        connections: c,
        seconds: r.seconds,
        'msg/s': Math.round(r.perSecond),
        'sink counted': r.sinkCounted,
      },
    ]);
    console.log('results: ' + writeResult('postfix', { run: r }));
  },
};
