// Owns loading a dependency on its first use rather than at start: what a command never calls, it never carries.
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

/**
 * Returns a function that requires `specifier` on its first call and the same module after.
 *
 * Why: the CLI registers every command at start, so every module a command imports is loaded by all of them. For a
 * `paperboy send`, the parsers it never calls were some 45 MB of RSS: mailparser ~30 MB, pino-pretty ~10 MB,
 * html-to-text, fast-xml-parser, csv-parse and nodemailer's transports together ~5 MB (README, Performance, memory).
 */
export function lazyRequire<T>(specifier: string): () => T {
  let mod: T | undefined;
  return () => (mod ??= load(specifier) as T);
}
