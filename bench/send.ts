// Owns the `send` bench: paperboy's real delivery path (and its SMTP client alone) vs stock nodemailer vs smtp-source -d, same run.
import nodemailer from 'nodemailer';
import { PipeliningMessenger } from '../src/mail/pipelining-messenger.js';
import type { SendResult } from '../src/mail/messenger.js';
import os from 'node:os';
import { machine, machineLine, median, num, options, table, writeResult, type BenchPart } from './lib/part.js';
import { buildDigestFixture, type DigestFixture } from './lib/digest-fixture.js';
import { runSmtpSource, sinkReached, startSink, type SourceRun } from './postfix.js';
import type { Store } from '../src/db/open.js';
import { buildWorld, checkLedger, realSend, sampleMessage, type World } from './lib/paperboy-world.js';

export interface SenderRun {
  sender: string;
  messages: number;
  seconds: number;
  perSecond: number;
  failed: number;
  sinkCounted: number;
  verified?: unknown;
}

/** Runs `send(i)` for i < n with at most `window` in flight; never a Promise.all over the whole list. */
export async function bounded(n: number, window: number, send: (i: number) => Promise<unknown>): Promise<number> {
  let inflight = 0;
  let failed = 0;
  let wake: (() => void) | null = null;
  const settle = () => {
    inflight--;
    const w = wake;
    wake = null;
    w?.();
  };
  for (let i = 0; i < n; i++) {
    while (inflight >= window) await new Promise<void>((r) => (wake = r));
    inflight++;
    send(i).then(settle, () => {
      failed++;
      settle();
    });
  }
  while (inflight > 0) await new Promise<void>((r) => (wake = r));
  return failed;
}

export interface SendContext {
  n: number;
  connections: number;
  /** Messages in flight at most (the caller's bound; never all N at once). */
  window: number;
  fixture: DigestFixture;
  /** Every subscriber's selection differs (`--distinct`): the delivery path assembles each message from blocks. */
  distinct: boolean;
}

/**
 * One sender measured against smtp-sink. Add the full delivery path (ledger, render, personalise) as a contender
 * with `primary: true`: its ratio becomes the verdict. `prepare` is not timed (seeding, rendering the digest);
 * `send` is, up to `close()` returning, and must send ctx.n messages to 127.0.0.1:port.
 */
export interface Contender {
  key: string;
  label: string;
  primary?: boolean;
  prepare?(ctx: SendContext): Promise<unknown>;
  send(ctx: SendContext, port: number, prepared: unknown): Promise<{ failed: number; close(): Promise<void> }>;
  /** Untimed, after the sink has counted: throws when the run did not do what it claims (e.g. the ledger is short). */
  verify?(ctx: SendContext, prepared: unknown): Promise<unknown> | unknown;
}

async function timed(c: Contender, ctx: SendContext): Promise<SenderRun> {
  const prepared = await c.prepare?.(ctx);
  const sink = await startSink();
  try {
    const t0 = process.hrtime.bigint();
    const r = await c.send(ctx, sink.port, prepared);
    await r.close();
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const counted = await sinkReached(sink, ctx.n - r.failed);
    const verified = await c.verify?.(ctx, prepared);
    return {
      sender: c.label,
      messages: ctx.n,
      seconds,
      perSecond: (ctx.n - r.failed) / seconds,
      failed: r.failed,
      sinkCounted: counted,
      ...(verified ? { verified } : {}),
    };
  } finally {
    await sink.stop();
    (prepared as { cleanup?: () => void } | undefined)?.cleanup?.();
  }
}

interface RealPrepared {
  world: World;
  store?: Store;
  cleanup(): void;
}

/**
 * The real thing, and the verdict: `paperboy send --force` to ctx.n subscribers (seeded untimed), i.e. the delivery
 * service planning (selection, one MJML render, ledger rows), the sender claiming and recording every delivery, MIME
 * personalised per recipient (own Message-ID, signed unsubscribe links), through the pipelining messenger.
 */
