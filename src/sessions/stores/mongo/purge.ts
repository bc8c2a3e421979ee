/**
 * purge on MongoDB (waha-facts §2.3): WAHA's delete is the store's `remove`; its logout drops the
 * per-session database and the `me` document (`sessions` and `session_worker` stay).
 */
import { purgeRefused } from '../../purge.js';
import type { PurgeMode, PurgePart, SessionRef } from '../types.js';
import type { MongoTransferStore } from './store.js';

/** The server answers for every session (the main database, its sessions collection, the session database). */
export async function preflightMongo(store: MongoTransferStore, refs: readonly SessionRef[]): Promise<void> {
  for (const ref of refs) {
    const main = store.mainDb(ref);
    try {
      await main.command({ ping: 1 });
      await main.collection('sessions').findOne({ name: ref.name });
      await store.sessionDb(ref).listCollections({}, { nameOnly: true }).toArray();
    } catch (error) {
      throw purgeRefused(`MongoDB (${store.location}) does not answer for "${ref.name}"`, error, 'check the server and the user\'s rights (read and drop on waha_* databases), then run again');
    }
  }
}

export function mongoPurgeParts(store: MongoTransferStore, ref: SessionRef, mode: PurgeMode): PurgePart[] {
  const main = store.mainDb(ref);
  const sessionDb = store.sessionDb(ref);
  const doc = (collection: string, filter: object): PurgePart => ({
    label: `the ${collection} document in ${main.databaseName}`, unit: 'documents',
    count: () => main.collection(collection).countDocuments(filter),
  });
  const parts: PurgePart[] = [{
    label: `the database ${sessionDb.databaseName}`, unit: 'collections',
    count: () => sessionDb.listCollections({}, { nameOnly: true }).toArray().then((list) => list.length),
  }];
  if (mode === 'delete') parts.push(doc('sessions', { name: ref.name }), doc('session_worker', { id: ref.name }));
  parts.push(doc('me', { session: ref.name }));
  return parts;
}

export async function logoutMongo(store: MongoTransferStore, ref: SessionRef): Promise<void> {
  await store.sessionDb(ref).dropDatabase();
  await store.mainDb(ref).collection('me').deleteMany({ session: ref.name });
}
