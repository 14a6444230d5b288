// Owns the process bench/memory.ts measures for `--workload=smtp`: the SMTP fast path alone, N personalised sends.
import { PipeliningMessenger } from '../src/mail/pipelining-messenger.js';
import { buildDigestFixture } from './lib/digest-fixture.js';
import { bounded } from './send.js';

const n = Number(process.argv[2] ?? '10000');
const port = Number(process.env.BENCH_SMTP_PORT);
if (!port) throw new Error('BENCH_SMTP_PORT is not set');
const fx = await buildDigestFixture();
const m = new PipeliningMessenger({ url: `smtp://127.0.0.1:${port}?starttls=never`, poolSize: 5 });
const failed = await bounded(n, 40, async (i) => {
  const { raw, dotStuffed } = await fx.wire(i);
  return m.sendRaw({ envelope: { from: fx.envelopeFrom, to: [fx.recipient(i)] }, raw, messageId: fx.messageId(i), dotStuffed });
});
await m.close();
if (failed > 0) throw new Error(`${failed} of ${n} sends failed`);
console.log(JSON.stringify({ failed }));
