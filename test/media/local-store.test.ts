import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { privileged } from '../support/cli.js';
import { cleanMedia } from '../../src/media/clean.js';
import { LOCAL_LOCK_NAME, LocalMediaStore } from '../../src/media/local.js';
import { lockPathFor } from '../../src/media/lock.js';
import type { MediaObject } from '../../src/media/store.js';
import { DAY, tempDir, writeLocal } from './seed.js';

async function listAll(store: LocalMediaStore, filter = {}): Promise<MediaObject[]> {
  const objects: MediaObject[] = [];
  for await (const page of store.list(filter)) objects.push(...page);
  return objects;
}

describe('local media store', () => {
  it('lists regular files only, never through symbolic links, skipping dot-files unless asked', async () => {
    const dir = tempDir();
    const outside = tempDir();
    writeLocal(outside, 'secret.jpg', 'x', new Date(Date.now() - 9 * DAY));
    writeLocal(dir, 'default/a.jpg', 'aa', new Date());
    writeLocal(dir, 'flat.jpg', 'f', new Date());
    writeLocal(dir, '.hidden/b.jpg', 'b', new Date());
    writeLocal(dir, 'default/.c.jpg', 'c', new Date());
    symlinkSync(path.join(outside, 'secret.jpg'), path.join(dir, 'default', 'link.jpg'));
    symlinkSync(outside, path.join(dir, 'linked-session'));
    const store = new LocalMediaStore(dir);
    expect((await listAll(store)).map((o) => o.key).sort()).toEqual(['default/a.jpg', 'flat.jpg']);
    expect((await listAll(store, { includeDotfiles: true })).map((o) => o.key).sort()).toEqual(['.hidden/b.jpg', 'default/.c.jpg', 'default/a.jpg', 'flat.jpg']);
    expect((await listAll(store, { sessions: ['default'] })).map((o) => [o.session, o.key])).toEqual([['default', 'default/a.jpg']]);
    expect((await listAll(store)).find((o) => o.key === 'flat.jpg')?.session).toBeNull();
  });

  it('counts a file that disappears between listing and deleting as vanished, not failed', async () => {
    const dir = tempDir();
    for (let i = 0; i < 5; i++) writeLocal(dir, `s/${i}.jpg`, 'x', new Date(Date.now() - 2 * DAY));
    const store = new LocalMediaStore(dir);
    const objects = await listAll(store);
    rmSync(path.join(dir, 's', '3.jpg'));
    const outcome = await store.delete(objects);
    expect(outcome.deleted).toHaveLength(4);
    expect(outcome.vanished.map((o) => o.key)).toEqual(['s/3.jpg']);
    expect(outcome.failed).toEqual([]);
  });

  it('cleans through the same loop with a store whose file vanishes mid-run, and removes the emptied folder', async () => {
    const dir = tempDir();
    for (let i = 0; i < 3; i++) writeLocal(dir, `s/${i}.jpg`, 'xx', new Date(Date.now() - 2 * DAY));
    writeFileSync(path.join(dir, 'keep.txt'), 'new');
    const store = new LocalMediaStore(dir);
    const original = store.delete.bind(store);
    store.delete = async (batch) => {
      rmSync(path.join(dir, 's', '1.jpg'));
      return original(batch);
    };
    const result = await cleanMedia({ store, filter: {}, match: { olderThanSeconds: DAY / 1000 }, now: new Date(), dryRun: false });
    expect(result.summary).toMatchObject({ matched: 3, deleted: 2, vanished: 1, failed: 0, bytes: 4 });
    expect(existsSync(path.join(dir, 's'))).toBe(false);
    expect(existsSync(path.join(dir, 'keep.txt'))).toBe(true);
  });
});

