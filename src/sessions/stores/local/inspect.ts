/**
 * Reads the local session store as WAHA lays it out (waha-facts §1): `<base>/<session ns>/<name>/`
 * for every engine, the config file, the main database's `me` and `session_worker`, and each
 * engine's auth. Only names, sizes and creds.json are read, never every key file's content.
 */
import { existsSync, readFileSync, type Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { OperationError, UsageError } from '../../../errors.js';
import { ENGINES, type Engine } from '../../engines.js';
import * as gows from '../../engines/gows.js';
import * as noweb from '../../engines/noweb.js';
import * as webjs from '../../engines/webjs.js';
import { sessionNameProblem } from '../../names.js';
import { closeNames } from '../../selection.js';
import { markSlugCollisions } from '../../collisions.js';
import { problem, type Problem } from '../../problems.js';
import type { InspectResult, SessionReport } from '../../report.js';
import { describeJsonError } from '../../../util/json.js';
import { listFolder, treeTotals, walkSync } from '../../../util/walk.js';
import { readMainDb, type MainDbContents } from './main-db.js';
import { folderEntries, nowebKeyFiles, nowebStoreRows, opaqueFolderEntry, sessionEntries, webjsProfileEntry } from '../../entries.js';
import { analyseInThreads } from './inspect-pool.js';
import { findScanEnabled, scanFolders, type ScannedFolder } from '../../../util/find-scan.js';
import { testPace } from '../../../util/test-pace.js';
import { folders, webjsProfileDirs } from './layout.js';

export const CONFIG_FILE = '.waha.session.config.json';

export interface LocalInspectOptions {
  sessionsDir: string;
  namespace?: string;
  sessionNamespace?: string;
  engines: readonly Engine[];
  /** Only these session names; all when empty. */
  sessions?: readonly string[];
  concurrency: number;
  /** Ctrl-C: stops at the next session (find processes are ended). */
  signal?: AbortSignal;
}

/** One session folder found in the store, before it is analysed. */
export interface LocalSessionRef {
  name: string;
  /** `<base>/<session ns>/<name>`; may not exist for a WEBJS session found in the core layout. */
  directory: string;
  /** The engine the folder says, or null when several engines share the session namespace. */
  engineHint: Engine | null;
  /** In a shared session namespace with one engine selected: the engine of a folder whose content does not tell. */
  assumed?: Engine;
  mainDir: string;
  /** WEBJS: where the profile is, when there is one. */
  webjsProfile?: { directory: string; layout: 'plus' | 'core' };
}

export async function inspectLocal(options: LocalInspectOptions): Promise<InspectResult> {
  await assertSessionsDir(options.sessionsDir);
  const refs = await listLocalSessions(options);
  const mainDbs = new Map<string, MainDbContents>();
  const problems: Problem[] = [];
  for (const mainDir of new Set(refs.map((ref) => ref.mainDir))) {
    const contents = readMainDb(mainDir);
    mainDbs.set(mainDir, contents);
    if (contents.error) problems.push(problem('main-db-unreadable', `${contents.file}: ${contents.error}`));
  }
  const sessions = (await analyseSessions(refs, mainDbs, options.concurrency, options.signal)).filter((report) => ofSelectedEngine(report.engine, options.engines));
  const missing = missingNamespace(options);
  if (missing) problems.push(missing);
  problems.push(...markSlugCollisions(sessions));
  return { sessions, problems };
}

/** A session namespace set (flag or variable) with no folder of that name: a typo looks like an empty store. */
function missingNamespace(options: LocalInspectOptions): Problem | undefined {
  const namespace = options.sessionNamespace;
  if (namespace === undefined || existsSync(path.join(options.sessionsDir, namespace))) return undefined;
  const folders = listFolder(options.sessionsDir).filter((entry) => entry.isDirectory() && !entry.name.startsWith('.')).map((entry) => entry.name).sort();
  const close = closeNames(namespace, folders);
  const there = close.length ? `; did you mean ${close.map((name) => `"${name}"`).join(' or ')}?` : folders.length ? `; the folders there: ${folders.slice(0, 8).join(', ')}${folders.length > 8 ? ', ...' : ''}` : '';
  return problem('namespace-missing', `no folder "${namespace}" in ${options.sessionsDir} for the session namespace${there}`);
}

/** In a shared session namespace a folder can hold another engine's session than the ones selected: it is left out. */
export function ofSelectedEngine(engine: Engine | null, engines: readonly Engine[]): boolean {
  return engine === null || engines.includes(engine);
}

/** Below this many session folders, starting find processes saves nothing. */
const FIND_MIN_SESSIONS = 32;

/**
 * Session folders are listed and summed by GNU find where it can (src/util/find-scan.ts), analysed
 * here as each batch comes in; the rest (WEBJS profiles, folders find could not read, no find) are
 * read synchronously (one readdir, an lstat per file) by up to `concurrency` threads. Same order,
 * same reports either way.
 */
async function analyseSessions(refs: readonly LocalSessionRef[], mainDbs: ReadonlyMap<string, MainDbContents>, concurrency: number, signal?: AbortSignal): Promise<SessionReport[]> {
  const reports: (SessionReport | undefined)[] = new Array(refs.length);
  const scannable = refs.map((ref, index) => ({ ref, index })).filter(({ ref }) => !ref.webjsProfile);
  if (findScanEnabled() && scannable.length >= FIND_MIN_SESSIONS) {
    const byDirectory = new Map(scannable.map((item) => [item.ref.directory, item]));
    await scanFolders(scannable.map(({ ref }) => ref.directory), Math.min(concurrency, availableParallelism()), async (scanned) => {
      for (const [directory, folder] of scanned) {
        signal?.throwIfAborted();
        if (!folder) continue;
        const { ref, index } = byDirectory.get(directory)!;
        await new Promise(setImmediate); // a spinner turns, Ctrl-C is seen
        await testPace();
        signal?.throwIfAborted();
        reports[index] = await analyseLocalSession(ref, mainDbs.get(ref.mainDir)!, folder);
      }
    }, signal);
  }
  const rest = refs.map((ref, index) => ({ ref, index })).filter(({ index }) => !reports[index]);
  signal?.throwIfAborted();
  const read = await analyseInThreads(rest.map(({ ref }) => ref), mainDbs, concurrency, async (ref, mainDb) => {
    await testPace();
    signal?.throwIfAborted();
    return analyseLocalSession(ref, mainDb);
  });
  for (const [position, { index }] of rest.entries()) reports[index] = read[position];
  return reports as SessionReport[];
}

async function assertSessionsDir(directory: string): Promise<void> {
  try {
    const info = await stat(directory);
    if (!info.isDirectory()) throw new UsageError(`The sessions dir ${directory} is not a folder`, { hint: 'set --sessions-dir / WAHA_LOCAL_STORE_BASE_DIR to WAHA\'s .sessions folder' });
    await readdir(directory);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new UsageError(`The sessions dir ${directory} does not exist`, { hint: 'set --sessions-dir / WAHA_LOCAL_STORE_BASE_DIR to WAHA\'s .sessions folder' });
    }
    throw new OperationError(`Cannot read the sessions dir ${directory}: ${code ?? (error as Error).message}`, { hint: 'check its permissions, or run as the user WAHA runs as' });
  }
}

