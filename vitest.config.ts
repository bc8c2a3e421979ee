import { defineConfig } from 'vitest/config';

// Tests that open SQLite themselves get the same better-sqlite3 install as src/util/sqlite.ts: on
// Node 22+ the Node-API build (12 aborts on Node 24 when the GC collects a statement).
const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

export default defineConfig({
  resolve: { alias: NODE_MAJOR >= 22 ? { 'better-sqlite3': 'better-sqlite3-napi' } : {} },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