export const paperboyDelivery: Contender = {
  key: 'delivery',
  label: 'paperboy send --force (ledger, select, assemble, SMTP)',
  primary: true,
  async prepare({ n, distinct }): Promise<RealPrepared> {
    const world = buildWorld(n, 10, { distinct });
    if (distinct && world.distinct !== n) throw new Error(`only ${world.distinct} distinct selections for ${n} subscribers`);
    const prepared: RealPrepared = { world, cleanup: () => (prepared.store?.close(), world.cleanup()) };
    return prepared;
  },
  async send({ n, connections }, port, p) {
    const prepared = p as RealPrepared;
    const run = await realSend(prepared.world, port, connections);
    prepared.store = run.store;
    return { failed: n - run.summary.counts.sent, close: () => run.close() };
  },
  verify({ n, distinct }, p) {
    const check = checkLedger((p as RealPrepared).store!);
    if (distinct && check.distinctVariants !== n) throw new Error(`ledger: ${check.distinctVariants} distinct digests for ${n} deliveries`);
    if (check.sent !== n || check.other !== 0) throw new Error(`ledger: ${check.sent} sent, ${check.other} not sent, of ${n}`);
    if (check.distinctMessageIds !== n) throw new Error(`ledger: ${check.distinctMessageIds} distinct Message-IDs for ${n} deliveries`);
    return check;
  },
};

/**
 * For `--distinct`: the same delivery path where every subscriber has the same selection, in the same run, so the
 * figure shows what distinct selections cost on top (on a shared machine the absolute rates move with the load).
 */
export const paperboyDeliverySame: Contender = {
  key: 'delivery-same',
  label: 'paperboy send --force, one selection for all',
  prepare: (ctx) => paperboyDelivery.prepare!({ ...ctx, distinct: false }),
  send: (ctx, port, p) => paperboyDelivery.send({ ...ctx, distinct: false }, port, p),
  verify: (ctx, p) => paperboyDelivery.verify!({ ...ctx, distinct: false }, p),
};

/** paperboy's messenger alone: body dot-stuffed once, per recipient three substitutions (no ledger, no MIME build). */
export const paperboyMessenger: Contender = {
  key: 'paperboy',
  label: 'paperboy messenger alone, stuffed once',
  async send({ n, connections, window, fixture: fx }, port) {
    const m = new PipeliningMessenger({ url: `smtp://127.0.0.1:${port}?starttls=never`, poolSize: connections });
    const failed = await bounded(n, window, async (i): Promise<SendResult> => {
      const { raw, dotStuffed } = await fx.wire(i);
      return m.sendRaw({ envelope: { from: fx.envelopeFrom, to: [fx.recipient(i)] }, raw, messageId: fx.messageId(i), dotStuffed });
    });
    return { failed, close: () => m.close() };
  },
};

/** The same messenger handed unstuffed bytes: it normalises and stuffs every message (what stuffing once saves). */
export const paperboyUnstuffed: Contender = {
  key: 'unstuffed',
  label: 'paperboy messenger, stuffed per message',
  async send({ n, connections, window, fixture: fx }, port) {
    const m = new PipeliningMessenger({ url: `smtp://127.0.0.1:${port}?starttls=never`, poolSize: connections });
    const failed = await bounded(
      n,
      window,
      async (i): Promise<SendResult> =>
        m.sendRaw({ envelope: { from: fx.envelopeFrom, to: [fx.recipient(i)] }, raw: await fx.plain(i), messageId: fx.messageId(i) }),
    );
    return { failed, close: () => m.close() };
  },
};

/** Stock nodemailer: pooled SMTP transport, the same personalised bytes handed over as `raw`. */
export const nodemailerRaw: Contender = {
  key: 'nodemailer',
  label: 'stock nodemailer pooled, raw',
  async send({ n, connections, window, fixture: fx }, port) {
    const t = nodemailer.createTransport({
      pool: true,
      host: '127.0.0.1',
      port,
      secure: false,
      ignoreTLS: true,
      maxConnections: connections,
      maxMessages: Infinity,
    });
    const failed = await bounded(n, window, async (i) => t.sendMail({ envelope: { from: fx.envelopeFrom, to: [fx.recipient(i)] }, raw: await fx.plain(i) }));
    return { failed, close: async () => t.close() };
  },
};

/** Measured in this order in every run; `--only=paperboy,nodemailer` picks by key. */
export const contenders: Contender[] = [paperboyDelivery, paperboyDeliverySame, paperboyMessenger, paperboyUnstuffed, nodemailerRaw];

