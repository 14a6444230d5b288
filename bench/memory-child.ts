// Owns the process measured by bench/memory.ts: runs one named workload for N recipients and prints its peak RSS.
import { PipeliningMessenger } from '../src/mail/pipelining-messenger.js';
import { PLACEHOLDERS, buildDigestFixture } from './lib/digest-fixture.js';
import { bounded } from './send.js';
import { buildWorld, checkLedger, realSend } from './lib/paperboy-world.js';

/** Workloads by name. */
const workloads: Record<string, (n: number) => Promise<unknown>> = {
  /**
   * The real sender: a temp ledger with the seed corpus and N subscribers (one bulk-insert transaction), then
   * `paperboy send --force` through the delivery service and the pipelining messenger to BENCH_SMTP_PORT.
   */
  async delivery(n) {
    const port = Number(process.env.BENCH_SMTP_PORT);
    if (!port) throw new Error('BENCH_SMTP_PORT is not set');
    const world = buildWorld(n);
    try {
      const t0 = performance.now();
      const run = await realSend(world, port, 5);
      await run.close();
      const sendSeconds = (performance.now() - t0) / 1000;
      const ledger = checkLedger(run.store);
      run.store.close();
      if (ledger.sent !== n) throw new Error(`ledger: ${JSON.stringify(ledger)} for ${n} subscribers`);
      return { sendSeconds, perSecond: Math.round(n / sendSeconds), ledger };
    } finally {
      world.cleanup();
    }
  },
  /** The SMTP fast path alone: N personalised sends through the pipelining messenger to BENCH_SMTP_PORT. */
  async smtp(n) {
    const port = Number(process.env.BENCH_SMTP_PORT);
    if (!port) throw new Error('BENCH_SMTP_PORT is not set');
    const fx = await buildDigestFixture();
    const m = new PipeliningMessenger({ url: `smtp://127.0.0.1:${port}?starttls=never`, poolSize: 5 });
    const failed = await bounded(n, 40, (i) => {
      const values = fx.values(i);
      return m.sendRaw({ envelope: { from: fx.envelopeFrom, to: [fx.recipient(i)] }, raw: fx.stuffed.render(values), messageId: values[PLACEHOLDERS.messageId]!, dotStuffed: true });
    });
    await m.close();
    return { failed };
  },
};

const [name = 'delivery', nArg = '10000'] = process.argv.slice(2);
const work = workloads[name];
if (!work) throw new Error(`unknown memory workload ${name}; known: ${Object.keys(workloads).join(', ')}`);
// Where the memory is, sampled while the workload runs: the peak of each part (MB) goes into the detail.
const peaks = { heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0, rss: 0 };
const sample = setInterval(() => {
  const m = process.memoryUsage();
  for (const k of Object.keys(peaks) as (keyof typeof peaks)[]) peaks[k] = Math.max(peaks[k], Math.round(m[k] / 2 ** 20));
}, 50);
const t0 = performance.now();
const result = await work(Number(nArg));
clearInterval(sample);
const detail = { ...(result as object), memoryPeaksMB: peaks };
(globalThis as { gc?: () => void }).gc?.();
const peakRssMB = process.resourceUsage().maxRSS / 1024;
console.log(JSON.stringify({ peakRssMB: Math.round(peakRssMB * 10) / 10, seconds: (performance.now() - t0) / 1000, detail }));
