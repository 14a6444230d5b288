// SpamAssassin's local rules (Debian's spamassassin, -L: no network test) score a digest and a confirmation email
// at most 0.0, each exactly as it goes out. scripts/test.sh installs spamassassin; without it the test skips, saying so.
import { execFileSync, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { longAbstractDigest } from './helpers/long-digest.js';
import { startHarness, type Harness } from './helpers/web-harness.js';

const SPAMASSASSIN = ['/usr/bin/spamassassin', '/usr/local/bin/spamassassin'].find((p) => spawnSync(p, ['-V']).status === 0);
if (!SPAMASSASSIN) console.warn('spamassassin is not installed (apt-get install spamassassin; scripts/test.sh does): skipping its checks');

interface Score {
  score: number;
  rules: { name: string; points: number }[];
}

/** One spamassassin run (its start-up takes about 3 s): the score and every rule hit, from its report. */
function spamScore(raw: Buffer): Score {
  // -L: local tests only, no DNS or network lookups; -t: the report appended to the message.
  const out = execFileSync(SPAMASSASSIN!, ['-L', '-t'], { input: raw, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['pipe', 'pipe', 'ignore'] });
  const details = out.slice(out.lastIndexOf('Content analysis details:'));
  const score = Number(/Content analysis details:\s+\((-?[\d.]+) points/.exec(details)?.[1]);
  const rules = [...details.matchAll(/^\s*(-?\d+\.\d)\s+([A-Z0-9_]+)\s/gm)].map((m) => ({ name: m[2]!, points: Number(m[1]) }));
  return { score, rules };
}

function expectClean(what: string, s: Score): void {
  const hits = s.rules.map((r) => `${r.name} ${r.points}`).join(', ');
  expect(Number.isFinite(s.score), `${what}: no score in spamassassin's report`).toBe(true);
  expect(s.score, `${what} scores ${s.score}: ${hits}`).toBeLessThanOrEqual(0);
  // Informational rules (0 points) only, e.g. NO_RECEIVED on a message that has not been relayed yet.
  expect(
    s.rules.filter((r) => r.points > 0),
    `${what}: ${hits}`,
  ).toEqual([]);
}

describe.skipIf(!SPAMASSASSIN)('spamassassin, local rules', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({}, { startWorker: false });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('scores a 30-paper digest, as the sender writes it, at most 0.0', async () => {
    // Subscriber 1: with 32-hex MACs its manage link, under the test key, held what PDS_BTC_ID takes for a Bitcoin
    // address (src/subscriptions/tokens.ts says why MACs are 28 hex now; test/subscription-tokens.test.ts checks all ids).
    const d = await longAbstractDigest({ papers: 30, subscriberId: 1 });
    expectClean('digest', spamScore(d.raw));
  }, 30_000);

  it('scores the confirmation email, as the confirmation worker sends it, at most 0.0', async () => {
    const r = h.service.subscribe('new.reader@example.org', 'web');
    expect(r.ok).toBe(true);
    await h.worker.runOnce();
    const sent = h.sink.received.find((m) => m.to.includes('new.reader@example.org'));
    expect(sent, 'no confirmation email received').toBeDefined();
    expectClean('confirmation email', spamScore(sent!.raw));
  }, 30_000);
});
