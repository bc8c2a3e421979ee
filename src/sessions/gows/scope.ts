/**
 * What a transfer carries (`--skip-messages`): everything by default; without message history the
 * NOWEB store's `messages` rows and the rows of GOWS's `gows_messages` (the table stays, empty) are
 * left out. Identity and key tables are never optional.
 */
import { NOWEB_MESSAGE_TABLES } from '../engines/gows-schema.js';
import { GOWS_DB } from '../engines/gows.js';
import type { SessionEntry } from '../stores/types.js';
import { withoutMessages } from './sqlite.js';

export interface TransferScope {
  skipMessages?: boolean;
}

export async function* inScope(entries: AsyncIterable<SessionEntry>, scope: TransferScope | undefined): AsyncIterable<SessionEntry> {
  if (!scope?.skipMessages) {
    yield* entries;
    return;
  }
  for await (const entry of entries) {
    if (entry.kind === 'row' && NOWEB_MESSAGE_TABLES.includes(entry.table)) continue;
    if (entry.kind === 'file' && entry.name === GOWS_DB) {
      let data: Buffer;
      try {
        data = withoutMessages(entry.data);
      } catch {
        data = entry.data; // not SQLite: carried as it is (a target that needs its tables fails it)
      }
      yield { ...entry, data };
      continue;
    }
    yield entry;
  }
}
