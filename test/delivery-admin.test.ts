// Admin sends: the cron tick, `paperboy send` and POST /admin/send at once, two processes at once, the CLI modes, the dashboard.
import { requireAdmin } from '../src/admin/auth.js';
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { simpleParser } from 'mailparser';
import { setTimeout as sleep } from 'node:timers/promises';
import { systemClock } from '../src/clock.js';
import { silentLogger } from '../src/log.js';
import type { Store } from '../src/db/open.js';
import type { Config } from '../src/config.js';
import { createDeliveryService, type DeliveryDeps } from '../src/delivery/send-runs.js';
import { startScheduler } from '../src/delivery/scheduler.js';
import { registerAdminSendRoutes } from '../src/admin/send-routes.js';
import { Command } from 'commander';
import { runSendCommand, registerSendCommand, type SendIo } from '../src/cli/send.js';
import type { Messenger } from '../src/mail/messenger.js';
import { replies, startSmtpReceiver, type SmtpReceiver } from './helpers/smtp-receiver.js';
import { createSmtpTestMessenger } from './helpers/smtp-messenger.js';
import { tempDir, testConfig, insertPapers, insertSubscribers, openTestStore, testDigest } from './helpers/delivery-fixtures.js';
import { spawnSender } from './helpers/delivery-spawn-sender.js';

const TOKEN = 'admin-token-0123456789';
let tmp: ReturnType<typeof tempDir>;
let sink: SmtpReceiver;
let config: Config;
const opened: { close(): unknown }[] = [];

beforeEach(async () => {
  tmp = tempDir();
  sink = await startSmtpReceiver();
  config = testConfig(tmp.dir);
});
afterEach(async () => {
  for (const o of opened.splice(0).reverse()) await o.close();
  await sink.close();
  tmp.cleanup();
});

