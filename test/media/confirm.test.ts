import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { confirmDestructive } from '../../src/cli/confirm.js';
import { Reporter } from '../../src/cli/reporter.js';
import { UsageError } from '../../src/errors.js';

const pipe = () => Object.assign(new PassThrough(), { isTTY: false }) as unknown as NodeJS.WriteStream;

describe('confirmDestructive', () => {
  it('refuses without a terminal and names --yes', async () => {
    const reporter = new Reporter({}, { stdout: pipe(), stderr: pipe(), env: {} });
    const refusal = confirmDestructive(reporter, { question: 'Delete 3 objects?', what: 'media clean' });
    await expect(refusal).rejects.toBeInstanceOf(UsageError);
    await expect(refusal).rejects.toThrow(/Delete 3 objects\?/);
    await confirmDestructive(reporter, { question: 'x', what: 'media clean' }).catch((error: UsageError) => expect(error.hint).toMatch(/--yes/));
  });

  it('goes ahead with --yes without asking', async () => {
    const reporter = new Reporter({}, { stdout: pipe(), stderr: pipe(), env: {} });
    await expect(confirmDestructive(reporter, { question: 'Delete?', yes: true })).resolves.toBeUndefined();
  });
});
