// Owns the logger: pino, one instance made at start and passed down; readable lines in a terminal, JSON elsewhere.
import { pino } from 'pino';
import type prettyType from 'pino-pretty';
import { lazyRequire } from './lazy-require.js';
export type Logger = pino.Logger;

export type LogFormat = 'auto' | 'pretty' | 'json';

/** `auto`: readable lines when stderr is a terminal (a person is watching), JSON when it goes to a file or a collector. */
export function prettyLogs(format: LogFormat, stderrIsTty = process.stderr.isTTY === true): boolean {
  return format === 'pretty' || (format === 'auto' && stderrIsTty);
}

/** Logs go to stderr (fd 2): stdout carries only a command's output, so `--json` stays parseable. */
export function createLogger(level: string = 'info', format: LogFormat = 'auto'): Logger {
  if (prettyLogs(format)) {
    // In this thread and synchronous (no transport worker), like the JSON destination: a crash loses no line.
    // Loaded only for a terminal: pino-pretty's graph is some 10 MB of RSS that JSON logs never need.
    const pretty = lazyRequire<typeof prettyType>('pino-pretty')();
    const stream = pretty({ destination: 2, sync: true, colorize: process.stderr.isTTY === true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' });
    return pino({ level, base: undefined }, stream);
  }
  return pino({ level, base: undefined }, pino.destination({ dest: 2, sync: true }));
}

/** For tests and library callers that want quiet. */
export const silentLogger: Logger = pino({ level: 'silent' });
