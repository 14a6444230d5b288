// The CLI's streams and exit: logs on stderr (stdout stays the command's output) and no timer left alive
// after a refused SMTP connection, both checked on the real bin in its own process.
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.js';
import { tempDir } from '../helpers/tmp.js';

function env(dir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATA_DIR: dir, FETCH_ENABLED: 'false', ...extra };
}

describe('paperboy CLI streams', () => {
  it('keeps --json on stdout parseable while a warning is logged (to stderr)', () => {
    const dir = tempDir();
    const ingest = spawnSync(process.execPath, ['bin/paperboy.js', 'ingest', 'seeds'], { env: env(dir), encoding: 'utf8' });
    expect(ingest.status).toBe(0);
    // A search file SQLite cannot read is set aside with a warning: the log line this test needs.
    writeFileSync(join(dir, 'paperboy.db-search'), 'this is not a database '.repeat(200));
    const r = spawnSync(process.execPath, ['bin/paperboy.js', 'papers', '--search', 'diffusion', '--json', '--limit', '3'], {
      env: env(dir),
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('unreadable');
    const papers = JSON.parse(r.stdout) as { title: string }[];
    expect(papers.length).toBeGreaterThan(0);
  });

  it('exits within 1 s of its error after a refused SMTP connection', async () => {
    const dir = tempDir();
    expect(spawnSync(process.execPath, ['bin/paperboy.js', 'ingest', 'seeds'], { env: env(dir) }).status).toBe(0);
    const port = await freePort(); // nothing listens there: the connection is refused
    const child = spawn(process.execPath, ['bin/paperboy.js', 'send', '--test-address', 'someone@example.org'], {
      env: env(dir, { SMTP_URL: `smtp://127.0.0.1:${port}` }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let said = 0;
    let err = '';
    const onOutput = (chunk: Buffer) => {
      err += chunk.toString();
      if (!said && /refused|cannot connect/i.test(err)) said = Date.now();
    };
    child.stdout.on('data', onOutput);
    child.stderr.on('data', onOutput);
    const code = await new Promise<number | null>((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.on('exit', (c) => (clearTimeout(kill), resolve(c)));
    });
    const exited = Date.now();
    expect(err).toMatch(/refused|cannot connect/i);
    expect(code).not.toBe(0);
    expect(code).not.toBeNull(); // null: still running at 20 s, killed by the test
    expect(exited - said).toBeLessThan(1000);
  }, 30_000);
});
