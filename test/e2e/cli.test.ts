import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, runCli } from '../support/cli.js';
import { ROOT } from '../support/servers.js';

describe('the CLI shell', () => {
  it('prints help and version and exits 0', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('inspect');
    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('an unknown command is a usage error (exit 2)', async () => {
    const result = await runCli(['frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown command|too many arguments/);
  });

  it('a closed pipe ends the output quietly (no EPIPE stack trace)', () => {
    const result = spawnSync('sh', ['-c', `node ${BIN} inspect local --sessions-dir examples/sessions | head -1`], { cwd: ROOT, encoding: 'utf8' });
    expect(result.stdout).toMatch(/^engine\s+session/);
    expect(result.stderr).toBe('');
  });

  it('runs the README quick-start command on the shipped example tree', async () => {
    const result = await runCli(['inspect', 'local', '--sessions-dir', 'examples/sessions']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^NOWEB +alpha +local +yes/m);
    expect(result.stdout).toMatch(/^GOWS +gopher +local +yes/m);
  });
});
