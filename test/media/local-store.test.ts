import { existsSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanMedia } from '../../src/media/clean.js';
import { LocalMediaStore } from '../../src/media/local.js';
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
