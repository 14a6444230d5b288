// One way to do each thing (issue 14): no block of six or more lines of src/ appears twice, boilerplate aside.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../src', import.meta.url));
const WINDOW = 6;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/**
 * Lines that say something: not blank, not a comment, not an import, not only brackets and punctuation, not a
 * field copied under its own name (`title: p.title,`: mappings between row shapes list the same fields by nature),
 * and not a field declared with a literal (`email: 'text',`: the query registry's column lists mirror the tables).
 */
function meaningful(line: string): boolean {
  const t = line.trim();
  return (
    t !== '' &&
    !/^(\/\/|\/\*|\*)/.test(t) &&
    !/^import\b/.test(t) &&
    !/^[\s{}()[\];,]*$/.test(t) &&
    !/^(\w+): \w+\.\1,$/.test(t) &&
    !/^['"]?[\w-]+['"]?: '[^']*',?$/.test(t)
  );
}

function repeatedBlocks(sources: { file: string; text: string }[], window = WINDOW): string[] {
  const seen = new Map<string, string>();
  const found: string[] = [];
  for (const { file, text } of sources) {
    const lines = text
      .split('\n')
      .map((l, i) => ({ n: i + 1, t: l.trim().replace(/\s+/g, ' ') }))
      .filter((l) => meaningful(l.t));
    for (let i = 0; i + window <= lines.length; i++) {
      const key = lines
        .slice(i, i + window)
        .map((l) => l.t)
        .join('\n');
      const here = `${file}:${lines[i]!.n}`;
      const first = seen.get(key);
      if (first === undefined) seen.set(key, here);
      else if (!first.startsWith(`${file}:`) || Number(first.split(':')[1]) + window <= lines[i]!.n) found.push(`${here} repeats ${first}:\n${key}`);
    }
  }
  return found;
}

describe('src/ has no repeated blocks', () => {
  it('finds a repeated block when there is one (the check itself)', () => {
    const block = ['const a = load(x);', 'if (!a) throw new Error("no");', 'const b = a.map(f);', 'b.sort(cmp);', 'write(b);', 'return b.length;'].join('\n');
    expect(
      repeatedBlocks([
        { file: 'one.ts', text: block },
        { file: 'two.ts', text: `// other\n${block}\n` },
      ]),
    ).toHaveLength(1);
    expect(repeatedBlocks([{ file: 'one.ts', text: block }])).toEqual([]);
  });

  it('no six meaningful lines of one place appear in another', () => {
    const sources = files(SRC).map((f) => ({ file: relative(SRC, f), text: readFileSync(f, 'utf8') }));
    expect(sources.length).toBeGreaterThan(50);
    expect(repeatedBlocks(sources)).toEqual([]);
  });
});
