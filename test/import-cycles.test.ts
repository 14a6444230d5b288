// Issue 14: no import cycle in src/ (routes used to import the server that imports them), and inner modules never
// reach for the composition root.
// Follows every relative import, type-only ones included, as `npx madge --circular --extensions ts src` does.
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { tempDir } from './helpers/tmp.js';

const SRC = join(import.meta.dirname, '..', 'src');

function sources(d: string): string[] {
  return readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(d, e.name)) : e.name.endsWith('.ts') ? [join(d, e.name)] : []));
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g)) {
    const target = resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts'));
    if (existsSync(target)) out.push(target);
  }
  return out;
}

/** Every cycle found by a depth-first walk, each as the list of files (relative to root) it goes through. */
function cycles(files: string[], root = SRC): string[][] {
  const graph = new Map(files.map((f) => [f, importsOf(f)]));
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (f: string) => {
    state.set(f, 'open');
    path.push(f);
    for (const g of graph.get(f) ?? []) {
      if (state.get(g) === 'open') found.push(path.slice(path.indexOf(g)).map((p) => relative(root, p)));
      else if (!state.has(g)) visit(g);
    }
    path.pop();
    state.set(f, 'done');
  };
  for (const f of files) if (!state.has(f)) visit(f);
  return found;
}

describe('import cycles', () => {
  it('sees a cycle made of a value import and a type-only import back (the walk below can fail)', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'server.ts'), "import { page } from './route.js';\nexport const x = page;\n");
    writeFileSync(join(dir, 'route.ts'), "import type { Deps } from './server.js';\nexport const page = 1;\n");
    writeFileSync(join(dir, 'alone.ts'), "import { page } from './route.js';\n");
    expect(cycles(sources(dir), dir).map((c) => [...c].sort())).toEqual([['route.ts', 'server.ts']]);
  });

  it('has none in src/', () => {
    expect(cycles(sources(SRC))).toEqual([]);
  });

  it('inner modules do not import the composition root (src/app.ts)', () => {
    const inner = sources(SRC).filter((f) => /^(corpus|db|delivery|digest|mail|render|subscriptions|archive|admin|web)\//.test(relative(SRC, f)));
    for (const f of inner)
      expect(
        importsOf(f).map((p) => relative(SRC, p)),
        relative(SRC, f),
      ).not.toContain('app.ts');
  });

  it('routes do not import the server that registers them', () => {
    for (const f of sources(join(SRC, 'web', 'routes'))) {
      expect(
        importsOf(f).map((p) => relative(SRC, p)),
        relative(SRC, f),
      ).not.toContain('web/server.ts');
    }
  });
});
