// Owns the `naive` bench: the same digest sent "the obvious way" (MJML render + nodemailer compose per recipient,
// stock pooled nodemailer) versus paperboy's real send path, both to a fresh smtp-sink, same recipients.
import nodemailer from 'nodemailer';
import { openStore } from '../src/db/open.js';
import { systemClock } from '../src/clock.js';
import { createSelector } from '../src/digest/select.js';
import { createRenderer, DEFAULT_TEMPLATES_DIR } from '../src/render/renderer.js';
import { subscriberLinks } from '../src/subscriptions/subscriber-links.js';
import { localDateOf } from '../src/delivery/schedule.js';
import { envelopeFrom } from '../src/mail/envelope.js';
import { median, num, options, table, writeResult, type BenchPart } from './lib/part.js';
import { buildWorld, checkLedger, realSend, worldConfig, type World } from './lib/paperboy-world.js';
import { sinkReached, startSink } from './postfix.js';
import { bounded } from './send.js';

/** The speed-up issue 6 asks of paperboy over the obvious way. */
const TARGET_SPEEDUP = 15;

interface Timed {
  seconds: number;
  sinkCounted: number;
}

/**
 * Per recipient: select nothing new (the same selection for everyone, as paperboy would find), render the MJML
 * digest, personalise it with the recipient's signed links, let nodemailer compose the MIME message and send it
 * through its pooled SMTP transport. `window` sends at once, so the pool's connections stay busy.
 */
async function naiveSend(world: World, connections: number, window: number): Promise<Timed> {
  const sink = await startSink();
  const config = worldConfig(world, sink.port, connections);
  const store = openStore(world.dbPath);
  try {
    const selector = createSelector({ store, clock: systemClock });
    const renderer = createRenderer({ config, templatesDir: DEFAULT_TEMPLATES_DIR });
    const sub = store.db.prepare('SELECT * FROM subscribers WHERE id = 1').get() as Parameters<typeof selector.selectForSubscriber>[0];
    const picked = selector.selectForSubscriber(sub, localDateOf(systemClock.now(), 'UTC'));
    if (picked.status !== 'selected') throw new Error(`nothing to send: ${picked.message}`);
    const selection = picked.selection;
    const emails = store.db.prepare('SELECT id, email FROM subscribers ORDER BY id').all() as { id: number; email: string }[];
    const transport = nodemailer.createTransport({
      pool: true,
      host: '127.0.0.1',
      port: sink.port,
      secure: false,
      ignoreTLS: true,
      maxConnections: connections,
      maxMessages: Infinity,
    });
    const from = config.MAIL_FROM;
    const t0 = process.hrtime.bigint();
    const failed = await bounded(emails.length, window, async (i) => {
      const { id, email } = emails[i]!;
      const links = subscriberLinks(config, config.SECRET_KEY, id);
      // The naive way: a whole render per recipient, with their links in.
      const body = await renderer.renderDigest(selection, { slots: { ...links, email } });
      return transport.sendMail({
        from,
        to: email,
        envelope: { from: envelopeFrom(from), to: [email] },
        subject: body.subject,
        html: body.html,
        text: body.text,
        messageId: `<naive${id}@${config.MAIL_DOMAIN}>`,
        list: { unsubscribe: [{ url: links.unsubscribeUrl }, links.unsubscribeMailto] },
        headers: { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
      });
    });
    transport.close();
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (failed > 0) throw new Error(`naive: ${failed} sends failed`);
    return { seconds, sinkCounted: await sinkReached(sink, emails.length) };
  } finally {
    store.close();
    await sink.stop();
  }
}

/** paperboy send --force for the same recipients (a world of its own: the ledger must start empty). */
async function paperboySend(world: World, connections: number): Promise<Timed> {
  const sink = await startSink();
  try {
    const t0 = process.hrtime.bigint();
    const run = await realSend(world, sink.port, connections);
    await run.close();
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const check = checkLedger(run.store);
    run.store.close();
    if (check.sent !== world.subscribers || check.distinctMessageIds !== world.subscribers) throw new Error(`paperboy: ledger ${JSON.stringify(check)}`);
    return { seconds, sinkCounted: await sinkReached(sink, world.subscribers) };
  } finally {
    await sink.stop();
  }
}

export const naivePart: BenchPart = {
  name: 'naive',
  description: 'speed-up of paperboy over MJML render + nodemailer compose per recipient (1,000 recipients)',
  async run(args) {
    const o = options(args);
    const n = num(o, 'n', 1000);
    const c = num(o, 'connections', 5);
    const runs = num(o, 'runs', 3);
    const window = num(o, 'window', c * 8);
    console.log(`${n} recipients, ${c} connections, median of ${runs} run(s)`);
    const perRun: { naive: Timed; paperboy: Timed; speedup: number }[] = [];
    for (let r = 0; r < runs; r++) {
      const naiveWorld = buildWorld(n);
      const paperboyWorld = buildWorld(n);
      try {
        const naive = await naiveSend(naiveWorld, c, window);
        const paperboy = await paperboySend(paperboyWorld, c);
        for (const [who, t] of [
          ['naive', naive],
          ['paperboy', paperboy],
        ] as const) {
          if (t.sinkCounted !== n) throw new Error(`${who}: sink counted ${t.sinkCounted} of ${n}`);
        }
        perRun.push({ naive, paperboy, speedup: naive.seconds / paperboy.seconds });
        console.log(
          `run ${r + 1}: naive ${naive.seconds.toFixed(2)} s, paperboy ${paperboy.seconds.toFixed(2)} s, speed-up ${(naive.seconds / paperboy.seconds).toFixed(1)}x`,
        );
      } finally {
        naiveWorld.cleanup();
        paperboyWorld.cleanup();
      }
    }
    const naiveS = median(perRun.map((r) => r.naive.seconds));
    const paperboyS = median(perRun.map((r) => r.paperboy.seconds));
    const speedup = median(perRun.map((r) => r.speedup));
    table([
      { path: 'naive: MJML render + nodemailer compose per recipient, stock pool', recipients: n, seconds: naiveS, 'msg/s': Math.round(n / naiveS) },
      { path: 'paperboy send --force (render once, ledger, personalised MIME)', recipients: n, seconds: paperboyS, 'msg/s': Math.round(n / paperboyS) },
    ]);
    console.log(`speed-up paperboy over naive = ${speedup.toFixed(1)}x (target >= ${TARGET_SPEEDUP}x): ${speedup >= TARGET_SPEEDUP ? 'PASS' : 'FAIL'}`);
    console.log(
      'results: ' +
        writeResult('naive', {
          recipients: n,
          connections: c,
          window,
          runs: perRun,
          median: { naiveSeconds: naiveS, paperboySeconds: paperboyS, speedup },
          target: TARGET_SPEEDUP,
        }),
    );
  },
};
