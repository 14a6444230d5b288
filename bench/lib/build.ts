// Owns running the bench against what users run: the build (dist/), as bin/paperboy imports it when it is fresh.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildIsFresh } from '../../bin/build-freshness.js';
import { benchDir } from './part.js';

export const ROOT = path.dirname(benchDir);

/**
 * Makes sure dist/ is the build of today's src/ (the bin's own rule; the test command builds before vitest, so there
 * it is fresh already) and returns its path; builds it when stale.
 */
export function freshBuild(): string {
  const dist = path.join(ROOT, 'dist');
  if (buildIsFresh(ROOT + path.sep)) return dist;
  const built = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  if (built.status !== 0 || !buildIsFresh(ROOT + path.sep)) throw new Error(`npm run build failed (exit ${built.status}): the bench measures the build`);
  return dist;
}

/** The node flags `paperboy` starts with: those on bin/paperboy.js's first line (`#!/usr/bin/env -S node ...`). */
export function binNodeFlags(): string[] {
  const first = readFileSync(path.join(ROOT, 'bin', 'paperboy.js'), 'utf8').split('\n', 1)[0]!;
  const m = /^#!\/usr\/bin\/env -S node((?: --[\w-]+(?:=\S+)?)*)$/.exec(first) ?? /^#!\/usr\/bin\/env node()$/.exec(first);
  if (!m) throw new Error(`bin/paperboy.js: first line ${JSON.stringify(first)} is no node shebang the bench can read`);
  return m[1]!.split(' ').filter(Boolean);
}
