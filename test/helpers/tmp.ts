// Temporary directories for tests, removed after the test file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

export function tempDir(prefix = 'paperboy-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  // A background WAL checkpoint (src/db/checkpoint.ts) may still be closing its connection after the test's store
  // closed, re-creating a -wal or -shm file while the tree is removed: rmSync retries ENOTEMPTY for that.
  afterAll(() => rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 }));
  return dir;
}
