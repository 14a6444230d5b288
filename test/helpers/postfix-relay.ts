// Owns a throwaway real Postfix relay for end-to-end mail tests: its own config and queue in a temp dir, loopback ports, two smtp-sinks downstream.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { freePort } from './free-port.js';

export interface SinkMessage {
  /** The envelope as smtp-sink recorded it (X-Mail-Args / X-Rcpt-Args), addresses without <>. */
  from: string;
  to: string[];
  /** The message as Postfix sent it, smtp-sink's own X-* and Received headers stripped. */
  raw: Buffer;
}

export interface PostfixRelay {
  /** Postfix's smtpd on 127.0.0.1: send the test's mail here. */
  port: number;
  /** The accepting smtp-sink Postfix relays every other recipient to. */
  sink: {
    port: number;
    /** Messages the sink has taken whole, oldest first. */
    messages(): SinkMessage[];
    /** Resolves once `count` messages were taken (bounded by timeoutMs), with them. */
    waitFor(count: number, timeoutMs?: number): Promise<SinkMessage[]>;
  };
  /** The smtp-sink that answers every RCPT with the 550 5.1.1 reply (only rejectAddress is routed to it). */
  rejectSink: { port: number; reply: string };
  /** The temp dir holding config (conf/), queue (queue/), data (data/) and the log; removed by stop(). */
  dir: string;
  /** Pids of every process of this instance still alive: master, its daemons, the sinks. Empty after stop(). */
  pids(): number[];
  /** Postfix's log (maillog_file) plus what master and the sinks wrote to stdout/stderr: for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

export interface PostfixRelayOptions {
  /** The one recipient the downstream sink refuses with 550 5.1.1 (permanent): Postfix bounces it. */
  rejectAddress: string;
  /** Mail for this domain (the VERP bounces+TOKEN@bounceDomain, i.e. Postfix's DSNs) is delivered to bounceTo. */
  bounceDomain: string;
  bounceTo: { host: string; port: number };
  /** Postfix's own name, in its Received headers and as the DSN's Reporting-MTA. */
  myhostname?: string;
  /** Startup bound (master up, smtpd greeting). */
  startTimeoutMs?: number;
}

const DAEMONS = '/usr/lib/postfix/sbin';
const MASTER = `${DAEMONS}/master`;
const SINK = ['/usr/sbin/smtp-sink', '/usr/lib/postfix/smtp-sink'].find((p) => existsSync(p));
/**
 * sh -c WATCHDOG name SIGNAL cmd args...: runs cmd (stdin /dev/null) and sends it SIGNAL when the watchdog's stdin
 * reaches EOF; exits with cmd's status. `read` is a builtin, so the guard is a subshell of sh, not another program.
 */
