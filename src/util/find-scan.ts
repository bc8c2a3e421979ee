/**
 * Folder listings and file totals from GNU find, for trees of many small files (a NOWEB session is
 * hundreds to thousands of key files). Node pays about 2.5 µs per lstat on top of the system call;
 * find pays the call alone, and several finds run on several CPUs while this thread reads what
 * they print. The answer is the one `listFolder` + `treeTotals` (src/util/walk.ts) give: the
 * folder's own entries with their types, and the regular files below it (symbolic links never
 * followed or counted, FIFOs, sockets and devices skipped).
 *
 * It is an accelerator only: where find is missing, is not GNU find, or says anything on stderr
 * (an unreadable folder, a file removed while it ran), the caller gets `undefined` for those
 * folders and reads them with Node, which reports the problem as it always has.
 * `WAHA_STORAGE_FIND=0` turns it off.
 */
import { spawn } from 'node:child_process';
import type { Dirent } from 'node:fs';
import type { TreeTotals } from './walk.js';

/** What `listFolder(folder)` and `treeTotals(folder)` would say. */
export interface ScannedFolder {
  entries: Dirent[];
  totals: TreeTotals;
}

/**
 * Folders per find process: the first batch is small (its results come soon, and they say how many
 * entries a folder holds here); later ones hold about ENTRIES_PER_FIND entries, so a spawn (a few ms)
 * is noise and memory is bounded by a few batches whatever the folders hold.
 */
const FIRST_BATCH = 8;
const MAX_BATCH = 128;
const ENTRIES_PER_FIND = 40_000;
// depth, type, size, mtime (seconds.nanoseconds), path below the starting point; NUL-terminated
const FORMAT = '%d\\t%y\\t%s\\t%T@\\t%P\\0';

export function findScanEnabled(): boolean {
  return process.env.WAHA_STORAGE_FIND !== '0' && process.platform !== 'win32';
}

/**
 * Scans `folders` with up to `parallel` finds at once; `onFolders` gets each batch as it completes,
 * one at a time (a folder missing from the map: read it with Node). Never rejects for what find reports.
 */
export async function scanFolders(folders: readonly string[], parallel: number,
  onFolders: (scanned: Map<string, ScannedFolder | undefined>) => Promise<void> | void, signal?: AbortSignal): Promise<void> {
  let next = 0;
  let scannedFolders = 0;
  let scannedEntries = 0;
  const nextBatch = (): string[] => {
    const perFolder = scannedFolders ? scannedEntries / scannedFolders : 0;
    const size = perFolder ? Math.max(1, Math.min(MAX_BATCH, Math.round(ENTRIES_PER_FIND / perFolder))) : FIRST_BATCH;
    const batch = folders.slice(next, next + size);
    next += batch.length;
    return batch;
  };
  let delivering = Promise.resolve();
  const runner = async () => {
    let delivered = Promise.resolve();
    while (next < folders.length && !signal?.aborted) {
      const scanned = await scanBatch(nextBatch(), signal);
      for (const folder of scanned.values()) {
        scannedFolders++;
        scannedEntries += folder!.totals.files + folder!.entries.length;
      }
      // this runner's previous batch is analysed before it queues another: at most `parallel` wait
      await delivered;
      delivering = delivering.then(() => onFolders(scanned));
      delivered = delivering;
    }
    await delivered;
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(parallel, Math.ceil(folders.length / FIRST_BATCH))) }, runner));
  await delivering;
}

function scanBatch(folders: readonly string[], signal?: AbortSignal): Promise<Map<string, ScannedFolder | undefined>> {
  return new Promise((resolve) => {
    // `--` would end the options, not the paths: starting points that look like expressions are refused instead
    if (folders.some((folder) => !folder.startsWith('/'))) {
      resolve(new Map());
      return;
    }
    const parser = new FindParser(folders);
    let failed = false;
    const child = spawn('find', ['-P', ...folders, '-printf', FORMAT], { stdio: ['ignore', 'pipe', 'pipe'], signal });
    child.stdout.on('data', (chunk: Buffer) => parser.push(chunk));
    child.stderr.on('data', () => {
      failed = true;
    });
    child.on('error', () => resolve(new Map())); // no find here
    child.on('close', (code) => resolve(code !== 0 || failed ? new Map() : parser.end()));
  });
}

