/**
 * Usage of the MongoDB store: per collection of each session database, the server's own
 * statistics — `$collStats` (storageStats), else the `collStats` command (FerretDB answers both),
 * else only `countDocuments` (bytes unknown, said in the notes). Bytes are `totalSize` (storage and
 * indexes); rows are the statistics' document count, an estimate. Sessions are those `inspect` lists.
 */
import type { Db, MongoClient } from 'mongodb';
import pLimit from 'p-limit';
import { testPace } from '../util/test-pace.js';
import type { SessionReport } from '../sessions/report.js';
import { partOfTable } from './parts.js';
import { addTable, emptyParts, sessionBytes, type SessionUsage, type TableUsage, type UsageSource } from './report.js';
import { carriedProblems } from './sessions.js';

export interface MongoUsageOptions {
  client: MongoClient;
  sessions: readonly SessionReport[];
  concurrency: number;
  signal?: AbortSignal;
  onSession?: (name: string) => void;
}

interface StorageStats {
  size?: number;
  count?: number;
  storageSize?: number;
  totalIndexSize?: number;
  totalSize?: number;
}

export async function mongoUsage(options: MongoUsageOptions): Promise<{ sessions: SessionUsage[]; notes: string[] }> {
  const { databases } = await options.client.db().admin().listDatabases({ nameOnly: true });
  const existing = new Set(databases.map((database) => database.name));
  const limit = pLimit(options.concurrency);
  const notes = new Set<string>();
  const sessions = await Promise.all(options.sessions.map((session) => limit(async () => {
    options.signal?.throwIfAborted(); // queued sessions end at once after a Ctrl-C
    await testPace();
    options.signal?.throwIfAborted();
    const database = String(session.details.location);
    const usage: SessionUsage = {
      name: session.name,
      engine: session.engine,
      location: database,
      bytes: 0,
      parts: emptyParts({}, 'documents'),
      sources: [],
      problems: carriedProblems(session),
    };
    if (existing.has(database)) {
      const db = options.client.db(database);
      const sources = new Set<UsageSource>();
      const collections = await db.listCollections({}, { nameOnly: true }).toArray();
      for (const { name, type } of collections) {
        if (type === 'view' || name.startsWith('system.')) continue;
        const { figures, source } = await collectionUsage(db, name);
        if (source === 'countDocuments') notes.add(`the server answered neither $collStats nor collStats (${database}.${name}): documents counted, bytes unknown`);
        else if (source === 'collStats') notes.add('the server does not answer $collStats: sizes from the collStats command');
        sources.add(source);
        addTable(usage.parts[partOfTable(name)], name, figures);
      }
      usage.sources = [...sources];
    }
    usage.bytes = sessionBytes(usage.parts);
    options.onSession?.(session.name);
    return usage;
  })));
  return { sessions, notes: [...notes] };
}

type StatsMethod = '$collStats' | 'collStats' | 'countDocuments';

/** The ways to ask, cheapest and most precise first; the last always answers. */
export const STATS_METHODS: readonly StatsMethod[] = ['$collStats', 'collStats', 'countDocuments'];

/** The first answer the server gives for one collection, trying `methods` in order. */
export async function collectionUsage(db: Db, name: string, methods: readonly StatsMethod[] = STATS_METHODS): Promise<{ figures: TableUsage; source: UsageSource }> {
  let failure: unknown;
  for (const method of methods) {
    try {
      if (method === '$collStats') {
        const [stats] = await db.collection(name).aggregate<{ storageStats?: StorageStats; count?: number }>([{ $collStats: { storageStats: {}, count: {} } }]).toArray();
        if (stats?.storageStats) return { figures: fromStats(stats.storageStats, stats.count), source: method };
      } else if (method === 'collStats') {
        return { figures: fromStats(await db.command({ collStats: name }) as StorageStats), source: method };
      } else {
        return { figures: { bytes: null, rows: await db.collection(name).countDocuments(), estimated: false }, source: method };
      }
    } catch (error) {
      failure = error; // an older server or a proxy without it (or without the right): the next way
    }
  }
  throw failure ?? new Error(`no statistics for ${name}`);
}

function fromStats(stats: StorageStats, count?: number): TableUsage {
  const bytes = stats.totalSize ?? (stats.storageSize !== undefined ? stats.storageSize + (stats.totalIndexSize ?? 0) : stats.size ?? null);
  return { bytes: bytes === null ? null : Number(bytes), rows: Number(count ?? stats.count ?? 0), estimated: true };
}
