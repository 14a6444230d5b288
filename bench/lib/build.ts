// Owns running the bench against what users run: the build (dist/), as bin/paperboy imports it when it is fresh.
import { spawnSync } from 'node:child_process';
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
