/** Connections to the test MongoDB server, and namespaces that keep parallel test files apart. */
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { inject } from 'vitest';

export function mongoUrl(): string {
  return inject('mongoUrl');
}

export async function connectMongo(): Promise<MongoClient> {
  return new MongoClient(mongoUrl(), { serverSelectionTimeoutMS: 5000 }).connect();
}

/** A namespace no other test uses: databases `waha_<ns>` and `waha_<ns>_<slug>`. */
export function uniqueNamespace(prefix = 't'): string {
  return `${prefix}${randomBytes(4).toString('hex')}`;
}

/** Drops every database of the namespace (`waha_<ns>` and `waha_<ns>_*`). */
export async function dropNamespace(client: MongoClient, namespace: string): Promise<void> {
  const { databases } = await client.db().admin().listDatabases({ nameOnly: true });
  for (const { name } of databases) {
    if (name === `waha_${namespace}` || name.startsWith(`waha_${namespace}_`)) await client.db(name).dropDatabase();
  }
}
