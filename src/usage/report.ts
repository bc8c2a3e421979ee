/**
 * What `usage` reports: per session, the bytes and rows of each part (src/usage/parts.ts), with the
 * tables behind them, sorted biggest first, and the totals. The shape is the `--json` document.
 */
import type { Engine } from '../sessions/engines.js';
import type { Problem } from '../sessions/problems.js';
import type { StoreWord } from '../sessions/stores/types.js';
import { PARTS, type PartName } from './parts.js';

/** Where the figures come from: file sizes, SQLite's dbstat (or counting without it), MongoDB's statistics, PostgreSQL's. */
export type UsageSource = 'files' | 'dbstat' | 'count' | '$collStats' | 'collStats' | 'countDocuments' | 'pg_total_relation_size' | 'pg_database_size';

export interface TableUsage {
  /** null: the store did not say (a MongoDB server that answers no statistics). */
  bytes: number | null;
  rows: number;
  /** A figure is an estimate: rows from the store's statistics (reltuples, collStats), or bytes shared out without dbstat. */
  estimated: boolean;
}

export interface PartUsage {
  bytes: number | null;
  /** Rows, documents or files (`unit`); null for `other`, which has no single unit. */
  rows: number | null;
  unit: 'rows' | 'documents' | 'files' | null;
  /** Some figure of the part is an estimate (rows from statistics, bytes apportioned without dbstat). */
  estimated: boolean;
  /** The tables (collections) that make up the part, for the database stores and SQLite files. */
  tables?: Record<string, TableUsage>;
}

export type SessionParts = Record<PartName, PartUsage>;

export interface SessionUsage {
  name: string;
  engine: Engine | null;
  /** The session's folder or database. */
  location: string;
  /** The sum of the parts (those whose bytes are known). */
  bytes: number;
  parts: SessionParts;
  sources: UsageSource[];
  problems: Problem[];
}

export interface UsageTotals {
  sessions: number;
  bytes: number;
  parts: Record<PartName, { bytes: number; rows: number; estimated: boolean }>;
}

export interface UsageResult {
  store: StoreWord;
  /** The folder, or the redacted URL. */
  location: string;
  sessions: SessionUsage[];
  totals: UsageTotals;
  /** How the store answered when it did not answer the cheapest way (a statistics command refused, dbstat missing). */
  notes: string[];
  /** Anomalies not tied to one session (an orphan database is a session with a problem). */
  problems: Problem[];
}

export function emptyPart(unit: PartUsage['unit']): PartUsage {
  return { bytes: 0, rows: unit === null ? null : 0, unit, estimated: false };
}

/** Every part, empty, with the unit each has in this store. */
export function emptyParts(units: Partial<Record<PartName, PartUsage['unit']>>, fallback: PartUsage['unit']): SessionParts {
  return Object.fromEntries(PARTS.map((part) => [part, emptyPart(part === 'other' ? null : units[part] ?? fallback)])) as SessionParts;
}

/** Adds a table (collection) to its part. */
export function addTable(part: PartUsage, table: string, usage: TableUsage): void {
  part.tables = { ...part.tables, [table]: usage };
  part.bytes = part.bytes === null || usage.bytes === null ? null : part.bytes + usage.bytes;
  if (part.rows !== null) part.rows += usage.rows;
  part.estimated ||= usage.estimated;
}

export function addBytes(part: PartUsage, bytes: number, rows = 0): void {
  if (part.bytes !== null) part.bytes += bytes;
  if (part.rows !== null) part.rows += rows;
}

export function sessionBytes(parts: SessionParts): number {
  return PARTS.reduce((sum, part) => sum + (parts[part].bytes ?? 0), 0);
}

/** Biggest first; equal sizes by name. */
export function sortSessions(sessions: SessionUsage[]): SessionUsage[] {
  return sessions.sort((a, b) => b.bytes - a.bytes || a.name.localeCompare(b.name));
}

export function totalsOf(sessions: readonly SessionUsage[]): UsageTotals {
  const parts = Object.fromEntries(PARTS.map((part) => [part, { bytes: 0, rows: 0, estimated: false }])) as UsageTotals['parts'];
  for (const session of sessions) {
    for (const part of PARTS) {
      const usage = session.parts[part];
      parts[part].bytes += usage.bytes ?? 0;
      parts[part].rows += usage.rows ?? 0;
      parts[part].estimated ||= usage.estimated || usage.bytes === null;
    }
  }
  return { sessions: sessions.length, bytes: sessions.reduce((sum, session) => sum + session.bytes, 0), parts };
}
