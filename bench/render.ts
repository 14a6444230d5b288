// Owns the `render` benchmark: ms per MJML render, µs per personalised message, and what rendering once per
// selection saves over rendering per recipient (1,000 recipients by default).
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median, num, options, table, writeResult } from './lib/part.js';
import { openStore } from '../src/db/open.js';
import { ingestPaths } from '../src/corpus/ingest.js';
import { FakeClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { createSelector } from '../src/digest/select.js';
import { createRenderer, DEFAULT_TEMPLATES_DIR } from '../src/render/renderer.js';
import { buildTemplate, personaliseForWire } from '../src/delivery/mime.js';
import { headersConfig } from '../src/delivery/sender.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

export interface RenderBenchResult {
  papers: number;
  html_bytes: number;
  renders: number;
  render_ms_median: number;
  render_ms_mean: number;
  personalize_runs: number;
  personalize_us: number;
  recipients: number;
  once_plus_personalize_ms: number;
  per_recipient_ms: number;
  /** (render once + personalise N) / (render per recipient, N times): lower is better. */
  ratio: number;
  speedup: number;
}

export async function runRenderBench(
  opts: { recipients?: number; renders?: number; personalizeRuns?: number; log?: (s: string) => void } = {},
): Promise<RenderBenchResult> {
  const recipients = opts.recipients ?? Number(process.env.BENCH_RENDER_RECIPIENTS ?? 1000);
  const renders = opts.renders ?? 30;
  const personalizeRuns = opts.personalizeRuns ?? 200_000;
  const log = opts.log ?? ((s: string) => void process.stdout.write(s + '\n'));

  const clock = new FakeClock(new Date());
  const store = openStore(':memory:');
  ingestPaths(store, [join(root, 'seeds')], clock);
  const sel = createSelector({ store, clock }).select({ kind: 'trending', size: 10 });
  if (sel.status !== 'selected') throw new Error(`no digest to render: ${sel.message}`);
  const selection = sel.selection;
  const config = loadConfig({ PUBLIC_URL: 'https://papers.example.org' });
  const renderer = createRenderer({ templatesDir: DEFAULT_TEMPLATES_DIR, config });
  const links = (i: number) => ({
    unsubscribeUrl: `https://papers.example.org/unsubscribe?s=${i}&sig=${(i * 2654435761).toString(16)}`,
    unsubscribeMailto: `mailto:unsubscribe+${i}@papers.example.org`,
    manageUrl: `https://papers.example.org/manage?s=${i}&sig=${(i * 40503).toString(16)}`,
  });
  const email = (i: number) => `reader${i}@example.org`;
  // What the sender does per recipient: the message built once per variant, then each recipient's values filled in.
  const message = async (t: Awaited<ReturnType<typeof buildTemplate>>, i: number) =>
    (await personaliseForWire(t, { email: email(i), messageId: `<m${i}@papers.example.org>`, links: links(i), date: new Date(0) })).raw;

  // Warm up (JIT, MJML's lazy requires) before timing anything.
  for (let i = 0; i < 3; i++) await renderer.renderDigest(selection);

  const times: number[] = [];
  let htmlBytes = 0;
  for (let i = 0; i < renders; i++) {
    const t = performance.now();
    const r = await renderer.renderDigest(selection);
    times.push(performance.now() - t);
    htmlBytes = Buffer.byteLength(r.html);
  }

  const template = await buildTemplate(await renderer.renderDigest(selection), headersConfig(config));
  let sink = 0;
  const t0 = performance.now();
  for (let i = 0; i < personalizeRuns; i++) sink += (await message(template, i)).length;
  const personalizeUs = ((performance.now() - t0) * 1000) / personalizeRuns;

  const t1 = performance.now();
  const once = await buildTemplate(await renderer.renderDigest(selection), headersConfig(config));
  for (let i = 0; i < recipients; i++) sink += (await message(once, i)).length;
  const onceMs = performance.now() - t1;

  const t2 = performance.now();
  for (let i = 0; i < recipients; i++) {
    const rendered = await renderer.renderDigest(selection, { slots: { ...links(i), email: email(i) } });
    sink += (await message(await buildTemplate(rendered, headersConfig(config)), i)).length;
  }
  const perRecipientMs = performance.now() - t2;
  if (sink === 0) throw new Error('unreachable: keeps the work from being optimised away');
  store.close();

  const result: RenderBenchResult = {
    papers: selection.count,
    html_bytes: htmlBytes,
    renders,
    render_ms_median: Number(median(times).toFixed(2)),
    render_ms_mean: Number((times.reduce((a, b) => a + b, 0) / times.length).toFixed(2)),
    personalize_runs: personalizeRuns,
    personalize_us: Number(personalizeUs.toFixed(2)),
    recipients,
    once_plus_personalize_ms: Number(onceMs.toFixed(1)),
    per_recipient_ms: Number(perRecipientMs.toFixed(1)),
    ratio: Number((onceMs / perRecipientMs).toFixed(5)),
    speedup: Number((perRecipientMs / onceMs).toFixed(1)),
  };

  log(`render benchmark: a ${selection.count}-paper trending digest from seeds/, ${(htmlBytes / 1024).toFixed(1)} KB of HTML`);
  table([
    { measure: 'MJML render (median)', value: result.render_ms_median, unit: `ms (${renders} runs, mean ${result.render_ms_mean})` },
    { measure: 'personalise one message', value: result.personalize_us, unit: `µs (${personalizeRuns.toLocaleString('en-US')} runs)` },
    { measure: `${recipients} recipients: render once + personalise`, value: result.once_plus_personalize_ms, unit: 'ms' },
    { measure: `${recipients} recipients: render per recipient`, value: result.per_recipient_ms, unit: 'ms' },
    { measure: 'ratio once+personalise / per recipient', value: result.ratio.toFixed(5), unit: `(${result.speedup}x faster)` },
  ]);
  log('results: ' + writeResult('render', result));
  return result;
}

// Also runnable alone: `npx tsx bench/render.ts [--recipients=N]`.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const o = options(process.argv.slice(2));
  await runRenderBench({ recipients: num(o, 'recipients', 1000), renders: num(o, 'renders', 30), personalizeRuns: num(o, 'personalize-runs', 200_000) });
}
