// Owns the logger: pino, one instance made at start and passed down.
import { pino } from 'pino';
export type Logger = pino.Logger;

export function createLogger(level: string = 'info'): Logger {
  return pino({ level, base: undefined });
}

/** For tests and library callers that want quiet. */
export const silentLogger: Logger = pino({ level: 'silent' });
