import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

describe('paperboy ingest / papers', () => {
  const dir = tempDir();
  const env = { DATA_DIR: dir, LOG_LEVEL: 'silent' };

  it('ingests the seeds and reports the counts; a second run changes nothing', () => {
    const first = runCli(['ingest'], env);
    expect(first.stderr).toBe('');
    expect(first.stdout).toBe('pages read: 5, entries: 302, papers added: 247, updated: 0, warnings: 0\n');
    expect(first.code).toBe(0);
    const second = runCli(['ingest', 'seeds'], env);
    expect(second.stdout).toBe('pages read: 5, entries: 302, papers added: 0, updated: 0, warnings: 0\n');
  });

  it('prints warnings with file and line and still ingests the rest', () => {
    const r = runCli(['ingest', 'seeds/000_3f5a05582542f440.txt', join(dir, 'nope.txt')], env);
    expect(r.stdout).toBe(`warning: ${join(dir, 'nope.txt')}: cannot read: ENOENT\npages read: 1, entries: 25, papers added: 0, updated: 0, warnings: 1\n`);
  });

  it('rejects a text that is not a listing, exits non-zero on a missing path, and removes a paper for good', () => {
    const hello = join(dir, 'hello.txt');
    writeFileSync(hello, 'hello\nthis is not a listing\n');
    const r = runCli(['ingest', hello, join(dir, 'missing.txt')], env);
    expect(r.stdout).toBe(
      `warning: ${join(dir, 'missing.txt')}: cannot read: ENOENT\n` +
        `warning: ${hello}:1: not a listing page (no listing header and no paper metadata); skipped\n` +
        'pages read: 1, entries: 0, papers added: 0, updated: 0, warnings: 2\n',
    );
    expect(r.stderr).toBe(`error: no such file or directory: ${join(dir, 'missing.txt')}\n`);
    expect(r.code).toBe(1);
    const json = JSON.parse(runCli(['papers', '--search', 'Light Schrödinger Bridge', '--limit', '1', '--json'], env).stdout) as {
      id: number;
      title: string;
    }[];
    expect(json[0]!.title).toBe('Light Schrödinger Bridge');
    const rm = runCli(['papers', 'remove', String(json[0]!.id)], env);
    expect([rm.code, rm.stdout]).toEqual([0, `removed paper ${json[0]!.id}: Light Schrödinger Bridge\n`]);
    // The seeds carry it on two pages: ingesting them again does not bring it back (it would count as added).
    expect(runCli(['ingest'], env).stdout).toBe('pages read: 5, entries: 302, papers added: 0, updated: 0, warnings: 0\n');
  });

  it('lists and searches papers as a table and as JSON', () => {
    const table = runCli(['papers', '--search', 'attention head selection', '--limit', '1'], env);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+PUBLISHED\s+VOTES\s+AUTH\s+PAGES\s+TITLE$/);
    expect(table.stdout).toMatch(/2025-06-12 3\s+10\s+1\s+Fine-Grained Perturbation Guidance via Attention Head Selection/);
    const json = JSON.parse(runCli(['papers', '--json', '--limit', '3'], env).stdout) as { title: string }[];
    expect(json).toHaveLength(3);
    const none = runCli(['papers', '--search', 'qwertyuiop'], env);
    expect(none.stdout).toBe('no paper matches "qwertyuiop"\n');
  });

  it('rejects a bad --limit and a bad config with a clear message', () => {
    const bad = runCli(['papers', '--limit', 'ten'], env);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("option '-n, --limit <n>' argument 'ten' is invalid. expected a whole number of 1 or more");
    const cfg = runCli(['papers'], { ...env, PORT: 'abc', MAIL_TRANSPORT: 'carrier-pigeon' });
    expect(cfg.code).toBe(2);
    expect(cfg.stderr).toBe(
      'Invalid configuration:\n  PORT: expected a whole number from 1 to 65535, got "abc"\n' +
        '  MAIL_TRANSPORT: expected one of outbox, smtp, got "carrier-pigeon"\n(see .env.example for every key and its default)\n',
    );
  });
});