// Both ways of unlinking: in a worker thread (the default with more than one CPU) and in this thread.
describe.each([
  { unlinkThread: true, where: 'in a worker thread' },
  { unlinkThread: false, where: 'in the calling thread' },
])('local media store deleting $where', ({ unlinkThread }) => {
  it.runIf(privileged)('deletes what it is given, counts vanished and permission-denied files, and keeps the working directory', async () => {
    const dir = tempDir();
    for (let i = 0; i < 5; i++) writeLocal(dir, `s/${i}.jpg`, 'xy', new Date(Date.now() - 2 * DAY));
    writeLocal(dir, 'flat.jpg', 'f', new Date(Date.now() - 2 * DAY));
    const store = new LocalMediaStore(dir, { unlinkThread });
    const cwd = process.cwd();
    const objects = await listAll(store);
    expect(process.cwd()).toBe(cwd);
    expect(objects.map((o) => o.key).sort()).toEqual(['flat.jpg', 's/0.jpg', 's/1.jpg', 's/2.jpg', 's/3.jpg', 's/4.jpg']);
    rmSync(path.join(dir, 's', '3.jpg'));
    // Root ignores file modes; the immutable attribute stops even root from unlinking.
    const locked = path.join(dir, 's', '1.jpg');
    const chattr = spawnSync('chattr', ['+i', locked], { encoding: 'utf8' });
    expect(chattr.status, `chattr +i is needed for this test: ${chattr.stderr}`).toBe(0);
    try {
      const outcome = await store.delete(objects);
      expect(process.cwd()).toBe(cwd);
      expect(outcome.deleted.map((o) => o.key).sort()).toEqual(['flat.jpg', 's/0.jpg', 's/2.jpg', 's/4.jpg']);
      expect(outcome.vanished.map((o) => o.key)).toEqual(['s/3.jpg']);
      expect(outcome.failed).toEqual([{ key: 's/1.jpg', reason: 'permission denied (EPERM)' }]);
      expect(existsSync(locked)).toBe(true);
      await store.finishDeleting({ keepEmptyDirs: false });
      expect(existsSync(path.join(dir, 's'))).toBe(true); // not empty: the locked file is still there
    } finally {
      spawnSync('chattr', ['-i', locked]);
      await store.close();
    }
  });

  it('a listed file replaced by a symbolic link: the link goes, never its target', async () => {
    const dir = tempDir();
    const outside = tempDir();
    const target = writeLocal(outside, 'precious.jpg', 'keep me', new Date(Date.now() - 9 * DAY));
    writeLocal(dir, 's/a.jpg', 'x', new Date(Date.now() - 2 * DAY));
    const store = new LocalMediaStore(dir, { unlinkThread });
    const objects = await listAll(store);
    rmSync(path.join(dir, 's', 'a.jpg'));
    symlinkSync(target, path.join(dir, 's', 'a.jpg'));
    const outcome = await store.delete(objects);
    await store.close();
    expect(outcome.deleted.map((o) => o.key)).toEqual(['s/a.jpg']);
    expect(readFileSync(target, 'utf8')).toBe('keep me');
    expect(existsSync(path.join(dir, 's', 'a.jpg'))).toBe(false);
  });

  it('works from a relative media folder, deleting page after page while listing (> 1,000 files)', async () => {
    const dir = tempDir();
    const old = new Date(Date.now() - 2 * DAY);
    for (let i = 0; i < 2500; i++) writeLocal(dir, `big/${i}.jpg`, 'x', i % 2 ? old : new Date());
    writeLocal(dir, 'small/old.jpg', 'x', old);
    const cwd = process.cwd();
    const store = new LocalMediaStore(path.relative(cwd, dir), { unlinkThread });
    expect(store.lockKey).toBe(dir);
    const result = await cleanMedia({ store, filter: {}, match: { olderThanSeconds: DAY / 1000 }, now: new Date(), dryRun: false });
    await store.close();
    expect(process.cwd()).toBe(cwd);
    expect(result.summary).toMatchObject({ scanned: 2501, matched: 1251, deleted: 1251, vanished: 0, failed: 0 });
    expect((await listAll(new LocalMediaStore(dir))).length).toBe(1250);
    expect(existsSync(path.join(dir, 'small'))).toBe(false);
  });
});

describe('clean lock path', () => {
  it('is absolute even for a relative media folder (the listing changes the working directory meanwhile)', () => {
    expect(lockPathFor(new LocalMediaStore('some/relative/media'))).toBe(path.join(process.cwd(), 'some/relative/media', LOCAL_LOCK_NAME));
    expect(path.isAbsolute(lockPathFor({ kind: 's3', lockKey: 'http://127.0.0.1:9000/bucket' }))).toBe(true);
  });
});
