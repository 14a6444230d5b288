// Owns the corpus commands: `paperboy ingest`, `paperboy papers` and `paperboy papers remove`.
import os from 'node:os';
import { existsSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { ingestPaths, formatWarning } from '../corpus/ingest.js';
import { createPapersRepo, type Paper } from '../corpus/papers-repo.js';
import { CommandFailed, UserError, type GetApp } from './context.js';
import { pad } from './table.js';

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new InvalidArgumentError('expected a whole number of 1 or more');
  return n;
}

export function formatPaperTable(papers: Paper[]): string {
  const head = `${pad('ID', 5)} ${pad('PUBLISHED', 10)} ${pad('VOTES', 5)} ${pad('AUTH', 4)} ${pad('PAGES', 5)} TITLE`;
  const rows = papers.map(
    (p) =>
      `${pad(String(p.id), 5)} ${pad(p.publishedOn ?? '-', 10)} ${pad(p.upvotes === null ? '-' : String(p.upvotes), 5)} ` +
      `${pad(p.authors === null ? '-' : String(p.authors), 4)} ${pad(String(p.pageCount), 5)} ${pad(p.title, 80)}`.trimEnd(),
  );
  return [head, ...rows].join('\n');
}

/** Like `nice -n 10`. */
const INGEST_NICENESS = 10;

export function registerCorpusCommands(program: Command, getApp: GetApp): void {
  program
    .command('ingest')
    .description('read listing pages into the corpus (default: the seeds directory); safe to run again')
    .argument('[paths...]', 'page files or directories')
    .action(async (paths: string[]) => {
      const app = getApp();
      const given = paths.length ? paths : [app.config.SEEDS_DIR];
      // A bulk load is background work: at a lower CPU priority (its worker threads inherit it) the service and other
      // commands stay responsive on a small machine while it runs. Raising one's own niceness is always allowed.
      os.setPriority(INGEST_NICENESS);
      const report = ingestPaths(app.store, given, app.clock, { chunkMs: app.config.INGEST_CHUNK_MS });
      for (const w of report.warnings) process.stdout.write(`warning: ${formatWarning(w)}\n`);
      process.stdout.write(
        `pages read: ${report.pages}, entries: ${report.entries}, papers added: ${report.added}, ` +
          `updated: ${report.updated}, warnings: ${report.warnings.length}\n`,
      );
      // The papers are committed already; waiting here only folds the write-ahead log back before the process ends.
      await report.walCheckpoint?.catch(() => 0);
      // The rest was ingested, but a path that is not there is a mistake the caller (a script) must see.
      const missing = given.filter((p) => !existsSync(p));
      if (missing.length) {
        process.stderr.write(`error: no such file or directory: ${missing.join(', ')}\n`);
        throw new CommandFailed(1);
      }
    });

  const papers = program
    .command('papers')
    .description('list stored papers, newest first, or search them')
    .option('-s, --search <text>', 'full-text search over title and abstract')
    .option('-n, --limit <n>', 'how many', positiveInt, 20)
    .option('--json', 'print JSON instead of a table')
    .action((opts: { search?: string; limit: number; json?: boolean }) => {
      const repo = createPapersRepo(getApp().store);
      const papers = opts.search !== undefined ? repo.search(opts.search, opts.limit) : repo.list(opts.limit);
      if (opts.json) process.stdout.write(JSON.stringify(papers, null, 2) + '\n');
      else if (papers.length === 0) process.stdout.write(opts.search ? `no paper matches "${opts.search}"\n` : 'no papers yet: run `paperboy ingest`\n');
      else process.stdout.write(formatPaperTable(papers) + '\n');
    });

  papers
    .command('remove')
    .description('delete a paper from the corpus; the seeds and the sources will not bring it back')
    .argument('<id>', 'the paper id (as `paperboy papers` lists it)', positiveInt)
    .action((id: number) => {
      const app = getApp();
      const removed = createPapersRepo(app.store).remove(id, app.clock.now());
      if (!removed) throw new UserError(`no paper with id ${id}`);
      process.stdout.write(`removed paper ${id}: ${removed.title}\n`);
    });
}