export const sendPart: BenchPart = {
  name: 'send',
  description: 'messages/s: paperboy vs stock nodemailer vs smtp-source -d, each to a fresh smtp-sink, same run',
  async run(args) {
    const o = options(args);
    const n = num(o, 'n', 20_000);
    const c = num(o, 'connections', 5);
    const runs = num(o, 'runs', 3);
    const window = num(o, 'window', c * 8);
    const only =
      o.get('only')?.split(',') ?? (o.has('distinct') ? ['delivery', 'delivery-same', 'paperboy'] : ['delivery', 'paperboy', 'unstuffed', 'nodemailer']);
    const selected = contenders.filter((x) => !only || only.includes(x.key));
    // Every contender and smtp-source move messages of the real digest's size (one subscriber's message, measured).
    const distinct = o.has('distinct');
    // With distinct selections digests differ in size (6-14 papers): smtp-source moves the mean of the first 40.
    const probe = buildWorld(distinct ? 40 : 1, 10, { distinct });
    const sizes: number[] = [];
    try {
      for (let id = 1; id <= probe.subscribers; id++) sizes.push((await sampleMessage(probe, id)).length);
    } finally {
      probe.cleanup();
    }
    const realSize = Math.round(sizes.reduce((a, b) => a + b, 0) / sizes.length);
    const fixture = await buildDigestFixture(num(o, 'size', realSize));
    const ctx: SendContext = { n, connections: c, window, fixture, distinct };
    console.log(`real digest: ${realSize} bytes${distinct ? ' (mean of 40 distinct selections)' : ''}; fixture: ${fixture.size} bytes`);
    if (distinct) console.log(`--distinct: every one of the ${n} subscribers has a selection of their own (topics and size drawn until none repeats)`);
    console.log(`${n} messages of ${fixture.size} bytes over ${c} connections, ${window} in flight, median of ${runs} runs`);
    const perRun: { source: SourceRun; senders: SenderRun[] }[] = [];
    for (let r = 0; r < runs; r++) {
      const source = await runSmtpSource(n, realSize, c);
      const senders: SenderRun[] = [];
      for (const x of selected) {
        const res = await timed(x, ctx);
        if (res.failed > 0 || res.sinkCounted !== n) throw new Error(`${res.sender}: ${res.failed} failed, sink counted ${res.sinkCounted} of ${n}`);
        senders.push(res);
      }
      perRun.push({ source, senders });
      console.log(
        `run ${r + 1} (load ${os.loadavg()[0]!.toFixed(2)}): smtp-source ${Math.round(source.perSecond)}/s, ` +
          senders.map((s) => `${s.sender} ${Math.round(s.perSecond)}/s`).join(', '),
      );
    }
    // Ratios are taken within a run (same machine load), then the median over runs.
    const rows: Record<string, string | number>[] = [
      { sender: 'smtp-source -d (raw SMTP rate)', 'msg/s (median)': Math.round(median(perRun.map((r) => r.source.perSecond))), 'ratio to smtp-source': 1 },
    ];
    const medians: Record<string, { perSecond: number; ratio: number }> = {};
    selected.forEach((x, k) => {
      const perSecond = median(perRun.map((r) => r.senders[k]!.perSecond));
      const ratio = median(perRun.map((r) => r.senders[k]!.perSecond / r.source.perSecond));
      medians[x.key] = { perSecond, ratio };
      rows.push({ sender: x.label, 'msg/s (median)': Math.round(perSecond), 'ratio to smtp-source': ratio });
    });
    table(rows);
    const primary = selected.find((x) => x.primary);
    if (primary) {
      const ratio = medians[primary.key]!.ratio;
      const target = distinct ? 0.8 : 0.5;
      console.log(
        `${primary.label}${distinct ? `, ${n} distinct selections` : ''} / smtp-source = ${ratio.toFixed(2)} (target >= ${target.toFixed(2)}): ${ratio >= target ? 'PASS' : 'FAIL'}`,
      );
      console.log(`measured on ${machineLine()}`);
    }
    console.log(
      'results: ' +
        writeResult('send', {
          messages: n,
          distinct,
          machine: machine(),
          loadAverage: os.loadavg(),
          sizeBytes: realSize,
          fixtureBytes: fixture.size,
          connections: c,
          window,
          runs: perRun,
          median: medians,
          primary: primary?.key,
        }),
    );
  },
};
