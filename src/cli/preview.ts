// Owns `paperboy preview`: the digest one subscriber (or everyone) would get, to a file, as text, or summarised.
import { writeFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { appRenderer, type App } from '../app.js';
import { UserError } from './context.js';
import { DigestKind, createSelector, isIsoDay } from '../digest/select.js';
import { buildPreview, previewFacts, type PreviewDeps } from '../render/preview-builder.js';

const MESSAGES = {
  badDate: (d: string) => `--date must be a day like 2026-03-10, got ${JSON.stringify(d)}`,
  wrote: (file: string, kb: string, subject: string) => `wrote ${file} (${kb} KB): ${subject}`,
  hint: 'Use --out FILE.html for the HTML part, --text for the plain-text part.',
} as const;

interface PreviewOptions {
  kind?: DigestKind;
  as?: string;
  date?: string;
  out?: string;
  text?: boolean;
}

export function registerPreviewCommand(
  program: Command,
  getApp: () => App,
  extra: { linksFor?: PreviewDeps['linksFor']; write?: (s: string) => void } = {},
): void {
  const write = extra.write ?? ((s: string) => void process.stdout.write(s));
  program
    .command('preview')
    .description('show the digest one subscriber (or the public) would receive, with the score of each paper')
    .addOption(new Option('--kind <kind>', "trending, new or both (default: the subscriber's, else trending)").choices(DigestKind.options))
    .option('--as <email>', 'preview as this subscriber: their kind, topics, size, minus papers already sent')
    .option('--date <YYYY-MM-DD>', "digest date (default: today in the subscriber's time zone, else UTC)")
    .option('--out <file.html>', 'write the personalised HTML part to this file')
    .option('--text', 'print the plain-text part')
    .action(async (opts: PreviewOptions) => {
      if (opts.date !== undefined && !isIsoDay(opts.date)) {
        throw new UserError(MESSAGES.badDate(opts.date));
      }
      const app = getApp();
      const renderer = appRenderer(app);
      const selector = createSelector({ store: app.store, clock: app.clock });
      const r = await buildPreview(
        { store: app.store, clock: app.clock, config: app.config, renderer, selector, linksFor: extra.linksFor },
        { kind: opts.kind, as: opts.as, date: opts.date },
      );
      if (r.status === 'unknown-subscriber') throw new UserError(r.message);
      if (r.status === 'empty') {
        write(
          previewFacts(r)
            .map((f) => `${f.label}: ${f.value}`)
            .join('\n') + '\n',
        );
        return;
      }
      if (opts.out) {
        writeFileSync(opts.out, r.html);
        write(MESSAGES.wrote(opts.out, (Buffer.byteLength(r.html) / 1024).toFixed(1), r.rendered.subject) + '\n');
      }
      if (opts.text) {
        write(r.text.endsWith('\n') ? r.text : r.text + '\n');
      }
      if (!opts.out && !opts.text) {
        const lines = previewFacts(r).map((f) => `${f.label.padEnd(13)} ${f.value}`);
        lines.push('', ' #  score   log2(w)  decay  upvotes  votes  gained               lists  date        paper');
        for (const row of r.rows) {
          lines.push(
            `${String(row.rank).padStart(2)}  ${row.score.padStart(6)}  ${row.popularity.padStart(7)}  ${row.decay.padStart(5)}  ${String(row.upvotes).padStart(7)}  ${row.votes.padStart(5)}  ${row.gained.padEnd(19)} ${String(row.lists).padStart(5)}  ${row.date}  ${row.title.slice(0, 60)}`,
            `    ${row.why}`,
          );
        }
        lines.push('', MESSAGES.hint);
        write(lines.join('\n') + '\n');
      }
    });
}
