// Owns the logger: pino, one instance made at start and passed down.
import { pino } from 'pino';
export type Logger = pino.Logger;

/** Logs go to stderr (fd 2): stdout carries only a command's output, so `--json` stays parseable. */
export function createLogger(level: string = 'info'): Logger {
  return pino({ level, base: undefined }, pino.destination({ dest: 2, sync: true }));
}

/** For tests and library callers that want quiet. */
export const silentLogger: Logger = pino({ level: 'silent' });
