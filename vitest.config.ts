import { configDefaults, defineConfig } from 'vitest/config';

// Measures how much longer people wait during a big ingest (<= 1 s): scripts/test.sh runs it after the rest, alone,
// so the other test files sharing the two cores are not part of what it measures.
const BUSY = 'test/e2e/busy-ingest.test.ts';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // SQLite files, SMTP servers and Chromium per file: two cores, so keep workers few.
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'main', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, BUSY] } },
      { extends: true, test: { name: 'busy', include: [BUSY] } },
    ],
  },
});
