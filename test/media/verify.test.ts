import { describe, expect, it } from 'vitest';
import { checkObject, copySource, parseKey, repairedMetadata, type ObjectHead } from '../../src/media/verify.js';

const now = new Date('2026-11-26T12:00:00Z');
const good = (key = 'default/false_111@c.us_AAAA.oga'): ObjectHead => ({
  key,
  contentType: 'audio/ogg',
  metadata: {
    'waha-session': 'default', 'waha-chat-id': '111@c.us', 'waha-message-id': 'false_111@c.us_AAAA',
    'waha-media-filename': 'voice.ogg', 'waha-created-at': String(now.getTime() - 1000),
  },
});
const codes = (head: ObjectHead) => checkObject(head, now).map((problem) => problem.problem).sort();

describe('media verify checks', () => {
  it('accepts what WAHA writes, including WEBJS ids with dots and old objects without a content type', () => {
    expect(checkObject(good(), now)).toEqual([]);
    expect(checkObject({ ...good(), contentType: undefined }, now)).toEqual([]);
    expect(checkObject({ ...good('default/3EB0.false'), contentType: 'application/x-unknown', metadata: { ...good().metadata, 'waha-message-id': '3EB0' } }, now)).toEqual([]);
  });

  it('splits keys into session, file name and message id (last extension only)', () => {
    expect(parseKey('default/false_111@c.us_AAAA.oga')).toEqual({ session: 'default', fileName: 'false_111@c.us_AAAA.oga', messageId: 'false_111@c.us_AAAA' });
    expect(parseKey('flat.jpg')).toBeUndefined();
    expect(parseKey('a/b/c.jpg')).toBeUndefined();
    expect(parseKey('/x.jpg')).toBeUndefined();
  });

  it('finds every problem of the issue', () => {
    const meta = good().metadata;
    expect(codes({ ...good('flat.oga') })).toContain('key-layout');
    const without = (name: string) => Object.fromEntries(Object.entries(meta).filter(([key]) => key !== name));
    expect(codes({ ...good(), metadata: without('waha-session') })).toEqual(['session-missing']);
    expect(codes({ ...good(), metadata: { ...meta, 'waha-session': 'other' } })).toEqual(['session-mismatch']);
    expect(codes({ ...good(), metadata: without('waha-message-id') })).toEqual(['message-id-missing']);
    expect(codes({ ...good(), metadata: { ...meta, 'waha-message-id': 'X' } })).toEqual(['message-id-mismatch']);
    expect(codes({ ...good(), metadata: { ...meta, 'waha-created-at': '2026-01-01' } })).toEqual(['created-at-invalid']);
    expect(codes({ ...good(), metadata: { ...meta, 'waha-created-at': String(Math.floor(now.getTime() / 1000)) } })).toEqual(['created-at-invalid']);
    expect(codes({ ...good(), metadata: { ...meta, 'waha-created-at': String(now.getTime() + 86_400_000) } })).toEqual(['created-at-future']);
    expect(codes({ ...good(), metadata: without('waha-created-at') })).toEqual([]);
    expect(codes({ ...good(), metadata: without('waha-chat-id') })).toEqual(['chat-id-missing']);
    const docs = { ...without('waha-media-filename'), 'waha-media-file-name': 'voice.ogg' };
    expect(codes({ ...good(), metadata: docs })).toEqual(['file-name-docs-spelling']);
    expect(codes({ ...good(), contentType: 'image/jpeg' })).toEqual(['content-type-mismatch']);
  });

  it('marks chat id, content type and created-at as warnings or unfixable', () => {
    const problems = checkObject({ ...good(), contentType: 'image/png', metadata: { 'waha-created-at': 'x' } }, now);
    const byCode = Object.fromEntries(problems.map((problem) => [problem.problem, problem]));
    expect(byCode['chat-id-missing']).toMatchObject({ severity: 'warning', fixable: false });
    expect(byCode['content-type-mismatch']).toMatchObject({ severity: 'warning', fixable: false });
    expect(byCode['created-at-invalid']).toMatchObject({ severity: 'error', fixable: false });
    expect(byCode['session-missing']).toMatchObject({ severity: 'error', fixable: true });
  });

  it('repairs only what the key (or the docs spelling) tells, keeping every other value', () => {
    const head: ObjectHead = {
      key: 'sales/3AA6.jpeg', contentType: 'image/jpeg',
      metadata: { 'waha-session': 'wrong', 'waha-media-file-name': 'a.jpg', 'waha-created-at': 'bad', custom: 'kept' },
    };
    const repaired = repairedMetadata(head, checkObject(head, now));
    expect(repaired).toEqual({
      'waha-session': 'sales', 'waha-message-id': '3AA6', 'waha-media-filename': 'a.jpg',
      'waha-media-file-name': 'a.jpg', 'waha-created-at': 'bad', custom: 'kept',
    });
    expect(repairedMetadata(good(), checkObject(good(), now))).toBeUndefined();
  });

  it('encodes the copy source so both S3 and s3rver read the same key', () => {
    expect(copySource('b', 'default/false_111@c.us_AA.oga')).toBe('b/default/false_111@c.us_AA.oga');
    expect(copySource('b', 's 1/a?b#c+d.jpg')).toBe('b/s%201/a%3Fb%23c%2Bd.jpg');
  });
});
