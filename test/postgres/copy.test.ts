/** COPY … FROM STDIN text format: every character survives (backslash, tab, newline, CR, quotes, non-ASCII), NULL stays NULL. */
import { describe, expect, it } from 'vitest';
import { copyRows } from '../../src/sessions/stores/postgres/copy.js';
import { connectPostgres } from './helpers.js';

describe('copyRows', () => {
  it('writes exactly the values given, in batches larger than one chunk', async () => {
    const client = await connectPostgres('postgres');
    try {
      await client.query('CREATE TEMP TABLE copy_check (id TEXT PRIMARY KEY, n INTEGER, data TEXT)');
      const tricky = ['a\\b', 'tab\there', 'line\nbreak', 'cr\rlf\r\n', '\\N', '"quoted" {"json":"\\u0000"}', 'ü€😀', '', ' '];
      const rows: unknown[][] = tricky.map((text, index) => [`k${index}`, index, text]);
      rows.push(['null-row', null, null]);
      for (let index = 0; index < 3000; index++) rows.push([`bulk-${index}`, index, 'x'.repeat(500)]); // > 1 MB: several chunks
      await copyRows(client as never, 'copy_check', ['id', 'n', 'data'], rows);
      const { rows: back } = await client.query<{ id: string; n: number | null; data: string | null }>('SELECT id, n, data FROM copy_check');
      const byId = new Map(back.map((row) => [row.id, row]));
      expect(back).toHaveLength(rows.length);
      tricky.forEach((text, index) => expect(byId.get(`k${index}`), JSON.stringify(text)).toEqual({ id: `k${index}`, n: index, data: text }));
      expect(byId.get('null-row')).toEqual({ id: 'null-row', n: null, data: null });
    } finally {
      await client.end();
    }
  });
});
