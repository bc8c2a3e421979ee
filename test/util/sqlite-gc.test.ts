/**
 * better-sqlite3 12 aborts the whole process on Node 24 when the GC collects one of its statements
 * or databases (`Assertion failed: (env) != nullptr` in RemoveEnvironmentCleanupHook): every command
 * that reads a waha.sqlite3 or a gows.db could die mid-run. src/util/sqlite.ts (and the tests, via the
 * vitest alias) load the Node-API build on Node 22+. On Node 20 this passes either way.
 */
import DirectDatabase from 'better-sqlite3';
import { expect, it } from 'vitest';
import { Database } from '../../src/util/sqlite.js';

/** Makes the young generation collect several times, so dropped SQLite objects are finalized. */
function churn(): number {
  let junk: { index: number }[] = [];
  for (let index = 0; index < 3_000_000; index++) {
    junk.push({ index });
    if (junk.length > 1000) junk = [];
  }
  return junk.length;
}

it.each([['src/util/sqlite.ts', Database], ["'better-sqlite3' in a test", DirectDatabase]])('the process survives the GC collecting statements and databases (%s)', (_, Open) => {
  for (let round = 0; round < 20; round++) {
    const db = new Open(':memory:');
    for (let i = 0; i < 20; i++) db.prepare('SELECT ? AS x').get(i);
    db.close();
  }
  expect(churn()).toBeLessThanOrEqual(1001);
});
