/**
 * The WEBJS core layout keeps every session's profile in `webjs/default/session-<name>/`, inside the
 * folder of the session named `default`. Removing `default` (purge, --logout, migrate --move) must
 * never take another session's profile with it.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { writeLocalFixtures } from '../support/fixtures/index.js';
import { json, runCli } from '../support/cli.js';
import { age } from '../support/scenario.js';

let base: string;

beforeEach(async () => {
  base = mkdtempSync(path.join(os.tmpdir(), 'waha-storage-core-'));
  await writeLocalFixtures(base);
  await age(base);
});

const web2Profile = () => path.join(base, 'webjs', 'default', 'session-web2');

async function web2Entries(): Promise<number> {
  const document = json(await runCli(['inspect', 'local', '--sessions-dir', base, '--session', 'web2', '--json']));
  return document.sessions[0].entries;
}

describe('removing the session "default" in the WEBJS core layout', () => {
  it('purge (WAHA delete) removes default and keeps web2 whole', async () => {
    const before = await web2Entries();
    const result = await runCli(['purge', 'local', '--sessions-dir', base, '--engine', 'webjs', '--session', 'default', '--yes']);
    expect(result.code).toBe(0);
    expect(existsSync(path.join(base, 'webjs', 'default', 'session-default'))).toBe(false);
    expect(existsSync(path.join(base, 'webjs', 'default', '.waha.session.config.json'))).toBe(false);
    expect(existsSync(web2Profile())).toBe(true);
    expect(await web2Entries()).toBe(before);
  });

  it('purge --logout keeps default\'s config and web2 whole', async () => {
    const before = await web2Entries();
    const result = await runCli(['purge', 'local', '--sessions-dir', base, '--engine', 'webjs', '--session', 'default', '--logout', '--yes']);
    expect(result.code).toBe(0);
    expect(existsSync(path.join(base, 'webjs', 'default', 'session-default'))).toBe(false);
    expect(existsSync(path.join(base, 'webjs', 'default', '.waha.session.config.json'))).toBe(true);
    expect(await web2Entries()).toBe(before);
  });
});
