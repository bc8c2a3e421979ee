/**
 * whatsmeow as the oracle for GOWS: a Go helper (test/oracles/gows, built by this run into
 * .cache/bin) creates a device in gows.db with whatsmeow's own sqlstore; `inspect` must see it
 * logged in, and backup -> restore must give a gows.db whose device GetFirstDevice reads back equal.
 */
import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { json } from '../support/cli.js';
import { uniqueNamespace } from '../support/mongo.js';
import { age } from '../support/scenario.js';
import { buildGowsOracle, cli, tempBase } from './support.js';

let oracle: string;
beforeAll(async () => { oracle = await buildGowsOracle(); }, 320_000);

const device = (command: 'create' | 'read', db: string): Record<string, unknown> =>
  JSON.parse(execFileSync(oracle, [command, db], { encoding: 'utf8', timeout: 30_000 })) as Record<string, unknown>;

describe('GOWS against whatsmeow', () => {
  it('inspect sees a whatsmeow device logged in; backup -> restore gives a gows.db whose device whatsmeow reads back equal', async () => {
    const base = await tempBase('gows');
    const namespace = uniqueNamespace('org');
    const folder = path.join(base, namespace, 'gopher');
    await mkdir(folder, { recursive: true });
    const created = device('create', path.join(folder, 'gows.db'));
    expect(created).toMatchObject({ id: '5511912345678:12@s.whatsapp.net', pushName: 'Oracle' });
    await age(path.join(base, namespace));

    const inspect = await cli(['inspect', 'local', '--engine', 'GOWS', '--json'], base, namespace);
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(json(inspect).sessions).toMatchObject([{ engine: 'GOWS', name: 'gopher', loggedIn: true }]);

    const archive = path.join(base, 'gows.tar.gz');
    const backup = await cli(['backup', 'local', '--engine', 'GOWS', '--output', archive, '--json'], base, namespace);
    expect(backup.code, backup.stderr).toBe(0);
    const target = await tempBase('gows-restore');
    const restore = await cli(['restore', archive, 'local', '--json'], target, namespace);
    expect(restore.code, restore.stderr).toBe(0);
    expect(device('read', path.join(target, namespace, 'gopher', 'gows.db'))).toEqual(created);
  });
});
