/**
 * One GOWS column's values between the two dialects (postgres.md §GOWS "GOWS timestamps in SQLite"):
 * SQLite integers 0/1 ↔ PostgreSQL BOOLEAN, SQLite integers ↔ BIGINT/INTEGER, blobs ↔ bytea, the
 * text go-sqlite3 writes for a Go time.Time (`2006-01-02 15:04:05.999999999-07:00`) ↔ TIMESTAMP
 * (UTC wall-clock, as GOWS on PostgreSQL writes it). A value that has no faithful form in the other
 * dialect fails the session naming its table and column.
 */
import { EntryError } from '../stores/types.js';

export type ColumnKind = 'integer' | 'boolean' | 'real' | 'text' | 'blob' | 'timestamp' | 'timestamptz';

/** The kind of a column from its declared type (SQLite) or type name (PostgreSQL); undefined: not mappable. */
export function columnKind(type: string): ColumnKind | undefined {
  const upper = type.toUpperCase();
  if (/BOOL/.test(upper)) return 'boolean';
  if (/TIMESTAMPTZ|WITH TIME ZONE/.test(upper)) return 'timestamptz';
  if (/TIMESTAMP|DATETIME/.test(upper)) return 'timestamp';
  if (/BYTEA|BLOB/.test(upper)) return 'blob';
  if (/INT/.test(upper)) return 'integer';
  if (/REAL|FLOA|DOUB/.test(upper)) return 'real';
  if (/CHAR|CLOB|TEXT|UUID|JSON|^DATE$/.test(upper)) return 'text';
  return undefined;
}

export interface Instant {
  /** Milliseconds since the epoch (UTC). */
  ms: number;
  /** Microseconds within the millisecond (0-999): PostgreSQL keeps microseconds, so finer digits are cut. */
  micros: number;
}

const TIME_TEXT = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?\s*(Z|[+-]\d{2}(?::?\d{2})?)?(?:\s+[A-Za-z][\w+-]*)?$/;

/** A timestamp as go-sqlite3, modernc or PostgreSQL print it; no zone is UTC. */
export function parseTimestamp(text: string): Instant | undefined {
  const match = TIME_TEXT.exec(text.trim());
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s, fraction = '', zone = 'Z'] = match;
  let offsetMinutes = 0;
  if (zone !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    offsetMinutes = (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0')) * (zone[0] === '-' ? -1 : 1);
  }
  const micro = Number(fraction.padEnd(6, '0').slice(0, 6));
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) + Math.floor(micro / 1000) - offsetMinutes * 60_000;
  if (Number.isNaN(ms)) return undefined;
  return { ms, micros: micro % 1000 };
}

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

/** `YYYY-MM-DD HH:MM:SS[.ffffff]` in UTC, trailing zeros of the fraction dropped (as Go and PostgreSQL print it). */
export function formatUtc(instant: Instant): string {
  const date = new Date(instant.ms);
  const micro = date.getUTCMilliseconds() * 1000 + instant.micros;
  const fraction = micro ? `.${pad(micro, 6).replace(/0+$/, '')}` : '';
  return `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}${fraction}`;
}

function where(table: string, column: string): string {
  return `gows.db table ${table}, column ${column}`;
}

/**
 * A SQLite value (better-sqlite3 with safe integers: bigint, number, string, Buffer, null) as a
 * COPY text-format field for a PostgreSQL column of `kind` (escaping is copyText's).
 */
export function sqliteToCopy(value: unknown, kind: ColumnKind, table: string, column: string): string | null {
  if (value === null || value === undefined) return null;
  const fail = (what: string) => new EntryError('gows-value', `${where(table, column)} holds ${what}, which PostgreSQL's ${kind} column cannot hold as it is; nothing was committed`);
  switch (kind) {
    case 'boolean':
      if (typeof value === 'bigint' || typeof value === 'number') {
        if (Number(value) === 0 || Number(value) === 1) return Number(value) ? 't' : 'f';
      }
      throw fail(`the value ${describe(value)}`);
    case 'integer':
      if (typeof value === 'bigint') return value.toString();
      if (typeof value === 'number' && Number.isInteger(value)) return String(value);
      throw fail(`the value ${describe(value)}`);
    case 'real':
      if (typeof value === 'number' || typeof value === 'bigint') return String(value);
      throw fail(`the value ${describe(value)}`);
    case 'blob':
      if (Buffer.isBuffer(value)) return `\\x${value.toString('hex')}`;
      throw fail(`${describe(value)} where whatsmeow keeps bytes`);
    case 'text':
      if (typeof value === 'string') {
        if (value.includes('\u0000')) throw fail('a NUL character');
        return value;
      }
      throw fail(describe(value));
    case 'timestamp':
    case 'timestamptz': {
      const instant = typeof value === 'string' ? parseTimestamp(value) : undefined;
      if (!instant) throw fail(`${describe(value)}, not a timestamp`);
      return kind === 'timestamp' ? formatUtc(instant) : `${formatUtc(instant)}+00`;
    }
  }
}

/** A PostgreSQL value in its text output (session TimeZone UTC) as the value to store in SQLite for `kind`. */
export function pgTextToSqlite(text: string | null, kind: ColumnKind): bigint | number | string | Buffer | null {
  if (text === null) return null;
  switch (kind) {
    case 'boolean':
      return text === 't' ? 1n : 0n;
    case 'integer':
      return BigInt(text);
    case 'real':
      return Number(text);
    case 'blob':
      return Buffer.from(text.slice(2), 'hex'); // bytea_output hex: \x…
    case 'text':
      return text;
    case 'timestamp':
    case 'timestamptz': {
      const instant = parseTimestamp(text);
      // go-sqlite3's form of a Go time.Time in UTC
      return instant ? `${formatUtc(instant)}+00:00` : text;
    }
  }
}

/**
 * The canonical encoding of one SQLite value for the digest, the same whichever dialect the row
 * came from: integers (booleans too) as decimals, blobs as hex, timestamps as the instant.
 */
export function canonicalValue(value: unknown, kind: ColumnKind | undefined): string {
  if (value === null || value === undefined) return 'n';
  if (typeof value === 'bigint') return `i${value.toString()}`;
  if (typeof value === 'number') return Number.isInteger(value) && kind !== 'real' ? `i${value}` : `r${value}`;
  if (Buffer.isBuffer(value)) return `b${value.toString('hex')}`;
  const text = String(value);
  if (kind === 'timestamp' || kind === 'timestamptz') {
    const instant = parseTimestamp(text);
    if (instant) return `t${instant.ms}.${pad(instant.micros, 3)}`;
  }
  return `s${text}`;
}

function describe(value: unknown): string {
  if (Buffer.isBuffer(value)) return `${value.length} bytes`;
  if (typeof value === 'string') return `the text "${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  return `${typeof value} ${String(value)}`;
}
