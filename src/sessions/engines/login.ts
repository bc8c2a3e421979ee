/**
 * Whether a session's auth, read as transfer entries, is logged in: the one rule behind `diff`,
 * the archive manifest and `backup verify`, and the same tests `inspect` applies to the stores.
 * NOWEB: creds.me.id (noweb.isLoggedIn; no creds: not logged in). GOWS: a row in whatsmeow_device
 * of the gows.db snapshot (gows.readGowsBytes; no gows.db: not logged in; unreadable: unknown).
 * WEBJS, WPP and a folder of no known engine cannot be told offline (null), unless there is no
 * auth at all (false, as inspect says of a folder holding only its config). The `me`
 * entry is informational in WAHA and does not count.
 */
import type { Engine } from '../engines.js';
import type { SessionEntry } from '../stores/types.js';
import { GOWS_DB, readGowsBytes } from './gows.js';
import { isLoggedIn } from './noweb.js';

export class LoginState {
  private auth = false;
  private state: boolean | null | undefined;

  constructor(private readonly engine: Engine | null) {}

  see(entry: SessionEntry): void {
    if (entry.kind === 'key' || entry.kind === 'file') this.auth = true;
    if (this.engine === 'NOWEB' && entry.kind === 'key' && entry.name === 'creds' && !entry.only) {
      this.state = Boolean(entry.value && typeof entry.value === 'object' && isLoggedIn(entry.value as Record<string, unknown>));
    }
    if (this.engine === 'GOWS' && entry.kind === 'file' && entry.name === GOWS_DB) this.state = gowsLoggedIn(entry.data);
  }

  get value(): boolean | null {
    if (this.engine === 'NOWEB' || this.engine === 'GOWS') return this.state === undefined ? false : this.state;
    return this.auth ? null : false;
  }
}

function gowsLoggedIn(data: Buffer): boolean | null {
  try {
    return readGowsBytes(data).loggedIn;
  } catch {
    return null;
  }
}
