#!/usr/bin/env -S node --max-semi-space-size=8
// Owns the `paperboy` command: runs the CLI in this very process, so signals sent to its pid reach the program.
// The one node flag (line 1): V8's young generation at 8 MB a semi-space instead of 16. It is sized when node
// starts and no setting read later can change it (V8 puts back its growth factor whenever a worker thread
// starts); for a send it is some 15 MB of the peak RSS at about the same CPU time (README, Performance, memory).
// `node bin/paperboy.js` works the same without it.
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
