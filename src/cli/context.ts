// Owns how CLI commands get the app: built once, on first use, from the environment.
import { createApp, type App } from '../app.js';
import { ConfigError, loadConfig, readEnvironment } from '../config.js';
import { createLogger } from '../log.js';
import { RunError } from '../delivery/send-runs.js';
import { PortUnavailableError } from '../port-check.js';
import { RecipientError } from '../delivery/mime.js';

export type GetApp = () => App;

export function lazyApp(env: Record<string, string | undefined> = readEnvironment()): { getApp: GetApp; close(): Promise<void> } {
  let app: App | null = null;
  return {
    getApp() {
      if (!app) {
        const config = loadConfig(env);
        // CLI output goes to stdout; logs stay quiet unless asked for.
        app = createApp(config, { log: createLogger(env.LOG_LEVEL ?? 'warn', config.LOG_FORMAT) });
      }
      return app;
    },
    async close() {
      await app?.close();
    },
  };
}

/** Runs a command body; a bad config or a user error ends with its message and a non-zero code, not a stack. */
export function reportCliError(err: unknown): number {
  if (err instanceof CommandFailed) return err.exitCode;
  if (err instanceof ConfigError) {
    process.stderr.write(err.message + '\n');
    return 2;
  }
  if (err instanceof UserError || err instanceof RunError || err instanceof PortUnavailableError || err instanceof RecipientError) {
    process.stderr.write(`error: ${err.message}\n`);
    return 1;
  }
  process.stderr.write(`error: ${(err as Error)?.stack ?? String(err)}\n`);
  return 1;
}

/** An error whose message is meant for the person at the terminal. */
export class UserError extends Error {}

/** A command that has already said what went wrong (on stderr) and only needs the process to end non-zero. */
export class CommandFailed extends Error {
  constructor(readonly exitCode = 1) {
    super(`exit ${exitCode}`);
  }
}
