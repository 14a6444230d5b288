// The bin runs the compiled build only when it is fresh (stamped after the newest file under src/); a stale or
// missing build runs src/ through tsx, so an edit is never hidden by an old dist/. Tried on a copy of the bin in a
// scratch tree whose dist/ and src/ entry points say which one ran.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, symlinkSync, utimesSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/tmp.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));

function scratchTree(): string {
  const root = tempDir('paperboy-bin-');
  mkdirSync(join(root, 'bin'));
  mkdirSync(join(root, 'dist', 'cli'), { recursive: true });
  mkdirSync(join(root, 'src', 'cli', 'deep'), { recursive: true });
  for (const f of ['paperboy.js', 'build-freshness.js']) copyFileSync(join(repo, 'bin', f), join(root, 'bin', f));
  writeFileSync(join(root, 'package.json'), '{"type":"module"}\n');
  symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'));
  writeFileSync(join(root, 'dist', 'cli', 'index.js'), "process.stdout.write('ran dist');\n");
  // Type syntax on purpose: only tsx can run this file.
  writeFileSync(join(root, 'src', 'cli', 'index.ts'), "const from: string = 'src';\nprocess.stdout.write('ran ' + from);\n");
  writeFileSync(join(root, 'src', 'cli', 'deep', 'other.ts'), 'export {};\n');
  return root;
}

function setTime(path: string, seconds: number): void {
  const t = new Date(seconds * 1000);
  utimesSync(path, t, t);
}

function run(root: string, env: Record<string, string> = {}): string {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'paperboy.js')], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env } });
  expect(r.stderr).toBe('');
  return r.stdout;
}

describe('which code the paperboy bin runs', () => {
  const root = scratchTree();
  const stamp = join(root, 'dist', '.built');
  const entry = join(root, 'src', 'cli', 'index.ts');
  const deep = join(root, 'src', 'cli', 'deep', 'other.ts');
  const files = [entry, deep];

  it('runs a build stamped after every source file', () => {
    for (const f of files) setTime(f, 1_000_000);
    writeFileSync(stamp, 'built\n');
    setTime(stamp, 2_000_000);
    expect(run(root)).toBe('ran dist');
  });

  it('runs src/ when one source file, however deep, changed after the build', () => {
    setTime(deep, 3_000_000);
    expect(run(root)).toBe('ran src');
  });

  it('runs src/ when PAPERBOY_FROM_SOURCE=1, even with a fresh build', () => {
    setTime(deep, 1_000_000);
    expect(run(root)).toBe('ran dist');
    expect(run(root, { PAPERBOY_FROM_SOURCE: '1' })).toBe('ran src');
  });

  it('runs src/ when there is no build stamp', () => {
    rmSync(stamp);
    expect(run(root)).toBe('ran src');
  });
});
