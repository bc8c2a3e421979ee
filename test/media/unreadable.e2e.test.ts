/**
 * One session folder that cannot be read must not stop the clean of the others (issue 14, item 7):
 * the folder is reported, every other session is cleaned, exit 3.
 */
import { spawn } from 'node:child_process';
import { chmodSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, privileged } from '../support/cli.js';
import { DAY, tempDir, writeLocal } from './seed.js';

const old = new Date(Date.now() - 2 * DAY);

/** Still root (the checkout stays readable) but without the capabilities that override file modes. */
function asWahaUser(args: string[], mediaDir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dropCaps = ['--inh-caps=-dac_override,-dac_read_search', '--bounding-set=-dac_override,-dac_read_search', '--'];
  return new Promise((resolve) => {
    const child = spawn('setpriv', [...dropCaps, process.execPath, BIN, ...args], { env: { PATH: process.env.PATH, WHATSAPP_FILES_FOLDER: mediaDir } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function mediaWithPrivateSession(): string {
  const dir = tempDir();
  for (const session of ['alpha', 'private', 'zulu']) {
    for (let i = 0; i < 3; i++) writeLocal(dir, `${session}/${i}.jpeg`, 'x', old);
  }
  writeLocal(dir, 'alpha/fresh.jpeg', 'x', new Date());
  chmodSync(path.join(dir, 'private'), 0o000);
  return dir;
}

const left = (dir: string, session: string) => readdirSync(path.join(dir, session)).sort();

describe.runIf(privileged)('media clean local with one unreadable session folder', () => {
  it('--json: the folder is in failures, the other sessions are cleaned, exit 3', async () => {
    const dir = mediaWithPrivateSession();
    try {
      const result = await asWahaUser(['media', 'clean', '--older-than', '1d', '--json'], dir);
      expect(result.code, result.stderr).toBe(3);
      const document = JSON.parse(result.stdout);
      expect(document.interrupted).toBe(false);
      expect(document.summary).toMatchObject({ deleted: 6, failed: 0, unreadable: 1 });
      expect(document.failures).toEqual([{ key: 'private/', reason: expect.stringMatching(/permission denied \(EACCES\)/) }]);
      expect(result.stderr).toMatch(/1 folder could not be read.*private\/.*the other folders were cleaned/);
      chmodSync(path.join(dir, 'private'), 0o700);
      expect(left(dir, 'alpha')).toEqual(['fresh.jpeg']);
      expect(left(dir, 'private')).toEqual(['0.jpeg', '1.jpeg', '2.jpeg']);
      expect(readdirSync(dir)).not.toContain('zulu'); // emptied, so removed
    } finally {
      chmodSync(path.join(dir, 'private'), 0o700);
    }
  });

  it('on the table output the summary names the unreadable folder; media list reports it and exits 3', async () => {
    const dir = mediaWithPrivateSession();
    try {
      const list = await asWahaUser(['media', 'list'], dir);
      expect(list.code, list.stderr).toBe(3);
      expect(list.stderr).toMatch(/not listed: private\/: cannot read the folder: permission denied/);
      expect(list.stdout).toMatch(/alpha/);
      const clean = await asWahaUser(['media', 'clean', '--older-than', '1d'], dir);
      expect(clean.code, clean.stderr).toBe(3);
      expect(clean.stderr).toMatch(/not read: private\/: cannot read the folder/);
      expect(clean.stdout).toMatch(/Deleted 6 of 6 objects .*1 folder unreadable/);
    } finally {
      chmodSync(path.join(dir, 'private'), 0o700);
    }
  });
});
