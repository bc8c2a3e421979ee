/**
 * Usage of the local store: file sizes (lstat, as `inspect` counts them) of each session folder,
 * and, inside store.sqlite3 / gows.db, each table's pages from dbstat. Nothing is opened for
 * writing; SQLite files go through openReadOnly, so a running WAHA is not disturbed.
 */
import { existsSync, lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';
import pLimit from 'p-limit';
import { testPace } from '../util/test-pace.js';
import type { Engine } from '../sessions/engines.js';
import * as gows from '../sessions/engines/gows.js';
import * as noweb from '../sessions/engines/noweb.js';
import * as webjs from '../sessions/engines/webjs.js';
import { problem, type Problem } from '../sessions/problems.js';
import { detectEngine, listLocalSessions, ofSelectedEngine, type LocalSessionRef } from '../sessions/stores/local/inspect.js';
import { listFolder, walkSync } from '../util/walk.js';
import { partOfTable, type PartName } from './parts.js';
import { addBytes, addTable, emptyParts, sessionBytes, type SessionParts, type SessionUsage, type UsageSource } from './report.js';
import { measureSqlite } from './sqlite.js';

export interface LocalUsageOptions {
  sessionsDir: string;
  namespace?: string;
  sessionNamespace?: string;
  engines: readonly Engine[];
  names?: readonly string[];
  concurrency: number;
  signal?: AbortSignal;
  onSession?: (name: string) => void;
  onListed?: (count: number) => void;
  /** Tests: measure without dbstat. */
  dbstat?: boolean;
}

const SQLITE_SIDE_FILES = ['-wal', '-shm', '-journal'];

export async function localUsage(options: LocalUsageOptions): Promise<{ sessions: SessionUsage[]; notes: string[] }> {
  const refs = await listLocalSessions({ ...options, sessions: options.names });
  options.onListed?.(refs.length);
  const limit = pLimit(options.concurrency);
  const sessions = await Promise.all(refs.map((ref) => limit(async () => {
    options.signal?.throwIfAborted(); // queued sessions end at once after a Ctrl-C
    await new Promise(setImmediate); // a session is measured synchronously: let a Ctrl-C in between
    await testPace();
    options.signal?.throwIfAborted();
    const usage = measureLocalSession(ref, { dbstat: options.dbstat });
    options.onSession?.(ref.name);
    return usage;
  })));
  const notes = sessions.some((session) => session.sources.includes('count'))
    ? ['SQLite here has no dbstat table: rows were counted and each table\'s bytes shared out by its payload (estimated)']
    : [];
  // a session namespace shared by every engine: a folder of another engine than the ones selected is left out
  return { sessions: sessions.filter((session) => ofSelectedEngine(session.engine, options.engines)), notes };
}

/** The engine a folder holds: a WEBJS profile, the folder's engine, or what its files say. */
function engineOf(ref: LocalSessionRef): Engine | null {
  if (ref.webjsProfile) return 'WEBJS';
  if (ref.engineHint) return ref.engineHint;
  return (existsSync(ref.directory) ? detectEngine(listFolder(ref.directory)) : null) ?? ref.assumed ?? null;
}

interface Measure {
  parts: SessionParts;
  sources: Set<UsageSource>;
  problems: Problem[];
  dbstat?: boolean;
}

export function measureLocalSession(ref: LocalSessionRef, options: { dbstat?: boolean } = {}): SessionUsage {
  const engine = engineOf(ref);
  const measure: Measure = {
    parts: emptyParts({ auth: engine === 'GOWS' ? 'rows' : 'files', messages: 'rows', store: 'rows', media: 'rows' }, 'files'),
    sources: new Set(['files']),
    problems: [],
    dbstat: options.dbstat,
  };
  let location = ref.directory;
  try {
    if (engine === 'WEBJS') location = measureWebjs(ref, measure);
    else if (existsSync(ref.directory)) measureFolder(ref.directory, engine, measure);
  } catch (error) {
    measure.problems.push(problem('unreadable', `${ref.directory}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`));
  }
  return { name: ref.name, engine, location, bytes: sessionBytes(measure.parts), parts: measure.parts, sources: [...measure.sources], problems: measure.problems };
}

/** The files of a NOWEB, GOWS or WPP folder; the SQLite file of the engine by table. */
function measureFolder(directory: string, engine: Engine | null, measure: Measure): void {
  const database = engine === 'NOWEB' ? noweb.STORE_FILE : engine === 'GOWS' ? gows.GOWS_DB : undefined;
  const sqliteFiles = database ? new Set([database, ...SQLITE_SIDE_FILES.map((suffix) => `${database}${suffix}`)]) : new Set<string>();
  let sqliteBytes = 0;
  for (const entry of walkSync(directory)) {
    if (entry.kind !== 'file') continue;
    const topLevel = !entry.relativePath.includes('/');
    if (topLevel && sqliteFiles.has(entry.relativePath)) {
      sqliteBytes += entry.size;
      continue;
    }
    addBytes(measure.parts[filepart(entry.relativePath, topLevel, engine)], entry.size, 1);
  }
  if (database && existsSync(path.join(directory, database))) measureDatabase(path.join(directory, database), sqliteBytes, measure);
  else addBytes(measure.parts.other, sqliteBytes);
}

function filepart(relativePath: string, topLevel: boolean, engine: Engine | null): PartName {
  const name = relativePath.split('/').pop()!;
  if (topLevel && noweb.CONFIG_FILE_PATTERN.test(name)) return 'other';
  if (engine === 'NOWEB') return topLevel && noweb.isKeyFile(name) ? 'auth' : 'other';
  if (engine === 'WPP') return 'auth'; // an opaque folder: all of it is what the tool carries as its auth
  return 'other';
}

/** The tables into their parts; the rest of the files (free pages, schema, WAL) into other. */
function measureDatabase(file: string, fileBytes: number, measure: Measure): void {
  try {
    const usage = measureSqlite(file, { dbstat: measure.dbstat });
    let tableBytes = 0;
    for (const [table, figures] of usage.tables) {
      addTable(measure.parts[partOfTable(table)], table, figures);
      tableBytes += figures.bytes ?? 0;
    }
    addBytes(measure.parts.other, Math.max(0, fileBytes - tableBytes));
    measure.sources.add(usage.source);
  } catch (error) {
    addBytes(measure.parts.other, fileBytes);
    measure.problems.push(problem('sqlite-unreadable', `${path.basename(file)}: ${(error as Error).message}`));
  }
}

/** A WEBJS profile: RemoteAuth's parts are auth, the rest cache; the config beside it is other. Returns the profile's folder. */
function measureWebjs(ref: LocalSessionRef, measure: Measure): string {
  if (existsSync(ref.directory)) {
    for (const entry of readdirSync(ref.directory, { withFileTypes: true })) {
      if (entry.isFile() && noweb.CONFIG_FILE_PATTERN.test(entry.name)) addBytes(measure.parts.other, lstatSync(path.join(ref.directory, entry.name)).size);
    }
  }
  const profile = ref.webjsProfile;
  if (!profile) return ref.directory;
  for (const entry of walkSync(profile.directory)) {
    if (entry.kind !== 'file') continue; // Singleton* links
    addBytes(measure.parts[webjs.isAuthPath(entry.relativePath) ? 'auth' : 'cache'], entry.size, 1);
  }
  return profile.directory;
}