const WATCHDOG = `sig=$1; shift
exec 3<&0
"$@" </dev/null 3<&- &
child=$!
{ while read -r _; do :; done; kill -s "$sig" "$child" 2>/dev/null; } <&3 &
guard=$!
exec 3<&-
wait "$child"
code=$?
kill "$guard" 2>/dev/null
exit "$code"`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function userIds(name: string, group: string): { uid: number; gid: number } {
  // The passwd/group files rather than `id`: no extra process, and the error names what is missing.
  const field = (file: string, key: string, at: number) => {
    const line = readFileSync(file, 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${key}:`));
    if (!line) throw new Error(`postfix-relay: no ${key} in ${file}: is the postfix package installed? (scripts/test.sh installs it)`);
    return Number(line.split(':')[at]);
  };
  return { uid: field('/etc/passwd', name, 2), gid: field('/etc/group', group, 2) };
}

/**
 * Every live process whose environment carries MAIL_CONFIG=<conf> (master gets it from us, its daemons inherit it, and
 * they keep it whatever process group they end up in), plus the given pids (the sinks). /proc because `ps` cannot show
 * another process's environment; reading it needs root, which this helper needs anyway.
 */
function instancePids(conf: string, extra: number[]): number[] {
  const mark = Buffer.from(`MAIL_CONFIG=${conf}\0`);
  const found = new Set<number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    try {
      const env = readFileSync(`/proc/${name}/environ`);
      // A zombie (exited, not yet reaped) has an empty environ; it is gone for this purpose.
      if (env.includes(mark) || (extra.includes(pid) && alive(pid))) found.add(pid);
    } catch {
      // Gone between readdir and read.
    }
  }
  return [...found].sort((a, b) => a - b);
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The state letter follows the command in parentheses; Z (zombie) and X (dead) are not running.
    return !/^\d+ \(.*\) [ZX]/s.test(stat);
  } catch {
    return false;
  }
}

/** Connects until the server's 220 greeting arrives: the listener is up and the daemon behind it (smtpd) runs. */
async function greets(port: number, deadline: number, dead: () => string | null): Promise<void> {
  let last = '';
  while (Date.now() < deadline) {
    const why = dead();
    if (why) throw new Error(why);
    const line = await new Promise<string>((resolve) => {
      const c = net.connect(port, '127.0.0.1');
      let got = '';
      const done = (s: string) => {
        c.destroy();
        resolve(s);
      };
      c.setTimeout(2000, () => done(`timeout (${got})`));
      c.on('data', (d) => {
        got += d.toString('latin1');
        if (got.includes('\n')) {
          c.write('QUIT\r\n');
          done(got.split('\n')[0]!);
        }
      });
      c.on('error', (e) => done(e.message));
    });
    if (line.startsWith('220')) return;
    last = line;
    await sleep(100);
  }
  throw new Error(`no SMTP greeting on 127.0.0.1:${port} (last: ${last})`);
}

function parseDump(file: Buffer): SinkMessage {
  const text = file.toString('latin1');
  const headEnd = text.search(/\r?\n\r?\n/);
  const head = text.slice(0, headEnd < 0 ? text.length : headEnd).split(/\r?\n/);
  const addr = (args: string) => /<([^>]*)>/.exec(args)?.[1] ?? '';
  const from = addr(head.find((l) => l.startsWith('X-Mail-Args:')) ?? '');
  const to = head.filter((l) => l.startsWith('X-Rcpt-Args:')).map(addr);
  // smtp-sink's headers end with its three-line Received header ("from .../by ... (smtp-sink) .../date"); what follows
  // is the message as sent.
  const lines = text.split('\n');
  let i = lines.findIndex((l) => /^Received: from /.test(l));
  if (i >= 0) {
    i++;
    while (i < lines.length && /^[ \t]/.test(lines[i]!)) i++;
  } else i = 0;
  return { from, to, raw: Buffer.from(lines.slice(i).join('\n'), 'latin1') };
}

export async function startPostfixRelay(opts: PostfixRelayOptions): Promise<PostfixRelay> {
  if (process.getuid?.() !== 0) throw new Error('postfix-relay: needs root (Postfix master runs as root and hands its daemons to the postfix user)');
  if (!existsSync(MASTER) || !SINK) throw new Error(`postfix-relay: ${MASTER} or smtp-sink missing: install the postfix package (scripts/test.sh does)`);
  const { uid: postfixUid } = userIds('postfix', 'postfix');
  const { gid: postdropGid } = userIds('postfix', 'postdrop');
  const myhostname = opts.myhostname ?? 'relay.paperboy.test';

  const dir = mkdtempSync(path.join(tmpdir(), 'paperboy-postfix-'));
  // mkdtemp makes it 0700 root: the daemons run as postfix and must reach queue/ through it; the sinks run as nobody.
  chmodSync(dir, 0o755);
  const conf = path.join(dir, 'conf');
  const queue = path.join(dir, 'queue');
  const data = path.join(dir, 'data');
  const dumps = path.join(dir, 'sink');
  const maillog = path.join(dir, 'maillog');
  mkdirSync(conf);
  // The queue layout and owners from /etc/postfix/postfix-files, made here instead of by `postfix check` (post-install
  // create-missing): that also inspects the system install and takes seconds; these are all master and its daemons need.
  mkdirSync(queue, { mode: 0o755 });
  for (const sub of ['active', 'bounce', 'corrupt', 'defer', 'deferred', 'flush', 'hold', 'incoming', 'private', 'saved', 'trace']) {
    mkdirSync(path.join(queue, sub), { mode: 0o700 });
    chownSync(path.join(queue, sub), postfixUid, 0);
  }
  mkdirSync(path.join(queue, 'maildrop'));
  chownSync(path.join(queue, 'maildrop'), postfixUid, postdropGid);
  chmodSync(path.join(queue, 'maildrop'), 0o730);
  mkdirSync(path.join(queue, 'public'));
  chownSync(path.join(queue, 'public'), postfixUid, postdropGid);
  chmodSync(path.join(queue, 'public'), 0o710);
  mkdirSync(path.join(queue, 'pid'), { mode: 0o755 });
  mkdirSync(data, { mode: 0o700 });
  chownSync(data, postfixUid, 0);
  mkdirSync(dumps);
  chmodSync(dumps, 0o777);

  const [smtpdPort, sinkPort, rejectPort] = [await freePort(), await freePort(), await freePort()];
  const rejectReply = `550 5.1.1 <${opts.rejectAddress}>: Recipient address rejected: User unknown`;
  const bounceNexthop = `[${opts.bounceTo.host}]:${opts.bounceTo.port}`;

  // Why each setting (the rest are Postfix defaults):
  // - compatibility_level 2 (valid from Postfix 3.0 on); what later levels changed is set explicitly below.
  // - mydestination empty, local_transport error: nothing is delivered locally, every address is relayed or bounced.
  // - relayhost the accepting sink; transport_maps sends the bounce domain (Postfix's DSNs to the VERP address) to
  //   bounceTo and the one refused address to the rejecting sink (transport(5) looks up the full address first).
  //   texthash needs no postmap run and no .db file.
  // - smtp_dns_support_level disabled + smtp_host_lookup native + [brackets]: no MX or DNS query, nothing leaves the box.
  // - smtpd_peername_lookup no: no reverse lookup of 127.0.0.1 per connection (slow where DNS is unreachable).
  // - inet_protocols ipv4 + inet_interfaces loopback-only: the smtp client binds and connects to 127.0.0.1 only.
  // - TLS off both ways: smtp-server would offer STARTTLS with a self-signed certificate otherwise.
  // - 5xx replies bounce at once (Postfix default); short backoff/queue times keep a transient failure (bounceTo not
  //   yet listening) to seconds, not the 5 minutes of minimal_backoff_time, and stop retries within the test's life.
  // - notify_classes empty: no postmaster notices, which would go to the sink and confuse message counts.
  // - maillog_file (Postfix >= 3.4, postlogd) into the temp dir: the test shows the log on failure; no syslog needed.
  //   maillog_file_prefixes must allow the path.
  // - in_flow_delay 0: smtpd does not pause when mail arrives faster than the queue manager takes it.
  writeFileSync(
    path.join(conf, 'main.cf'),
    `compatibility_level = 2
queue_directory = ${queue}
data_directory = ${data}
mail_owner = postfix
setgid_group = postdrop
myhostname = ${myhostname}
mydomain = ${myhostname}
myorigin = $myhostname
mydestination =
local_transport = error:5.1.1 local delivery is disabled in this relay
alias_maps =
alias_database =
local_recipient_maps =
relay_domains =
relayhost = [127.0.0.1]:${sinkPort}
transport_maps = texthash:${conf}/transport
inet_protocols = ipv4
inet_interfaces = loopback-only
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions =
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
smtp_host_lookup = native
smtp_tls_security_level = none
smtpd_tls_security_level = none
smtputf8_enable = no
append_dot_mydomain = no
biff = no
notify_classes =
in_flow_delay = 0
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
maximal_queue_lifetime = 60s
bounce_queue_lifetime = 60s
smtp_connect_timeout = 5s
maillog_file = ${maillog}
maillog_file_prefixes = ${dir}
`,
  );
  writeFileSync(path.join(conf, 'transport'), `${opts.rejectAddress} smtp:[127.0.0.1]:${rejectPort}\n${opts.bounceDomain} smtp:${bounceNexthop}\n`);
  // Only the services this relay uses: smtpd on its port, the queue machinery, the smtp client, bounce/defer/trace for
  // DSNs, postlogd for maillog_file. No pickup (nothing uses sendmail), no local, no TLS manager. chroot n everywhere:
  // a chroot would need copies of /etc files inside the temp queue dir.
  writeFileSync(
    path.join(conf, 'master.cf'),
    `127.0.0.1:${smtpdPort} inet n - n - - smtpd
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
`,
  );

  let output = '';
  const collect = (name: string, child: ChildProcess) => {
    const add = (c: Buffer) => (output += c.toString('latin1').replace(/^(?=.)/gm, `[${name}] `));
    child.stdout?.on('data', add);
    child.stderr?.on('data', add);
  };
  let savedLog: string | null = null;
  const log = () => {
    if (savedLog !== null) return savedLog;
    let file = '';
    try {
      file = readFileSync(maillog, 'latin1');
    } catch {
      // Not written yet.
    }
    return file + output;
  };

  // Nothing may outlive the test process, even one killed with SIGKILL (vitest timing out a worker, Ctrl-C twice):
  // - Each process runs under WATCHDOG, whose stdin is a pipe from this process: the kernel closes it however this
  //   process ends, and on EOF the watchdog signals its child. Not `setpriv --pdeathsig`: the kernel clears the
  //   parent-death signal when a process changes credentials, which smtp-sink (-u nobody) and master (set_eugid to
  //   the postfix user for data_directory) both do, so they survived a SIGKILLed parent (seen).
  // - master runs in the foreground with -s (what `postfix start-fg` runs when it is not PID 1; `postfix start` would
  //   daemonize via -w). Without -d master calls setsid(), so it leads its own process group, and on SIGTERM it kills
  //   that group (its daemons) and exits. With -d it would stay in vitest's group and take the test runner with it.
  // - master is run directly, not through `postfix -c dir start-fg`: postfix-script would first run its checks of the
  //   system install (post-install, find over the queue), seconds on two cores, for no gain here.
  // - a process 'exit' handler SIGKILLs whatever is left, synchronously, for a test file that exits without stop().
  const env = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', MAIL_CONFIG: conf };
  const run = (name: string, signal: string, argv: string[]) => {
    const child = spawn('/bin/sh', ['-c', WATCHDOG, name, signal, ...argv], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    collect(name, child);
    return child;
  };
  const sinkArgs = ['-u', 'nobody', '-4', '-h'];
  const sink = run('smtp-sink', 'TERM', [SINK, ...sinkArgs, 'sink.test', '-c', '-d', `${dumps}/%M.`, `127.0.0.1:${sinkPort}`, '64']);
  // smtp-sink refuses by command, not by address (-f RCPT refuses every RCPT, -B sets the reply), so the refused
  // address gets its own sink via transport_maps. The reply is sent verbatim, 5.1.1 included.
  const reject = run('reject-sink', 'TERM', [SINK, ...sinkArgs, 'reject-sink.test', '-f', 'RCPT', '-B', rejectReply, `127.0.0.1:${rejectPort}`, '64']);
  // SIGTERM is what `postfix abort` sends, and `postfix stop` too (through postfix-script): master passes it to its
  // process group and exits.
  const master = run('master', 'TERM', [MASTER, '-c', conf, '-s']);
  const children = [sink, reject, master];
  const exited = new Map<ChildProcess, string>();
  for (const [name, c] of [
    ['smtp-sink', sink],
    ['reject-sink', reject],
    ['master', master],
  ] as const) {
    c.on('exit', (code, signal) => exited.set(c, `${name} exited (${signal ?? code})`));
    c.on('error', (e) => exited.set(c, `${name}: ${e.message}`));
    // EPIPE on a watchdog's stdin once it is gone is expected.
    c.stdin!.on('error', () => {});
  }
  const childPids = () => children.map((c) => c.pid).filter((p): p is number => p !== undefined);
  const pids = () => instancePids(conf, childPids());

  const killNow = () => {
    for (const pid of pids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  };
  const onExit = () => {
    killNow();
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', onExit);

  let stopped: Promise<void> | null = null;
  const stop = () =>
    (stopped ??= (async () => {
      // The watchdogs' EOF: each signals its child, as when this process dies.
      for (const c of children) c.stdin!.end();
      const deadline = Date.now() + 5000;
      while (pids().length > 0 && Date.now() < deadline) await sleep(50);
      // A daemon that ignored the signal (busy in a write, say) is not left behind.
      killNow();
      for (let i = 0; i < 40 && pids().length > 0; i++) await sleep(25);
      savedLog = log();
      process.off('exit', onExit);
      rmSync(dir, { recursive: true, force: true });
    })());

  const dead = () => {
    for (const c of children) {
      const why = exited.get(c);
      if (why) return `postfix-relay: ${why} during startup\n${log()}`;
    }
    return null;
  };
  const deadline = Date.now() + (opts.startTimeoutMs ?? 15_000);
  try {
    await Promise.all([greets(smtpdPort, deadline, dead), greets(sinkPort, deadline, dead), greets(rejectPort, deadline, dead)]);
  } catch (e) {
    const text = log();
    await stop();
    throw new Error(`${(e as Error).message}\n--- postfix log ---\n${text}`);
  }

  const sinkMessages = (): SinkMessage[] => {
    // smtp-sink's -c counters (mesg=N, printed at each ".") say how many dump files are whole; a file still being
    // written is left out by taking the N oldest. Names are %M.<random>, so mtime orders them.
    const counted = [...output.matchAll(/mesg=(\d+)/g)].map((m) => Number(m[1]));
    const whole = counted.length ? Math.max(...counted) : 0;
    let files: { file: string; mtime: number }[] = [];
    try {
      files = readdirSync(dumps, { recursive: true, withFileTypes: true })
        .filter((f) => f.isFile())
        .map((f) => {
          const file = path.join(f.parentPath, f.name);
          return { file, mtime: statSync(file).mtimeMs };
        })
        .sort((a, b) => a.mtime - b.mtime);
    } catch {
      // Removed by stop().
    }
    return files.slice(0, whole).map((f) => parseDump(readFileSync(f.file)));
  };

  return {
    port: smtpdPort,
    sink: {
      port: sinkPort,
      messages: sinkMessages,
      async waitFor(count, timeoutMs = 10_000) {
        const until = Date.now() + timeoutMs;
        while (Date.now() < until) {
          const got = sinkMessages();
          if (got.length >= count) return got;
          await sleep(50);
        }
        throw new Error(`smtp-sink: expected ${count} message(s), got ${sinkMessages().length}\n--- postfix log ---\n${log()}`);
      },
    },
    rejectSink: { port: rejectPort, reply: rejectReply },
    dir,
    pids,
    log,
    stop,
  };
}
