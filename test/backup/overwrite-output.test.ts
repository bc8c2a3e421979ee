/**
 * A backup never replaces a good archive by accident (issue 14, item 9): an existing --output is
 * refused unless --overwrite (--force is the in-use override), and even with --overwrite only a
 * complete backup replaces it; an incomplete one leaves the old archive as it was.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, runCli } from '../support/cli.js';
import { cli, localScenario, type Scenario } from './helpers.js';

let s: Scenario;
beforeAll(async () => { s = await localScenario('noweb', 'ow'); });
afterAll(async () => { await s.cleanup(); });

const namesIn = async (archive: string) => {
  const verified = await cli(['backup', 'verify', archive, '--json'], s.base, s.namespace);
  expect(verified.code, verified.stderr).toBe(0);
  return json(verified).sessions.map((session: { name: string }) => session.name).sort();
};

describe('backup --output of a file that exists', () => {
  it('is refused (exit 2, naming --overwrite) and the file is untouched', async () => {
    const archive = path.join(s.base, 'refused.tar.gz');
    writeFileSync(archive, 'an older archive, byte for byte');
    const result = await cli(['backup', 'local', '--session', 'alpha', '-o', archive], s.base, s.namespace);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/refused\.tar\.gz already exists.*--overwrite/);
    expect(readFileSync(archive, 'utf8')).toBe('an older archive, byte for byte');
    expect(existsSync(`${archive}.partial`)).toBe(false);
  });

  it('--force does not replace it: it is the in-use override, not the output one', async () => {
    const archive = path.join(s.base, 'forced.tar.gz');
    writeFileSync(archive, 'older');
    const result = await cli(['backup', 'local', '--session', 'alpha', '--force', '-o', archive], s.base, s.namespace);
    expect(result.code).toBe(2);
    expect(readFileSync(archive, 'utf8')).toBe('older');
  });

  it('--overwrite with a complete backup replaces it (written as .partial, renamed at the end)', async () => {
    const archive = path.join(s.base, 'replaced.tar.gz');
    const first = await cli(['backup', 'local', '--session', 'alpha', '-o', archive], s.base, s.namespace);
    expect(first.code, first.stderr).toBe(0);
    expect(await namesIn(archive)).toEqual(['alpha']);
    const second = await cli(['backup', 'local', '--session', 'alpha', '--session', 'fresh', '--overwrite', '-o', archive], s.base, s.namespace);
    expect(second.code, second.stderr).toBe(0);
    expect(await namesIn(archive)).toEqual(['alpha', 'fresh']);
    expect(existsSync(`${archive}.partial`)).toBe(false);
  });

  it('--overwrite with an incomplete backup (a session fails) leaves the old archive as it was: exit 1, said why', async () => {
    const archive = path.join(s.base, 'kept.tar.gz');
    const first = await cli(['backup', 'local', '--session', 'alpha', '--session', 'fresh', '-o', archive], s.base, s.namespace);
    expect(first.code, first.stderr).toBe(0);
    const before = readFileSync(archive);
    // "broken" has a corrupt creds.json: that session fails, the others would be backed up (exit 3 into a new file)
    const partial = await cli(['backup', 'local', '--session', 'alpha', '--session', 'broken', '--overwrite', '-o', archive, '--json'], s.base, s.namespace);
    expect(partial.code, partial.stderr).toBe(1);
    expect(partial.stderr).toMatch(/kept\.tar\.gz was left as it was/);
    expect(json(partial)).toMatchObject({ written: false, summary: { done: 1, failed: 1 } });
    expect(readFileSync(archive).equals(before)).toBe(true);
    expect(existsSync(`${archive}.partial`)).toBe(false);
    expect(await namesIn(archive)).toEqual(['alpha', 'fresh']);
  });

  it('into a new file, the same incomplete backup is still written (exit 3: the archive holds the others)', async () => {
    const archive = path.join(s.base, 'new-partial.tar.gz');
    const result = await cli(['backup', 'local', '--session', 'alpha', '--session', 'broken', '-o', archive], s.base, s.namespace);
    expect(result.code, result.stderr).toBe(3);
    expect(await namesIn(archive)).toEqual(['alpha']);
  });

  it('purge --backup to an existing file is refused before anything is purged', async () => {
    const archive = path.join(s.base, 'purge-backup.tar.gz');
    writeFileSync(archive, 'older');
    const result = await cli(['purge', 'local', '--session', 'fresh', '--backup', archive, '--yes'], s.base, s.namespace);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('already exists');
    expect(readFileSync(archive, 'utf8')).toBe('older');
    expect(existsSync(path.join(s.folder, 'fresh'))).toBe(true);
  });

  it('--help says what --overwrite and --force mean for backup', async () => {
    const help = await runCli(['backup', '--help']);
    const text = help.stdout.replace(/\s+/g, ' '); // help wraps at the terminal width
    expect(text).toMatch(/--overwrite replace an existing --output file/);
    expect(text).toMatch(/only a complete backup replaces it/);
  });
});