const TAB = 0x09;
const NUL = 0x00;

/**
 * Parses FORMAT records as they come, on the bytes (a name is decoded only for a folder's own
 * entries); a batch whose records do not add up is left out whole (read with Node).
 */
export class FindParser {
  private readonly result = new Map<string, ScannedFolder | undefined>();
  private current: ScannedFolder | undefined;
  private index = -1;
  private carry: Buffer | undefined;
  private broken = false;

  constructor(private readonly folders: readonly string[]) {}

  push(chunk: Buffer): void {
    if (this.broken) return;
    const data = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    let position = 0;
    for (let end = data.indexOf(NUL); end >= 0; end = data.indexOf(NUL, position)) {
      if (!this.record(data, position, end)) {
        this.broken = true;
        return;
      }
      position = end + 1;
    }
    this.carry = position < data.length ? data.subarray(position) : undefined;
  }

  end(): Map<string, ScannedFolder | undefined> {
    if (this.broken || this.carry || this.index !== this.folders.length - 1) return new Map();
    return this.result;
  }

  /** depth TAB type TAB size TAB seconds[.fraction] TAB path; false when it is not that. */
  private record(data: Buffer, start: number, end: number): boolean {
    let at = start;
    let depth = 0;
    let code = data[at]!;
    if (code === TAB) return false;
    for (; code !== TAB; code = data[++at]!) {
      if (code < 0x30 || code > 0x39 || at >= end) return false;
      depth = depth * 10 + code - 0x30;
    }
    const type = data[at + 1]!;
    if (data[at + 2] !== TAB) return false;
    at += 3;
    let size = 0;
    for (code = data[at]!; code !== TAB; code = data[++at]!) {
      if (code < 0x30 || code > 0x39 || at >= end) return false;
      size = size * 10 + code - 0x30;
    }
    let seconds = 0;
    let nsec = 0;
    let digits = -1; // digits of the fraction read so far; -1 before the point
    for (code = data[++at]!; code !== TAB; code = data[++at]!) {
      if (at >= end) return false;
      if (code === 0x2e && digits < 0) digits = 0;
      else if (code < 0x30 || code > 0x39) return false;
      else if (digits < 0) seconds = seconds * 10 + code - 0x30;
      else if (digits < 9) {
        nsec = nsec * 10 + code - 0x30;
        digits++;
      }
    }
    for (; digits >= 0 && digits < 9; digits++) nsec *= 10;
    if (depth === 0) {
      this.index++;
      if (type !== 0x64 /* d */ || this.index >= this.folders.length) return false;
      this.current = { entries: [], totals: { files: 0, bytes: 0, newestMs: 0 } };
      this.result.set(this.folders[this.index]!, this.current);
      return true;
    }
    const current = this.current;
    if (!current) return false;
    if (depth === 1) current.entries.push(new FoundEntry(data.toString('utf8', at + 1, end), TYPES[type] ?? 0) as unknown as Dirent);
    if (type === 0x66 /* f */) {
      const totals = current.totals;
      totals.files++;
      totals.bytes += size;
      const mtimeMs = seconds * 1e3 + nsec / 1e6; // as Node computes Stats.mtimeMs
      if (mtimeMs > totals.newestMs) totals.newestMs = mtimeMs;
    }
    return true;
  }
}

/** Parses one batch's whole output (tests). */
export function parseFindOutput(output: Buffer, folders: readonly string[]): Map<string, ScannedFolder | undefined> {
  const parser = new FindParser(folders);
  parser.push(output);
  return parser.end();
}

const TYPES: Record<number, number> = { 0x66: 1, 0x64: 2, 0x6c: 3, 0x70: 4, 0x73: 5, 0x63: 6, 0x62: 7 };

/** A Dirent as readdir gives it (the name and the type predicates the readers use). */
class FoundEntry {
  constructor(readonly name: string, private readonly kind: number) {}
  isFile(): boolean { return this.kind === 1; }
  isDirectory(): boolean { return this.kind === 2; }
  isSymbolicLink(): boolean { return this.kind === 3; }
  isFIFO(): boolean { return this.kind === 4; }
  isSocket(): boolean { return this.kind === 5; }
  isCharacterDevice(): boolean { return this.kind === 6; }
  isBlockDevice(): boolean { return this.kind === 7; }
}
