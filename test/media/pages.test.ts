import { describe, expect, it } from 'vitest';
import { mergePages } from '../../src/media/pages.js';
import { matcher, sessionOfKey } from '../../src/media/store.js';

async function* source(name: string, pages: number, delayMs: number, log: string[]) {
  for (let page = 0; page < pages; page++) {
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    log.push(`${name}${page}`);
    yield `${name}${page}`;
  }
}

describe('mergePages', () => {
  it('yields every page of every source, reading several sources at once', async () => {
    const log: string[] = [];
    const pages: string[] = [];
    const started = Date.now();
    for await (const page of mergePages([() => source('a', 3, 20, log), () => source('b', 3, 20, log), () => source('c', 3, 20, log)], 3)) pages.push(page);
    expect(pages.sort()).toEqual(['a0', 'a1', 'a2', 'b0', 'b1', 'b2', 'c0', 'c1', 'c2']);
    expect(Date.now() - started).toBeLessThan(9 * 20); // concurrent, not one after the other
  });

  it('never reads more than `concurrency` sources at a time, and stops them when the consumer stops', async () => {
    const log: string[] = [];
    const seen: string[] = [];
    for await (const page of mergePages([() => source('a', 5, 5, log), () => source('b', 5, 5, log), () => source('c', 5, 5, log)], 1)) {
      seen.push(page);
      if (seen.length === 2) break;
    }
    expect(seen).toEqual(['a0', 'a1']);
    expect(log.some((entry) => entry.startsWith('b') || entry.startsWith('c'))).toBe(false);
    expect(log.length).toBeLessThanOrEqual(3);
  });

  it('passes a source failure to the consumer', async () => {
    async function* broken() {
      yield 'x';
      throw new Error('listing failed');
    }
    const run = async () => { for await (const _ of mergePages([broken, () => source('a', 2, 1, [])], 2)) void _; };
    await expect(run()).rejects.toThrow('listing failed');
  });
});

describe('object filter', () => {
  const now = new Date('2026-11-26T12:00:00Z');
  const object = (ageSeconds: number, bytes: number) => ({ session: 's', key: 's/k', bytes, modifiedAt: new Date(now.getTime() - ageSeconds * 1000) });
  it('matches by age (inclusive) and size (strictly larger)', () => {
    const old = matcher({ olderThanSeconds: 60 }, now);
    expect(old(object(60, 1))).toBe(true);
    expect(old(object(59, 1))).toBe(false);
    const big = matcher({ largerThanBytes: 10 }, now);
    expect(big(object(0, 11))).toBe(true);
    expect(big(object(0, 10))).toBe(false);
    expect(matcher({}, now)(object(0, 0))).toBe(true);
  });
  it('takes the session from the first key segment', () => {
    expect(sessionOfKey('default/a.jpg')).toBe('default');
    expect(sessionOfKey('a.jpg')).toBeNull();
  });
});
