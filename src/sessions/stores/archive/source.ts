/**
 * The archive as a transfer source ("restore = migrate from an archive"). The archive (a file or
 * stdin, read once) is checked whole first; the entries of the selected sessions are unpacked
 * meanwhile into a private temporary folder (mode 0700, files 0600, named by number, never by
 * archive paths), so the transfer engine can read a session as often as it needs (conflict
 * digests, copy) and nothing reaches the target unless the whole archive is sound.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { OperationError } from '../../../errors.js';
import type { Engine } from '../../engines.js';
import { parseEntryPath, sessionKey } from './format.js';
import { readArchive, type ArchiveReport } from './reader.js';
import type { ListOptions, Presence, SessionEntry, SessionRef, SessionStore, StagedSession, StoredSession } from '../types.js';

export interface ArchiveSourceOptions {
  where: string;
  passphrase?: () => Promise<string>;
  /** Only these sessions are unpacked (all are checked). */
  names?: readonly string[];
  engines: readonly Engine[];
  /** Whether the session is in use where it is being restored to (the target's liveness). */
  liveness?: (ref: SessionRef, nowMs: number) => Promise<string | undefined>;
  tempDir?: string;
  signal?: AbortSignal;
}

/** An entry unpacked into the private folder: its archive path, the file holding its bytes, its tar time. */
interface Unpacked {
  path: string;
  file: string;
  mtimeMs?: number;
}

export class ArchiveSource implements SessionStore {
  readonly kind = 'archive' as const;
  readonly location: string;
  private constructor(
    private readonly options: ArchiveSourceOptions,
    readonly report: ArchiveReport,
    private readonly folder: string,
    private readonly files: Map<string, Unpacked[]>,
  ) {
    this.location = options.where;
  }

  /** Reads and checks the archive; throws (nothing unpacked remains) when it is not sound. */
  static async open(input: Readable, options: ArchiveSourceOptions): Promise<ArchiveSource> {
    const folder = await mkdtemp(path.join(options.tempDir ?? os.tmpdir(), 'waha-storage-restore-'));
    const files = new Map<string, Unpacked[]>();
    let count = 0;
    const wanted = (engine: Engine | null, name: string) =>
      (!options.names?.length || options.names.includes(name)) && (engine === null || options.engines.includes(engine));
    try {
      const report = await readArchive(input, {
        where: options.where,
        passphrase: options.passphrase,
        signal: options.signal,
        onEntry: async (session, entryPath, entry, data) => {
          if (!wanted(session.engine, session.name)) return;
          const file = path.join(folder, String(count++));
          await writeFile(file, data, { mode: 0o600 });
          const key = sessionKey(session.engine, session.name);
          let list = files.get(key);
          if (!list) files.set(key, list = []);
          list.push({ path: entryPath, file, mtimeMs: (entry as { mtimeMs?: number }).mtimeMs });
        },
      });
      if (report.problems.length) {
        const first = report.problems[0]!;
        const more = report.problems.length > 1 ? ` (and ${report.problems.length - 1} more problems)` : '';
        throw new OperationError(`${options.where} is not sound: ${first.where}: ${first.problem}${more}; nothing was restored`, {
          hint: 'run "waha-storage backup verify" on it for every problem, and restore from another backup',
        });
      }
      // only what the manifest lists belongs to a session (entries of sessions that failed during the backup do not)
      for (const session of report.sessions) {
        const key = sessionKey(session.engine, session.name);
        const list = files.get(key);
        if (list) {
          const manifestPaths = new Set(report.manifestPaths?.get(key) ?? []);
          files.set(key, list.filter((item) => manifestPaths.has(item.path)));
        }
      }
      return new ArchiveSource(options, report, folder, files);
    } catch (error) {
      await rm(folder, { recursive: true, force: true });
      throw error;
    }
  }

  async list(options: ListOptions): Promise<StoredSession[]> {
    return this.report.sessions
      .filter((session) => (!options.names?.length || options.names.includes(session.name)) && (session.engine === null || options.engines.includes(session.engine)))
      .map((session) => ({ engine: session.engine, name: session.name }));
  }

  async *read(ref: SessionRef): AsyncIterable<SessionEntry> {
    for (const item of this.files.get(sessionKey(ref.engine, ref.name)) ?? []) {
      const parsed = parseEntryPath(item.path);
      if ('error' in parsed) continue; // checked while reading
      yield parsed.entry(await readFile(item.file), item.mtimeMs);
    }
  }

  async liveness(ref: SessionRef, nowMs: number): Promise<string | undefined> {
    return this.options.liveness?.(ref, nowMs);
  }

  unsupported(): string | undefined {
    return undefined;
  }

  async presence(): Promise<Presence> {
    return 'absent';
  }

  async stage(): Promise<StagedSession> {
    throw new Error('an archive is written by ArchiveTarget');
  }

  async remove(): Promise<void> {
    throw new Error('sessions are never removed from an archive');
  }

  async close(): Promise<void> {
    await rm(this.folder, { recursive: true, force: true });
  }
}
