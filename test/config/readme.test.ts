import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SETTINGS } from '../../src/config/settings.js';
import { ROOT } from '../support/servers.js';

describe('README configuration table', () => {
  it('lists every setting with its flag and every environment variable', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Exit codes'));
    for (const setting of SETTINGS) {
      if (setting.key === 'envFile' || setting.key === 'env') continue; // the .env file itself: described above the table
      const flag = setting.flags.split(' ')[0]!;
      const row = table.split('\n').find((line) => line.startsWith(`| \`${flag}\``));
      expect(row, flag).toBeDefined();
      for (const name of setting.env) expect(row, `${flag} ${name}`).toContain(name);
    }
  });
});
