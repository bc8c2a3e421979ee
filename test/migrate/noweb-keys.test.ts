/** The NOWEB key-name codec against names computed by WAHA's own rules (fixtures), independently. */
import { describe, expect, it } from 'vitest';
import { decodeKey, fileNameOf, mongoKeyOf, parseKeyName } from '../../src/sessions/engines/noweb-keys.js';
import { fileNameForKey, mongoKeyFor, nowebAuth } from '../support/fixtures/index.js';

describe('NOWEB key names', () => {
  const keys = ['creds', ...nowebAuth('codec', { loggedIn: true, full: true }).keys.map(({ key }) => key)];

  it('parses every file name and Mongo key WAHA writes back to its logical key', () => {
    for (const key of keys) {
      expect(fileNameOf(key)).toBe(fileNameForKey(key));
      expect(mongoKeyOf(key)).toBe(mongoKeyFor(key));
      expect(parseKeyName(fileNameForKey(key), 'file'), key).toEqual({ ok: true, key });
      expect(parseKeyName(mongoKeyFor(key), 'mongo'), key).toEqual({ ok: true, key });
    }
  });

  it('handles the hard names: old group ids with "-", sender keys, "/" in app-state ids, tctoken-__index', () => {
    expect(decodeKey('sender-key-123-456@g.us--789--3.json', 'file')).toBe('sender-key-123-456@g.us::789::3');
    expect(decodeKey('sender-key-123-456@g-us::789::3', 'mongo')).toBe('sender-key-123-456@g.us::789::3');
    expect(decodeKey('sender-key-status@broadcast--11_1--0.json', 'file')).toBe('sender-key-status@broadcast::11_1::0');
    expect(decodeKey('app-state-sync-key-AAAAab__cd.json', 'file')).toBe('app-state-sync-key-AAAAab/cd');
    expect(decodeKey('session-123_1-12', 'mongo')).toBe('session-123_1.12');
    expect(decodeKey('sender-key-memory-1@g-us', 'mongo')).toBe('sender-key-memory-1@g.us');
    expect(decodeKey('tctoken-__index', 'mongo')).toBe('tctoken-__index');
    expect(decodeKey('tctoken-5@s-whatsapp-net', 'mongo')).toBe('tctoken-5@s.whatsapp.net');
  });

  it('refuses names that do not round-trip instead of guessing', () => {
    expect(parseKeyName('sender-key-1@g.us::2::0.json', 'file').ok).toBe(false); // raw ":" (Baileys before 2022)
    expect(parseKeyName('future-a.b.json', 'file').ok).toBe(false); // unknown category with "."
    expect(parseKeyName('creds.json.123', 'file').ok).toBe(false);
    expect(parseKeyName('future-thing-abc.json', 'file')).toEqual({ ok: true, key: 'future-thing-abc' });
  });
});
