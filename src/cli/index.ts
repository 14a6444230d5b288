// Owns the `paperboy` command line: one program, each area registering its commands.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { lazyApp, reportCliError } from './context.js';
import { registerCorpusCommands } from './corpus.js';
import { registerFetchCommand } from './fetch.js';
import { registerMailSetupCommands } from './mail-setup.js';
import { registerSubscriberCommands } from './subscribers.js';
import { registerServeCommand } from './serve.js';
import { registerPreviewCommand } from './preview.js';
import { registerSendCommand } from './send.js';
import { digestSourceFor } from '../app.js';
import { readerLinks } from '../delivery/reader-links.js';

// Read at run time: src/cli/ and dist/cli/ are both two levels below package.json, and the build copies no JSON.
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export function buildProgram(getApp: ReturnType<typeof lazyApp>['getApp']): Command {
  const program = new Command('paperboy')
    .description('self-hosted research-paper digest')
    .version(VERSION, '-V, --version', 'print the version')
    .showHelpAfterError()
    .exitOverride();
  registerCorpusCommands(program, getApp);
  registerFetchCommand(program, getApp);
  registerMailSetupCommands(program);
  registerSubscriberCommands(program, getApp);
  registerServeCommand(program, getApp);
  registerPreviewCommand(program, getApp, {
    linksFor: (s) => {
      const { config } = getApp();
      return readerLinks(config, config.SECRET_KEY, s.id);
    },
  });
  registerSendCommand(program, () => {
    const app = getApp();
    return { ...app, messenger: app.messenger, digest: digestSourceFor(app) };
  });
  return program;
}

async function main(argv: string[]): Promise<number> {
  const ctx = lazyApp();
  const program = buildProgram(ctx.getApp);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    const code = (err as { code?: string; exitCode?: number }).code;
    if (typeof code === 'string' && code.startsWith('commander.')) return (err as { exitCode: number }).exitCode;
    return reportCliError(err);
  } finally {
    await ctx.close();
  }
}

process.exitCode = await main(process.argv);
