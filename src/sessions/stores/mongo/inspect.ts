/**
 * Reads the MongoDB session store as WAHA lays it out (waha-facts §2): `waha_<ns>` with `sessions`,
 * `me`, `session_worker`, and one `waha_<session ns>_<slug>` database per session (NOWEB `auth` in
 * both formats, WEBJS GridFS bucket `auth`). Counts come from countDocuments and dbStats; only key
 * names are streamed, never whole values, except the one creds document and the legacy document.
 * No multi-document transactions are used (standalone servers have none).
 */
import type { Db, MongoClient } from 'mongodb';
import { configOwner, ENGINE_UNKNOWN_MESSAGE, missingNamespace } from '../shared-main.js';
import pLimit from 'p-limit';
import { namespacesFor, type Engine } from '../../engines.js';
import * as noweb from '../../engines/noweb.js';
import * as webjs from '../../engines/webjs.js';
import { mainDatabase, sessionNameProblem, slugOf } from '../../names.js';
import { problem, type Problem } from '../../problems.js';
import type { InspectResult, SessionMe, SessionReport } from '../../report.js';
import { markSlugCollisions } from '../../collisions.js';
import { gridFsZipEntries, mongoStoreRows, sessionEntries } from '../../entries.js';

export interface MongoInspectOptions {
  client: MongoClient;
  namespace?: string;
  sessionNamespace?: string;
  engines: readonly Engine[];
  sessions?: readonly string[];
  concurrency: number;
}

interface Group {
  main: string;
  session: string;
  engines: Engine[];
}

interface MainContents {
  configs: Map<string, Record<string, unknown> | null>;
  me: Map<string, SessionMe>;
  workers: Map<string, string | null>;
}

const NOWEB_STORE_COLLECTIONS = ['contacts', 'chats', 'groups', 'messages', 'labels', 'labelAssociations', 'lid_map'];

export async function inspectMongo(options: MongoInspectOptions): Promise<InspectResult> {
  const { databases } = await options.client.db().admin().listDatabases({ nameOnly: true });
  const existing = new Set(databases.map((database) => database.name));
  const wanted = options.sessions?.length ? new Set(options.sessions) : undefined;
  const limit = pLimit(options.concurrency);
  const sessions: SessionReport[] = [];
  const problems: Problem[] = [];

  const groups = groupsOf(options);
  for (const group of groups) {
    const engineHint = group.engines.length === 1 ? group.engines[0]! : null;
    const main = existing.has(mainDatabase(group.main))
      ? await readMain(options.client.db(mainDatabase(group.main)))
      : { configs: new Map(), me: new Map(), workers: new Map() } satisfies MainContents;
    const prefix = `waha_${group.session}_`;
    const sessionDbs = [...existing].filter((name) => name.startsWith(prefix) && name !== mainDatabase(group.main));
    const known = new Set([...main.configs.keys()].map(slugOf));
    const refs: { name: string; database: string; orphan: boolean; engineUnknown?: boolean }[] = [];
    for (const name of main.configs.keys()) {
      const owner = configOwner(groups, group, (other) => existing.has(`waha_${other.session}_${slugOf(name)}`));
      if (owner !== 'elsewhere') refs.push({ name, database: `${prefix}${slugOf(name)}`, orphan: false, engineUnknown: owner === 'engine-unknown' });
    }
    for (const database of sessionDbs) {
      const slug = database.slice(prefix.length);
      if (!known.has(slug)) refs.push({ name: slug, database, orphan: true });
    }
    const selected = refs.filter((ref) => !wanted || wanted.has(ref.name)).sort((a, b) => a.name.localeCompare(b.name));
    const reports = await Promise.all(selected.map((ref) => limit(async () => {
      const report: SessionReport = {
        engine: ref.engineUnknown ? null : engineHint,
        name: ref.name,
        store: 'mongo',
        loggedIn: null,
        me: main.me.get(ref.name) ?? null,
        config: main.configs.get(ref.name) ?? null,
        worker: main.workers.get(ref.name) ?? null,
        entries: 0,
        bytes: 0,
        lastChange: null,
        problems: [],
        details: { location: ref.database },
      };
      const nameProblem = sessionNameProblem(ref.name);
      if (nameProblem && !ref.orphan) report.problems.push(problem('invalid-name', `the session name "${ref.name}" ${nameProblem}`));
      if (ref.orphan) report.problems.push(problem('orphan-database', `database ${ref.database} has no document in ${mainDatabase(group.main)}.sessions`));
      if (ref.engineUnknown) report.problems.push(problem('engine-unknown', ENGINE_UNKNOWN_MESSAGE));
      const counted = () => sessionEntries({ me: report.me !== null, worker: main.workers.has(ref.name), auth: report.entries });
      if (!existing.has(ref.database)) {
        report.loggedIn = false;
        report.problems.push(problem('no-auth', `no database ${ref.database}`));
        report.entries = counted();
        return report;
      }
      try {
        await analyseSessionDb(options.client.db(ref.database), report, engineHint);
      } catch (error) {
        report.problems.push(problem('unreadable', `${ref.database}: ${(error as Error).message}`));
      }
      report.entries = counted();
      return report;
    })));
    problems.push(...markSlugCollisions(reports));
    sessions.push(...reports);
  }
  for (const namespace of new Set([options.namespace, options.sessionNamespace])) {
    const missing = missingNamespace(namespace, existing, 'MongoDB');
    if (missing) problems.push(missing);
  }
  return { sessions, problems };
}