function deps(store: Store): DeliveryDeps {
  const messenger: Messenger = createSmtpTestMessenger(sink.port);
  opened.push(messenger);
  return { config, store, clock: systemClock, log: silentLogger, messenger, digest: testDigest(store, config, systemClock) };
}
function open(): Store {
  const s = openTestStore(config);
  opened.push(s);
  return s;
}
async function server(d: DeliveryDeps): Promise<{ app: FastifyInstance; url: string; service: ReturnType<typeof createDeliveryService> }> {
  const service = createDeliveryService(d, { pollMs: 10 });
  const app = Fastify();
  await registerAdminSendRoutes(app, {
    service,
    store: d.store,
    clock: d.clock,
    config: d.config,
    guard: requireAdmin({ config: { ADMIN_TOKEN: TOKEN, PUBLIC_URL: 'http://localhost' } }),
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  opened.push({ close: () => app.close() }, { close: () => service.close() });
  return { app, url, service };
}
const quiet = (): SendIo & { text: string } => {
  const io = { text: '', progressStream: null, out: (t: string) => void (io.text += t) };
  return io;
};
async function waitRun(url: string, id: string) {
  for (;;) {
    const r = (await (await fetch(`${url}/admin/send/${id}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as {
      status: string;
      counts: { sent: number };
    };
    if (r.status !== 'running') return r;
    await sleep(20);
  }
}
function perRecipient(): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of sink.received) m.set(r.to[0]!, (m.get(r.to[0]!) ?? 0) + 1);
  return m;
}

describe('racing senders', () => {
  it('cron tick, `paperboy send` and POST /admin/send at once: one edition, one message per subscriber', async () => {
    const store = open();
    insertPapers(store, 10);
    insertSubscribers(store, 150);
    const { url, service } = await server(deps(store));
    const scheduler = startScheduler(service, silentLogger, { cron: false });
    // The CLI is its own process in real life: its own connection, its own service and lease holder.
    const cliStore = open();
    const [tick, cli, post] = await Promise.all([
      scheduler.tick(),
      runSendCommand(deps(cliStore), { force: true }, quiet()),
      fetch(`${url}/admin/send`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'idempotency-key': 'race-1' },
        body: JSON.stringify({ mode: 'force' }),
      }),
    ]);
    expect(post.status).toBe(202);
    const { runId } = (await post.json()) as { runId: string };
    const report = (await waitRun(url, runId)) as unknown as { editions: { sent: number; waiting: number }[] };
    await scheduler.stop();
    // The run's report carries its edition as a whole, whichever of the three racers sent the rows.
    expect(report.editions).toEqual([expect.objectContaining({ sent: 150, waiting: 0 })]);
    expect(tick!.plan.queued + cli.plan.queued + service.getRun(runId)!.planned).toBe(150);
    expect(store.db.prepare('SELECT COUNT(*) FROM editions').pluck().get()).toBe(1);
    expect(store.db.prepare("SELECT COUNT(*) FROM deliveries WHERE status = 'sent'").pluck().get()).toBe(150);
    const counts = perRecipient();
    expect(counts.size).toBe(150);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  });

  it('two processes at once: one edition, one message per subscriber', async () => {
    const store = open();
    insertPapers(store, 10);
    insertSubscribers(store, 400);
    const a = spawnSender(tmp.dir, sink.port, { SEND_MODE: 'force' });
    const b = spawnSender(tmp.dir, sink.port, { SEND_MODE: 'due' });
    expect(await a.exit, a.out()).toBe(0);
    expect(await b.exit, b.out()).toBe(0);
    expect(store.db.prepare('SELECT COUNT(*) FROM editions').pluck().get()).toBe(1);
    expect(store.db.prepare("SELECT COUNT(*) FROM deliveries WHERE status = 'sent'").pluck().get()).toBe(400);
    const counts = perRecipient();
    expect(counts.size).toBe(400);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  }, 60_000);
});

describe('POST /admin/send', () => {
  it('needs the bearer token, answers a repeated Idempotency-Key with the same run, refuses the key for another request', async () => {
    const store = open();
    insertPapers(store, 5);
    insertSubscribers(store, 3);
    const { url } = await server(deps(store));
    const post = (headers: Record<string, string>, body: unknown) =>
      fetch(`${url}/admin/send`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    expect((await post({}, { mode: 'force' })).status).toBe(401);
    expect((await post({ authorization: 'Bearer wrong-token-0123456789' }, { mode: 'force' })).status).toBe(401);
    expect((await post({ authorization: `Bearer ${TOKEN}` }, { mode: 'nonsense' })).status).toBe(400);
    expect((await post({ authorization: `Bearer ${TOKEN}` }, { mode: 'to' })).status).toBe(400);
    const nobody = await post({ authorization: `Bearer ${TOKEN}` }, { mode: 'to', to: 'nobody@example.test' });
    expect(nobody.status).toBe(409);
    expect(((await nobody.json()) as { error: string }).error).toBe('no subscriber with the address nobody@example.test');

    const auth = { authorization: `Bearer ${TOKEN}`, 'idempotency-key': 'k-123' };
    const first = await post(auth, { mode: 'force' });
    expect(first.status).toBe(202);
    const a = (await first.json()) as { runId: string };
    const second = await post(auth, { mode: 'force' });
    expect(second.status).toBe(200);
    const b = (await second.json()) as { runId: string; existing: boolean };
    expect(b).toMatchObject({ runId: a.runId, existing: true });
    expect((await post(auth, { mode: 'due' })).status).toBe(409);
    const done = await waitRun(url, a.runId);
    expect(done.counts.sent).toBe(3);
    expect(sink.received).toHaveLength(3);
    expect(store.db.prepare('SELECT COUNT(*) FROM send_runs').pluck().get()).toBe(1);
  });
});

describe('paperboy send', () => {
  it('--dry-run lists who would get what and writes nothing; --to sends one; --test-address leaves the ledger alone', async () => {
    const store = open();
    insertPapers(store, 6);
    insertSubscribers(store, 3, (i) => ({
      delivery_hour: 23,
      time_zone: 'Pacific/Kiritimati',
      confirmed_at: new Date(Date.now() - 60_000).toISOString(),
      email: `r${i}@example.test`,
    }));
    const d = deps(store);

    const dry = quiet();
    const plan = await runSendCommand(d, { dryRun: true, force: true }, dry);
    expect(plan.plan.queued).toBe(3);
    expect(dry.text).toContain('r2@example.test');
    expect(dry.text).toMatch(/3 paper\(s\): \d+, \d+, \d+/);
    expect(store.db.prepare('SELECT COUNT(*) FROM deliveries').pluck().get()).toBe(0);

    // Confirmed a minute ago with a delivery hour not yet come: plain `send` has nobody due.
    const due = await runSendCommand(d, {}, quiet());
    expect(due.plan.queued).toBe(0);

    const one = quiet();
    const to = await runSendCommand(d, { to: 'r2@example.test' }, one);
    expect(to.counts.sent).toBe(1);
    expect(one.text).toMatch(/sent 1, failed 0/);
    expect(sink.received.map((r) => r.to[0])).toEqual(['r2@example.test']);
    await expect(runSendCommand(d, { to: 'nobody@example.test' }, quiet())).rejects.toThrow(/no subscriber/);
    await expect(runSendCommand(d, { to: 'r1@example.test', force: true }, quiet())).rejects.toThrow(/only one of/);

    const before = store.db.prepare('SELECT COUNT(*) FROM deliveries').pluck().get();
    const test = quiet();
    await runSendCommand(d, { testAddress: 'editor@elsewhere.test' }, test);
    expect(test.text).toContain('test digest sent to editor@elsewhere.test');
    expect(store.db.prepare('SELECT COUNT(*) FROM deliveries').pluck().get()).toBe(before);
    expect(store.db.prepare('SELECT COUNT(*) FROM sent_papers WHERE subscriber_id NOT IN (SELECT id FROM subscribers)').pluck().get()).toBe(0);
    const mail = await simpleParser(sink.received.at(-1)!.raw);
    expect(mail.subject).toBe('“Paper 1: Schrödinger bridges & <b>diffusion</b>” + 5 more trending papers'); // DIGEST_SIZE_DEFAULT is 10; the corpus has 6
    expect(mail.text).toContain('Paper 1');

    // --force now reaches the other two, and never r2 a second time in this edition.
    const force = await runSendCommand(d, { force: true }, quiet());
    expect(force.counts.sent).toBe(2);
    expect(sink.received.filter((r) => r.to[0] === 'r2@example.test')).toHaveLength(1);
  });
});

describe('registerSendCommand', () => {
  it('parses the options into a run: --test-address, --kind, --dry-run', async () => {
    const store = open();
    insertPapers(store, 4);
    const d = deps(store);
    const program = new Command('paperboy').exitOverride();
    registerSendCommand(program, () => d);
    const writes: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((c: string) => (writes.push(String(c)), true)) as typeof process.stdout.write;
    try {
      await program.parseAsync(['node', 'paperboy', 'send', '--test-address', 'me@example.test', '--kind', 'new']);
      await expect(program.parseAsync(['node', 'paperboy', 'send', '--kind', 'weird'])).rejects.toThrow(/expected one of trending, new, both/);
    } finally {
      process.stdout.write = write;
    }
    expect(writes.join('')).toContain('test digest sent to me@example.test');
    expect(sink.received.map((r) => r.to[0])).toEqual(['me@example.test']);
    const mail = await simpleParser(sink.received[0]!.raw);
    expect(mail.subject).toBe('“Paper 4: Schrödinger bridges & <b>diffusion</b>” + 3 more new papers');
    expect(mail.text!.indexOf('Paper 4')).toBeLessThan(mail.text!.indexOf('Paper 1')); // kind new: newest first
    // The address is no subscriber: a one-click unsubscribe would point at nothing to leave.
    const head = sink.received[0]!.raw.toString('latin1').split('\r\n\r\n')[0]!;
    expect(head).not.toMatch(/^List-Unsubscribe-Post:/im);
    expect(head).not.toMatch(/^List-Unsubscribe:/im);
    expect(head).toMatch(/^List-Id:/im);
  });
});

describe('GET /admin', () => {
  it('shows subscribers by status, the last runs with counts, a chart of sends per day and failures with SMTP replies', async () => {
    const store = open();
    insertPapers(store, 5);
    insertSubscribers(store, 4);
    store.db.prepare("UPDATE subscribers SET status = 'unsubscribed' WHERE id = 4").run();
    sink.rcpt = (rcpt) => (rcpt === 'reader2@example.test' ? replies.userUnknown(rcpt) : null);
    const { url, service } = await server(deps(store));
    await service.run({ trigger: 'cli', mode: 'due' });
    expect((await fetch(`${url}/admin`)).status).toBe(401);
    const res = await fetch(`${url}/admin`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    const html = await res.text();
    // Label and figure in elements of their own, with a space between: never "unsubscribed1" as text.
    expect(html).toMatch(/unsubscribed<\/span> <span class="value">1<\/span>/);
    expect(html).toMatch(/bounced<\/span> <span class="value">1<\/span>/);
    expect(html).toMatch(/<rect [^>]*height="\d+"[^>]*><title>\d{4}-\d\d-\d\d: 2 sent<\/title>/);
    expect(html).toContain('reader2@example.test');
    expect(html).toMatch(/5\.1\.1/);
    expect(html).toMatch(
      /<td[^>]*>cli<\/td><td[^>]*>due<\/td>\s*<td[^>]*><span class="pill ok">done<\/span><\/td><td[^>]*>3<\/td><td[^>]*>2<\/td><td[^>]*>1<\/td><td[^>]*>0<\/td>/,
    );
  });
});
