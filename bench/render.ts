// Owns the `render` benchmark: ms per MJML render, µs per personalised message, and what rendering once per
// selection saves over rendering per recipient (1,000 recipients by default).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { openStore } from '../src/db/open.js';
import { ingestPaths } from '../src/corpus/ingest.js';
import { FakeClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { createSelector } from '../src/digest/select.js';
import { createRenderer, personalize, DEFAULT_TEMPLATES_DIR } from '../src/render/renderer.js';

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

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

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
  const renderer = createRenderer({ templatesDir: DEFAULT_TEMPLATES_DIR, config: loadConfig({ PUBLIC_URL: 'https://papers.example.org' }) });
  const links = (i: number) => ({
    unsubscribeUrl: `https://papers.example.org/unsubscribe?s=${i}&sig=${(i * 2654435761).toString(16)}`,
    manageUrl: `https://papers.example.org/manage?s=${i}&sig=${(i * 40503).toString(16)}`,
    email: `reader${i}@example.org`,
  });

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

  const rendered = await renderer.renderDigest(selection);
  let sink = 0;
  const t0 = performance.now();
  for (let i = 0; i < personalizeRuns; i++) sink += personalize(rendered, links(i)).html.length;
  const personalizeUs = ((performance.now() - t0) * 1000) / personalizeRuns;

  const t1 = performance.now();
  const once = await renderer.renderDigest(selection);
  for (let i = 0; i < recipients; i++) sink += personalize(once, links(i)).html.length;
  const onceMs = performance.now() - t1;

  const t2 = performance.now();
  for (let i = 0; i < recipients; i++) sink += personalize(await renderer.renderDigest(selection), links(i)).html.length;
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

  log('render benchmark (10-paper trending digest from seeds/)');
  log(`  HTML size                          ${(htmlBytes / 1024).toFixed(1)} KB`);
  log(`  MJML render                        ${result.render_ms_median} ms median, ${result.render_ms_mean} ms mean (${renders} runs)`);
  log(`  personalise one message            ${result.personalize_us} µs (${personalizeRuns.toLocaleString('en-US')} runs)`);
  log(`  ${recipients} recipients, render once      ${result.once_plus_personalize_ms} ms`);
  log(`  ${recipients} recipients, render each      ${result.per_recipient_ms} ms`);
  log(`  ratio once+personalise / per-recipient  ${result.ratio} (${result.speedup}x faster)`);

  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `render-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ bench: 'render', at: new Date().toISOString(), node: process.version, ...result }, null, 2) + '\n');
  log(`  wrote ${file}`);
  return result;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runRenderBench();
}