function groupsOf(options: MongoInspectOptions): Group[] {
  const groups = new Map<string, Group>();
  for (const engine of options.engines) {
    const namespaces = namespacesFor(engine, options);
    const key = `${namespaces.main}\u0000${namespaces.session}`;
    const group = groups.get(key) ?? { main: namespaces.main, session: namespaces.session, engines: [] };
    group.engines.push(engine);
    groups.set(key, group);
  }
  return [...groups.values()];
}

async function readMain(db: Db): Promise<MainContents> {
  const contents: MainContents = { configs: new Map(), me: new Map(), workers: new Map() };
  for await (const document of db.collection('sessions').find({})) {
    const { _id, name, ...config } = document;
    if (typeof name !== 'string') continue;
    contents.configs.set(name, Object.keys(config).length ? config : null);
  }
  for await (const document of db.collection('me').find({})) {
    const me = document.me as { id?: unknown; pushName?: unknown } | null | undefined;
    if (typeof document.session === 'string' && me && typeof me.id === 'string') {
      contents.me.set(document.session, { id: me.id, pushName: typeof me.pushName === 'string' ? me.pushName : null });
    }
  }
  for await (const document of db.collection('session_worker').find({})) {
    if (typeof document.id === 'string') contents.workers.set(document.id, typeof document.worker === 'string' ? document.worker : null);
  }
  return contents;
}

async function analyseSessionDb(db: Db, report: SessionReport, engineHint: Engine | null): Promise<void> {
  const collections = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((collection) => collection.name));
  const stats = await db.stats().catch(() => undefined);
  report.bytes = typeof stats?.dataSize === 'number' ? stats.dataSize : null;
  const rows = await mongoStoreRows(db, collections);
  if (collections.has('auth.files')) {
    report.engine = engineHint === 'WPP' ? 'WPP' : 'WEBJS';
    await analyseGridFs(db, report);
  } else if (collections.has('auth')) {
    report.engine = 'NOWEB';
    report.details.nowebStore = NOWEB_STORE_COLLECTIONS.some((name) => collections.has(name));
    await analyseNowebAuth(db, report);
  } else {
    report.loggedIn = false;
    report.problems.push(problem('no-auth', `database ${db.databaseName} holds no auth`));
  }
  report.entries += rows; // the auth's entries, then the NOWEB store's rows
}

/** Merges the per-key format (`{key, data, type:'kv'}`) and the legacy single document, per-key first. */
async function analyseNowebAuth(db: Db, report: SessionReport): Promise<void> {
  const auth = db.collection('auth');
  const keys = new Set<string>();
  const formats: ('per-key' | 'legacy')[] = [];
  for await (const document of auth.find({ data: { $exists: true } }, { projection: { key: 1, _id: 0 } })) {
    if (typeof document.key === 'string') keys.add(document.key);
  }
  if (keys.size) formats.push('per-key');
  const legacy = await auth.findOne({ data: { $exists: false } });
  if (legacy) {
    formats.push('legacy');
    for (const key of Object.keys(legacy)) if (key !== '_id') keys.add(key);
  }
  const keysByCategory: Record<string, number> = {};
  for (const key of keys) noweb.countCategory(keysByCategory, key);
  report.entries = keys.size;
  report.details.documents = keys.size;
  report.details.keysByCategory = keysByCategory;
  report.details.formats = formats;
  const perKeyCreds = await auth.findOne({ key: 'creds', data: { $exists: true } });
  const creds = (perKeyCreds?.data ?? legacy?.creds) as Record<string, unknown> | undefined;
  if (!creds || typeof creds !== 'object') {
    report.loggedIn = false;
    report.problems.push(keys.size ? problem('creds-missing', `${keys.size} keys but no creds`) : problem('no-auth', 'the auth collection is empty'));
    return;
  }
  report.loggedIn = noweb.isLoggedIn(creds);
  report.details.account = noweb.credsMe(creds)?.id;
}

/** WEBJS RemoteAuth zip in GridFS bucket `auth`; only the newest revision counts. */
async function analyseGridFs(db: Db, report: SessionReport): Promise<void> {
  const filename = report.engine === 'WPP' ? `${report.name}.zip` : webjs.remoteAuthFileName(report.name);
  const files = db.collection('auth.files');
  const revisions = await files.countDocuments({ filename });
  report.details.revisions = revisions;
  report.loggedIn = null;
  if (revisions === 0) {
    report.loggedIn = false;
    report.problems.push(problem('no-auth', `no ${filename} in GridFS bucket auth`));
    return;
  }
  const newest = await files.find({ filename }).sort({ uploadDate: -1 }).limit(1).next();
  report.details.documents = 1; // the newest zip (all of them: details.revisions)
  report.entries = newest ? await gridFsZipEntries(db, { _id: newest._id, length: Number(newest.length ?? 0) }).catch(() => 0) : 0;
  const length = Number(newest?.length ?? 0);
  report.details.authBytes = length;
  report.lastChange = newest?.uploadDate instanceof Date ? newest.uploadDate.toISOString() : null;
  const chunkSize = Number(newest?.chunkSize ?? 0);
  const chunks = await db.collection('auth.chunks').countDocuments({ files_id: newest?._id });
  const expected = chunkSize > 0 ? Math.ceil(length / chunkSize) : chunks;
  if (chunks !== expected) {
    report.problems.push(problem('webjs-zip-corrupt', `${filename} has ${chunks} chunks, expected ${expected} for ${length} bytes`));
  }
}