/** Every session folder of the selected engines, in both WEBJS layouts. */
export async function listLocalSessions(options: LocalInspectOptions): Promise<LocalSessionRef[]> {
  const groups = new Map<string, { engines: Engine[]; mainDirs: Map<Engine, string> }>();
  for (const engine of options.engines) {
    const { sessionRoot: folder, mainDir } = folders(options, engine);
    const group = groups.get(folder) ?? { engines: [] as Engine[], mainDirs: new Map<Engine, string>() };
    group.engines.push(engine);
    group.mainDirs.set(engine, mainDir);
    groups.set(folder, group);
  }
  const wanted = options.sessions?.length ? new Set(options.sessions) : undefined;
  const refs: LocalSessionRef[] = [];
  // A session namespace set for every engine (WAHA_SESSION_NAMESPACE) puts them all in one folder: what a
  // session folder holds says its engine, whatever --engine selects (a NOWEB folder is never read as WEBJS).
  const shared = options.sessionNamespace !== undefined;
  for (const [folder, group] of groups) {
    if (!existsSync(folder)) continue;
    const single = group.engines.length === 1 ? group.engines[0]! : null;
    const engineHint = shared ? null : single;
    const assumed = shared ? single ?? undefined : undefined;
    const mainDir = group.mainDirs.get(engineHint ?? group.engines[0]!)!;
    const names = (await readdir(folder, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
    const found = new Map<string, LocalSessionRef>();
    for (const name of names) found.set(name, { name, directory: path.join(folder, name), engineHint, assumed, mainDir });
    if (group.engines.includes('WEBJS')) await addWebjsProfiles(folder, found, engineHint, mainDir);
    for (const ref of [...found.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      if (!wanted || wanted.has(ref.name)) refs.push(ref);
    }
  }
  return refs;
}

/** Finds each session's Chromium profile: plus `<name>/session-<name>`, or core `default/session-<name>`. */
async function addWebjsProfiles(folder: string, found: Map<string, LocalSessionRef>, engineHint: Engine | null, mainDir: string): Promise<void> {
  const coreFolder = path.join(folder, webjs.CORE_LAYOUT_FOLDER);
  const coreEntries = existsSync(coreFolder) ? await readdir(coreFolder, { withFileTypes: true }) : [];
  const coreProfiles = coreEntries
    .filter((entry) => entry.isDirectory() && entry.name.startsWith(webjs.PROFILE_PREFIX))
    .map((entry) => entry.name.slice(webjs.PROFILE_PREFIX.length));
  // `default/` holding only other sessions' profiles is LocalAuth's data path, not a session
  if (webjs.isCoreDataPathOnly(coreEntries)) found.delete(webjs.CORE_LAYOUT_FOLDER);
  const sharedCore = coreProfiles.some((name) => name !== webjs.CORE_LAYOUT_FOLDER);
  for (const name of coreProfiles) {
    if (!found.has(name)) found.set(name, { name, directory: path.join(folder, name), engineHint, mainDir });
  }
  for (const ref of found.values()) {
    const { plus, core } = webjsProfileDirs(folder, ref.name);
    if (existsSync(plus)) {
      const isCore = ref.name === webjs.CORE_LAYOUT_FOLDER && sharedCore;
      ref.webjsProfile = { directory: plus, layout: isCore ? 'core' : 'plus' };
    } else if (existsSync(core)) {
      ref.webjsProfile = { directory: core, layout: 'core' };
    }
  }
}

interface Totals {
  entries: number;
  bytes: number;
  newestMs: number;
}

function addFile(totals: Totals, size: number, mtimeMs: number): void {
  totals.entries++;
  totals.bytes += size;
  totals.newestMs = Math.max(totals.newestMs, mtimeMs);
}

/** `scanned`: the folder's listing and totals, when find has read them already. */
export async function analyseLocalSession(ref: LocalSessionRef, mainDb: MainDbContents, scanned?: ScannedFolder): Promise<SessionReport> {
  const problems: Problem[] = [];
  const report: SessionReport = {
    engine: ref.engineHint,
    name: ref.name,
    store: 'local',
    loggedIn: null,
    me: mainDb.me.get(ref.name) ?? null,
    config: null,
    worker: mainDb.workers.get(ref.name) ?? null,
    entries: 0,
    bytes: 0,
    lastChange: null,
    problems,
    details: { location: ref.directory },
  };
  const nameProblem = sessionNameProblem(ref.name);
  if (nameProblem) problems.push(problem('invalid-name', `the session name "${ref.name}" ${nameProblem}`));
  try {
    const files = scanned?.entries ?? listFolder(ref.directory);
    report.config = readConfig(ref.directory, files, problems);
    const engine = ref.webjsProfile ? 'WEBJS' : ref.engineHint ?? detectEngine(files) ?? ref.assumed ?? null;
    report.engine = engine;
    const totals: Totals = { entries: 0, bytes: 0, newestMs: 0 };
    let nowebKeys: number | undefined;
    if (engine === 'WEBJS') await analyseWebjs(ref, report, totals);
    else {
      const tree = scanned?.totals ?? treeTotals(ref.directory, files);
      totals.entries = tree.files;
      totals.bytes = tree.bytes;
      totals.newestMs = tree.newestMs;
      if (engine === 'NOWEB') nowebKeys = analyseNoweb(ref, report, files);
      else if (engine === 'GOWS') analyseGows(ref, report);
      else if (!files.some((file) => !isConfigFile(file.name))) {
        report.loggedIn = false;
        problems.push(problem('no-auth', 'the folder holds only the session config'));
      } else if (engine === null) {
        problems.push(problem('unexpected-content', `the folder does not look like a ${ENGINES.join('/')} session`));
      }
      // WPP: an opaque folder; size and files only, logged-in state unknown.
    }
    report.details.files = totals.entries;
    report.entries = sessionEntries({ me: report.me !== null, worker: mainDb.workers.has(ref.name), auth: localAuthEntries(ref, engine, files, nowebKeys) });
    report.bytes = totals.bytes;
    report.lastChange = totals.newestMs ? new Date(totals.newestMs).toISOString() : null;
  } catch (error) {
    problems.push(problem('unreadable', `${ref.directory}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`));
  }
  return report;
}

/** The auth entries of a session folder, as the transfer reads them (src/sessions/entries.ts). */
function localAuthEntries(ref: LocalSessionRef, engine: Engine | null, files: readonly Dirent[], nowebKeys?: number): number {
  if (engine === 'WEBJS') return ref.webjsProfile ? folderEntries(ref.webjsProfile.directory, webjsProfileEntry) : 0;
  if (engine === 'GOWS' || engine === 'WPP') return folderEntries(ref.directory, opaqueFolderEntry);
  const names = files.filter((file) => file.isFile()).map((file) => file.name);
  const keys = nowebKeys ?? nowebKeyFiles(names);
  return keys + (names.includes(noweb.STORE_FILE) ? nowebStoreRows(path.join(ref.directory, noweb.STORE_FILE)) : 0);
}

/** `.waha.session.*` files: cheaper than the pattern for every key file, same answer. */
function isConfigFile(name: string): boolean {
  return name.charCodeAt(0) === 0x2e && noweb.CONFIG_FILE_PATTERN.test(name);
}

/** Tells the engine from what a session folder holds (used when a namespace is shared). */
export function detectEngine(entries: readonly Dirent[]): Engine | null {
  if (entries.some((entry) => entry.isFile() && entry.name === gows.GOWS_DB)) return 'GOWS';
  if (entries.some((entry) => entry.isDirectory() && entry.name.startsWith(webjs.PROFILE_PREFIX))) return 'WEBJS';
  if (entries.some((entry) => entry.isFile() && noweb.isKeyFile(entry.name))) return 'NOWEB';
  return null;
}

function readConfig(directory: string, files: readonly Dirent[], problems: Problem[]): Record<string, unknown> | null {
  if (!files.some((file) => file.name === CONFIG_FILE)) return null;
  let text: string;
  try {
    text = readFileSync(path.join(directory, CONFIG_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const config = parseSessionConfig(text);
  if (config.ok) return config.value;
  problems.push(problem('config-corrupt', `${CONFIG_FILE} ${config.error}`));
  return null;
}

/** `.waha.session.config.json` holds a JSON object, or the literal `null` (WAHA writes `config || null`). */
export function parseSessionConfig(text: string): { ok: true; value: Record<string, unknown> | null } | { ok: false; error: string } {
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `does not parse (${describeJsonError(error, text)})` };
  }
  if (config === null) return { ok: true, value: null };
  if (typeof config === 'object' && !Array.isArray(config)) return { ok: true, value: config as Record<string, unknown> };
  return { ok: false, error: 'is not a JSON object' };
}

/** Key categories, stray temporary files and creds; returns the key files a transfer reads (nowebKeyFiles, in the same pass). */
function analyseNoweb(ref: LocalSessionRef, report: SessionReport, files: readonly Dirent[]): number {
  const counts = new Map<string, number>();
  const tempFiles: string[] = [];
  let keyFiles = 0;
  let hasCreds = false;
  let hasStore = false;
  for (const file of files) {
    const name = file.name;
    if (name.endsWith('.json')) {
      if (isConfigFile(name)) continue;
      const category = noweb.categoryOf(name.slice(0, -5));
      counts.set(category, (counts.get(category) ?? 0) + 1);
      if (file.isFile()) keyFiles++;
      if (name === noweb.CREDS_FILE) hasCreds = true;
    } else if (name === noweb.STORE_FILE) hasStore = true;
    else if (noweb.TEMP_FILE_PATTERN.test(name)) tempFiles.push(name);
  }
  // one order whatever the directory order
  const keysByCategory: Record<string, number> = {};
  for (const category of [...counts.keys()].sort()) keysByCategory[category] = counts.get(category)!;
  tempFiles.sort();
  report.details.keysByCategory = keysByCategory;
  report.details.nowebStore = hasStore;
  if (tempFiles.length) {
    report.details.tempFiles = tempFiles;
    report.problems.push(problem('temp-files', `stray temporary files: ${tempFiles.join(', ')}`));
  }
  const keyCount = Object.values(keysByCategory).reduce((sum, count) => sum + count, 0);
  if (!hasCreds) {
    report.loggedIn = false;
    report.problems.push(keyCount > 0
      ? problem('creds-missing', `${keyCount} key files but no creds.json`)
      : problem('no-auth', 'the folder holds no creds.json'));
    return keyFiles;
  }
  const creds = noweb.parseCreds(readFileSync(path.join(ref.directory, noweb.CREDS_FILE), 'utf8'));
  if (!creds.ok) {
    report.loggedIn = null;
    report.problems.push(problem('creds-corrupt', creds.error));
    return keyFiles;
  }
  report.loggedIn = noweb.isLoggedIn(creds.creds);
  report.details.account = noweb.credsMe(creds.creds)?.id;
  return keyFiles;
}

function analyseGows(ref: LocalSessionRef, report: SessionReport): void {
  const file = path.join(ref.directory, gows.GOWS_DB);
  if (!existsSync(file)) {
    report.loggedIn = false;
    report.problems.push(problem('no-auth', `no ${gows.GOWS_DB}`));
    return;
  }
  try {
    const state = gows.readGowsDb(file);
    report.loggedIn = state.loggedIn;
    report.details.devices = state.devices;
    report.details.whatsmeowVersion = state.whatsmeowVersion;
    report.details.account = state.device?.jid;
    if (state.devices > 1) report.problems.push(problem('gows-multiple-devices', `${state.devices} rows in whatsmeow_device`));
  } catch (error) {
    report.loggedIn = null;
    report.problems.push(problem('sqlite-unreadable', `${gows.GOWS_DB}: ${(error as Error).message}`));
  }
}

async function analyseWebjs(ref: LocalSessionRef, report: SessionReport, totals: Totals): Promise<void> {
  if (existsSync(ref.directory)) {
    for (const file of await readdir(ref.directory, { withFileTypes: true })) {
      if (file.isFile() && noweb.CONFIG_FILE_PATTERN.test(file.name)) {
        const info = await stat(path.join(ref.directory, file.name));
        addFile(totals, info.size, info.mtimeMs);
      }
    }
  }
  const profile = ref.webjsProfile;
  if (!profile) {
    report.loggedIn = false;
    report.problems.push(problem('no-auth', 'no Chromium profile (session-<name>) in either layout'));
    return;
  }
  report.details.location = profile.directory;
  report.details.layout = profile.layout;
  let authBytes = 0;
  let cacheBytes = 0;
  const singletons: string[] = [];
  for (const entry of walkSync(profile.directory)) {
    const base = entry.relativePath.split('/').pop()!;
    if (entry.kind === 'symlink') {
      if (webjs.isSingleton(base)) singletons.push(base);
      continue;
    }
    addFile(totals, entry.size, entry.mtimeMs);
    if (webjs.isAuthPath(entry.relativePath)) authBytes += entry.size;
    else cacheBytes += entry.size;
  }
  report.details.authBytes = authBytes;
  report.details.cacheBytes = cacheBytes;
  // Logged-in state needs Chromium's LevelDB parsed; offline it cannot be told reliably.
  report.loggedIn = authBytes > 0 ? null : false;
  if (authBytes === 0) report.problems.push(problem('no-auth', 'the profile has no IndexedDB or Local Storage'));
  if (singletons.length) report.problems.push(problem('browser-running', `${singletons.join(', ')} in ${profile.directory}`));
}
