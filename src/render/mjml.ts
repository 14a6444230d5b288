// Owns loading MJML: on the first render, not at start, since most commands never render an email.
import { createRequire } from 'node:module';
import type mjmlType from 'mjml';

type Mjml2Html = typeof mjmlType;

let loaded: Mjml2Html | null = null;

/**
 * MJML's module graph takes about 1 s of CPU to load (`node -e "import('mjml')"`: 0.98 s user here), more than the
 * rest of the CLI together: `paperboy subscribers list` or `papers --search` should not pay it.
 */
export const mjml2html: Mjml2Html = ((...args: Parameters<Mjml2Html>) => {
  loaded ??= createRequire(import.meta.url)('mjml') as Mjml2Html;
  return loaded(...args);
}) as Mjml2Html;
