import { describe, expect, it } from 'vitest';
import { bufferJsonText, categoryOfKey, countByCategory, fileNameForKey, mongoKeyFor, slugOf, toBufferJson } from '../support/fixtures/index.js';

describe('fixture naming helpers', () => {
  it('escapes file names the way Baileys does (/ → __, : → -, nothing else)', () => {
    expect(fileNameForKey('sender-key-123@g.us::456_1::0')).toBe('sender-key-123@g.us--456_1--0.json');
    expect(fileNameForKey('app-state-sync-key-AAAAab/c+d=')).toBe('app-state-sync-key-AAAAab__c+d=.json');
    expect(fileNameForKey('session-123_1.12')).toBe('session-123_1.12.json');
    expect(fileNameForKey('tctoken-__index')).toBe('tctoken-__index.json');
    expect(fileNameForKey('creds')).toBe('creds.json');
  });

  it('names Mongo keys with every . turned into - and nothing else', () => {
    expect(mongoKeyFor('session-123.0')).toBe('session-123-0');
    expect(mongoKeyFor('sender-key-123@g.us::456_1::0')).toBe('sender-key-123@g-us::456_1::0');
    expect(mongoKeyFor('app-state-sync-key-AAAAab/c')).toBe('app-state-sync-key-AAAAab/c');
  });

  it('slugs session names like WAHA', () => {
    expect(slugOf('My-Sess')).toBe('my-sess');
    expect(slugOf('old name')).toBe('old_name');
    expect(slugOf('a.b_C')).toBe('a_b_c');
  });

  it('writes buffers as {"type":"Buffer","data":"<base64>"}, never as number arrays', () => {
    const text = bufferJsonText({ a: Buffer.from([1, 2, 3]), b: new Uint8Array([255]), nested: [{ c: Buffer.alloc(2) }] });
    expect(JSON.parse(text)).toEqual({
      a: { type: 'Buffer', data: 'AQID' },
      b: { type: 'Buffer', data: '/w==' },
      nested: [{ c: { type: 'Buffer', data: 'AAA=' } }],
    });
    expect(toBufferJson(Buffer.from('hi'))).toEqual({ type: 'Buffer', data: 'aGk=' });
  });

  it('splits categories by the longest known prefix', () => {
    expect(categoryOfKey('sender-key-memory-1@g.us')).toBe('sender-key-memory');
    expect(categoryOfKey('sender-key-1@g.us--2--0')).toBe('sender-key');
    expect(categoryOfKey('app-state-sync-version-regular')).toBe('app-state-sync-version');
    expect(categoryOfKey('app-state-sync-key-AAAA')).toBe('app-state-sync-key');
    expect(categoryOfKey('future-thing-abc')).toBe('other');
    expect(categoryOfKey('creds')).toBe('creds');
    expect(countByCategory(['pre-key-1', 'pre-key-2', 'creds', 'x-1'])).toEqual({ creds: 1, other: 1, 'pre-key': 2 });
  });
});
