// The real `paperboy subscribers import` on files that are broken or spell one address several ways (issue 13, defects 1 and 6).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers/tmp.js';

function paperboy(dataDir: string, ...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/paperboy.js', ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATA_DIR: dataDir, FETCH_ENABLED: 'false' },
    timeout: 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function listed(dataDir: string): { email: string; status: string }[] {
  const r = paperboy(dataDir, 'subscribers', 'list', '--json', '--limit', '0');
  expect(r.code).toBe(0);
  return r.stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { email: string; status: string });
}

describe('import refuses a file it cannot read to the end', () => {
  it('an unclosed quote names the line where it opens, and nothing is imported', () => {
    const dir = tempDir();
    const file = join(dir, 'broken.csv');
    writeFileSync(file, 'email,topics\nfirst@example.org,ok\nq1@example.org,"unclosed\nq2@example.org,a\nq3@example.org,b\nq4@example.org,c\n');
    const r = paperboy(dir, 'subscribers', 'import', file);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('line 3');
    expect(r.stderr).toMatch(/never closed/);
    expect(r.stdout).not.toMatch(/added/);
    expect(listed(dir)).toEqual([]);
  });

  it('text after a closing quote is refused with its line, not glued onto the cell', () => {
    const dir = tempDir();
    const file = join(dir, 'glued.csv');
    writeFileSync(file, 'email,topics\r\na@example.org,"multi\r\nline"\r\n\r\nb@example.org,"x"y\r\n');
    const r = paperboy(dir, 'subscribers', 'import', file);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('line 5');
    expect(listed(dir)).toEqual([]);
  });

  it('a well-formed file with a multi-line field still reports the right line for a bad row after it', () => {
    const dir = tempDir();
    const file = join(dir, 'ok.csv');
    writeFileSync(file, '\ufeffemail,topics\n"a@example.org","two\nlines"\n\nnot-an-address,x\n');
    const r = paperboy(dir, 'subscribers', 'import', file, '--confirmed');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('read 2 row(s): added 1 (active), skipped 0, rejected 1');
    expect(r.stdout).toMatch(/line 5/);
  });
});

describe('import treats the case of an address as the same mailbox', () => {
  it('alice and ALICE next to an unsubscribed Alice@Example.org add nobody', () => {
    const dir = tempDir();
    expect(paperboy(dir, 'subscribers', 'add', 'Alice@Example.org', '--confirmed').code).toBe(0);
    expect(paperboy(dir, 'subscribers', 'remove', 'Alice@Example.org').code).toBe(0);
    const file = join(dir, 'list.csv');
    writeFileSync(file, 'email\nalice@example.org\nALICE@example.org\nbob@example.org\nBOB@example.org\n');
    const r = paperboy(dir, 'subscribers', 'import', file, '--confirmed');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('read 4 row(s): added 1 (active), skipped 3, rejected 0');
    const rows = listed(dir).map((s) => [s.email, s.status]);
    expect(rows).toEqual([
      ['Alice@example.org', 'unsubscribed'],
      ['bob@example.org', 'active'],
    ]);
  });
});
