/**
 * Rows into a table through `COPY … FROM STDIN` in text format (pg-copy-streams): values escaped as
 * PostgreSQL's text format wants them (backslash, tab, newline, carriage return; NULL as \N).
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Client } from 'pg';
import { quoteIdent } from '../../../util/postgres.js';

const SPECIAL = /[\\\t\n\r]/;

export function copyText(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  const text = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (!SPECIAL.test(text)) return text;
  return text.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

/** Lines of about 1 MB each, so a batch is never one string the size of the batch. */
function* lines(rows: readonly unknown[][]): Iterable<string> {
  let chunk = '';
  for (const row of rows) {
    chunk += `${row.map(copyText).join('\t')}\n`;
    if (chunk.length >= 1 << 20) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

export async function copyRows(client: Client, table: string, columns: readonly string[], rows: readonly unknown[][]): Promise<void> {
  if (!rows.length) return;
  const { from } = await import('pg-copy-streams');
  const target = client.query(from(`COPY ${quoteIdent(table)} (${columns.map(quoteIdent).join(', ')}) FROM STDIN`));
  await pipeline(Readable.from(lines(rows), { objectMode: false }), target);
}
