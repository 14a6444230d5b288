#!/usr/bin/env node
// Owns the `paperboy` command: runs the CLI in this very process, so signals sent to its pid reach the program.
// The compiled build (dist/, from `npm run build`) starts in about half the CPU time of compiling src/ on the fly
// (0.6 s against 1.3 s for `subscribers list`, README Performance), which matters when a big ingest shares the
// cores; it is used only when it is fresh: built after the last change to any file under src/. Otherwise tsx's
// in-process loader compiles src/ (no child process), so a stale dist/ never runs old code.
import { fileURLToPath } from 'node:url';
import { buildIsFresh } from './build-freshness.js';

const root = fileURLToPath(new URL('..', import.meta.url));

if (process.env.PAPERBOY_FROM_SOURCE !== '1' && buildIsFresh(root)) {
  await import('../dist/cli/index.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/index.ts');
}
