// The CLI as a person meets it (issue 17): `--version`, bad preference flags named as flags with the subcommand's own
// usage after them, and a bad --test-address as one line, all through the real bin.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

const env = (dir: string) => ({ DATA_DIR: dir, FETCH_ENABLED: 'false' });

describe('paperboy CLI polish', () => {
  it('--version prints the package version on stdout and exits 0', () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    const r = runCli(['--version'], env(tempDir()));
    expect(r).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('subscribers add with bad preferences: each error names its flag, then the usage of `subscribers add`; nothing added', () => {
    const dir = tempDir();
    const r = runCli(['subscribers', 'add', 'reader@example.org', '--size', '40', '--hour', '24', '--time-zone', 'Nowhere/City'], env(dir));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n');
    expect(lines.slice(0, 5)).toEqual([
      'error: --size: Choose a number of papers from 1 to 30.',
      'error: --hour: Choose an hour from 0 to 23.',
      'error: --time-zone: That is not a time zone we know (use a name like Europe/London or America/New_York).',
      '',
      'Usage: paperboy subscribers add [options] <email>',
    ]);
    expect(r.stderr).toMatch(/^ {2}--size <n> +papers per digest, 1 to 30$/m);
    expect(r.stderr).not.toMatch(/digest_size|delivery_hour|time_zone/);
    expect(runCli(['subscribers', 'list', '--json'], env(dir)).stdout).toBe('');
  });

  it('subscribers add with a bad address: the error, then the usage of `subscribers add`', () => {
    const r = runCli(['subscribers', 'add', 'not-an-address'], env(tempDir()));
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n').slice(0, 3)).toEqual([
      'error: "not-an-address": That does not look like an email address (like name@example.org).',
      '',
      'Usage: paperboy subscribers add [options] <email>',
    ]);
  });

  it('send --test-address notanemail: one line on stderr, exit 1, no run started, no stack trace', () => {
    const dir = tempDir();
    expect(runCli(['ingest', 'seeds'], env(dir)).code).toBe(0);
    const r = runCli(['send', '--test-address', 'notanemail'], env(dir));
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: --test-address "notanemail": That does not look like an email address (like name@example.org).\n',
    });
    const to = runCli(['send', '--to', 'someone@localhost'], env(dir));
    expect(to.code).toBe(1);
    expect(to.stderr).toBe('error: --to "someone@localhost": The part after @ does not look like a domain (like example.org).\n');
  });
});
