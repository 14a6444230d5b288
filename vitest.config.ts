import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // SQLite files, SMTP servers and Chromium per file: two cores, so keep workers few.
    pool: 'forks',
    maxWorkers: 2,
  },
});
