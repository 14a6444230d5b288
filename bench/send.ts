// Owns the `send` bench: paperboy's SMTP path vs stock nodemailer (pooled, raw) vs smtp-source -d, same run, same sink.
import nodemailer from 'nodemailer';
import { PipeliningMessenger } from '../src/mail/pipelining-messenger.js';
import type { SendResult } from '../src/mail/messenger.js';
import { median, num, options, table, writeResult, type BenchPart } from './lib/part.js';
import { PLACEHOLDERS, buildDigestFixture, type DigestFixture } from './lib/digest-fixture.js';
import { runSmtpSource, sinkReached, startSink } from './postfix.js';

export interface SenderRun {
  sender: string;
  messages: number;
  seconds: number;
  perSecond: number;
  failed: number;
  sinkCounted: number;
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

async function timed(sender: string, n: number, body: (port: number) => Promise<{ failed: number; close(): Promise<void> }>): Promise<SenderRun> {
  const sink = await startSink();
  try {
    const t0 = process.hrtime.bigint();
    const r = await body(sink.port);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    await r.close();
    const counted = await sinkReached(sink, n - r.failed);
    return { sender, messages: n, seconds, perSecond: (n - r.failed) / seconds, failed: r.failed, sinkCounted: counted };
  } finally {
    await sink.stop();
  }
}

/** paperboy: pipelining messenger, body dot-stuffed once, per recipient three substitutions. */
export function runPaperboy(fx: DigestFixture, n: number, connections: number, window: number): Promise<SenderRun> {
  return timed('paperboy (pipelining, stuffed once)', n, async (port) => {
    const m = new PipeliningMessenger({ url: `smtp://127.0.0.1:${port}?starttls=never`, poolSize: connections });
    const failed = await bounded(n, window, (i): Promise<SendResult> => {
      const values = fx.values(i);
      return m.sendRaw({ envelope: { from: fx.envelopeFrom, to: [fx.recipient(i)] }, raw: fx.stuffed.render(values), messageId: values[PLACEHOLDERS.messageId]!, dotStuffed: true });
    });
    return { failed, close: () => m.close() };
  });
}

/** The same messenger handed unstuffed bytes: it normalises and stuffs every message (what stuffing once saves). */
export function runPaperboyUnstuffed(fx: DigestFixture, n: number, connections: number, window: number): Promise<SenderRun> {
  return timed('paperboy messenger, stuffed per message', n, async (port) => {
    const m = new PipeliningMessenger({ url: `smtp://127.0.0.1:${port}?starttls=never`, poolSize: connections });
    const failed = await bounded(n, window, (i): Promise<SendResult> => {
      const values = fx.values(i);
      return m.sendRaw({ envelope: { from: fx.envelopeFrom, to: [fx.recipient(i)] }, raw: fx.plain.render(values), messageId: values[PLACEHOLDERS.messageId]! });
    });
    return { failed, close: () => m.close() };
  });
}

/** Stock nodemailer: pooled SMTP transport, the same personalised bytes handed over as `raw`. */
export function runNodemailerRaw(fx: DigestFixture, n: number, connections: number, window: number): Promise<SenderRun> {
  return timed('nodemailer pooled, raw', n, async (port) => {
    const t = nodemailer.createTransport({ pool: true, host: '127.0.0.1', port, secure: false, ignoreTLS: true, maxConnections: connections, maxMessages: Infinity });
    const failed = await bounded(n, window, (i) => t.sendMail({ envelope: { from: fx.envelopeFrom, to: [fx.recipient(i)] }, raw: fx.plain.render(fx.values(i)) }));
    return { failed, close: async () => t.close() };
  });
}

export const sendPart: BenchPart = {
  name: 'send',
  description: 'messages/s: paperboy SMTP path and stock nodemailer vs smtp-source -d, to smtp-sink',
  async run(args) {
    const o = options(args);
    const n = num(o, 'n', 20_000);
    const c = num(o, 'connections', 5);
    const runs = num(o, 'runs', 3);
    const window = num(o, 'window', c * 8);
    const withNodemailer = o.get('nodemailer') !== 'false';
    const fx = await buildDigestFixture(num(o, 'size', 45_000));
    console.log(`${n} messages of ${fx.size} bytes over ${c} connections, ${window} in flight, median of ${runs} runs`);
    const all: { source: number; paperboy: number; unstuffed: number; nodemailer?: number }[] = [];
    const detail: unknown[] = [];
    for (let r = 0; r < runs; r++) {
      const src = await runSmtpSource(n, fx.size, c);
      const pb = await runPaperboy(fx, n, c, window);
      const un = await runPaperboyUnstuffed(fx, n, c, window);
      const nm = withNodemailer ? await runNodemailerRaw(fx, n, c, window) : undefined;
      for (const x of [pb, un, nm]) if (x && (x.failed > 0 || x.sinkCounted !== n)) throw new Error(`${x.sender}: ${x.failed} failed, sink counted ${x.sinkCounted} of ${n}`);
      all.push({ source: src.perSecond, paperboy: pb.perSecond, unstuffed: un.perSecond, nodemailer: nm?.perSecond });
      detail.push({ source: src, paperboy: pb, unstuffed: un, nodemailer: nm });
      console.log(`run ${r + 1}: smtp-source ${Math.round(src.perSecond)}/s, paperboy ${Math.round(pb.perSecond)}/s, stuffed per message ${Math.round(un.perSecond)}/s` + (nm ? `, nodemailer ${Math.round(nm.perSecond)}/s` : ''));
    }
    const source = median(all.map((a) => a.source));
    const paperboy = median(all.map((a) => a.paperboy));
    const ratio = median(all.map((a) => a.paperboy / a.source));
    const rows: Record<string, string | number>[] = [
      { sender: 'smtp-source -d (raw SMTP rate)', 'msg/s (median)': Math.round(source), 'ratio to smtp-source': 1 },
      { sender: 'paperboy (pipelining messenger)', 'msg/s (median)': Math.round(paperboy), 'ratio to smtp-source': ratio },
    ];
    rows.push({ sender: 'paperboy messenger, stuffed per message', 'msg/s (median)': Math.round(median(all.map((a) => a.unstuffed))), 'ratio to smtp-source': median(all.map((a) => a.unstuffed / a.source)) });
    let nmRatio: number | undefined;
    if (withNodemailer) {
      nmRatio = median(all.map((a) => a.nodemailer! / a.source));
      rows.push({ sender: 'stock nodemailer pooled, raw', 'msg/s (median)': Math.round(median(all.map((a) => a.nodemailer!))), 'ratio to smtp-source': nmRatio });
    }
    table(rows);
    console.log(`paperboy / smtp-source = ${ratio.toFixed(2)} (target >= 0.50): ${ratio >= 0.5 ? 'PASS' : 'FAIL'}`);
    console.log('results: ' + writeResult('send', { messages: n, sizeBytes: fx.size, connections: c, window, runs: detail, median: { source, paperboy, ratio, nodemailerRatio: nmRatio } }));
  },
};
