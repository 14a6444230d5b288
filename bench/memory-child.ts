// Owns the process measured by bench/memory.ts: runs one named workload for N recipients and prints its peak RSS.
import { PipeliningMessenger } from '../src/mail/pipelining-messenger.js';
import { PLACEHOLDERS, buildDigestFixture } from './lib/digest-fixture.js';
import { bounded } from './send.js';

/** Workloads by name; the delivery sender goes here once it exists (seed N subscribers, run an edition). */
const workloads: Record<string, (n: number) => Promise<unknown>> = {
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

const [name = 'smtp', nArg = '10000'] = process.argv.slice(2);
const work = workloads[name];
if (!work) throw new Error(`unknown memory workload ${name}; known: ${Object.keys(workloads).join(', ')}`);
const t0 = performance.now();
const detail = await work(Number(nArg));
(globalThis as { gc?: () => void }).gc?.();
const peakRssMB = process.resourceUsage().maxRSS / 1024;
console.log(JSON.stringify({ peakRssMB: Math.round(peakRssMB * 10) / 10, seconds: (performance.now() - t0) / 1000, detail }));
