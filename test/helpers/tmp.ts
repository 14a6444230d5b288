// Temporary directories for tests, removed after the test file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll } from 'vitest';

/**
 * Removes `dir`, listing it again while something still creates files in it: a background WAL checkpoint
 * (src/db/checkpoint.ts) started by a test's ingest may open its database after the test's store closed, which
 * re-creates the -wal and -shm files while the tree is being removed (rmSync's own retries re-try the last step only).
 */
export async function removeDir(dir: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      rmSync(dir, { recursive: true, force: true });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOTEMPTY' || attempt >= 50) throw err;
      await sleep(100);
    }
  }
}

export function tempDir(prefix = 'paperboy-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => removeDir(dir));
  return dir;
}
