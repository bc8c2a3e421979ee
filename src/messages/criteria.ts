/**
 * What `messages prune` deletes: rows of WAHA's message history older than a cutoff, optionally
 * only in some chats. The cutoff is one instant; each store compares it with its own column
 * (NOWEB `messageTimestamp`, Unix seconds; GOWS `timestamp`, a time value), see the store files.
 */
import { UsageError } from '../errors.js';

export interface PruneCriteria {
  /** Rows strictly older than this instant go. */
  cutoff: Date;
  /**
   * Only these chats (as given), or every chat. Each is matched in both of WhatsApp's spellings of
   * a user id: `<n>@c.us` (WAHA's API) and `<n>@s.whatsapp.net` (what Baileys and whatsmeow store).
   */
  chats?: readonly string[];
}

/** Server parts of the jids WAHA stores: users, groups, lids, channels, broadcasts. */
const JID = /^[0-9A-Za-z._:-]+@(c\.us|s\.whatsapp\.net|g\.us|lid|newsletter|broadcast)$/;

/** A jid as given, checked; a typo is exit 2 before anything is read. */
export function parseChat(text: string): string {
  const jid = text.trim();
  if (!JID.test(jid)) {
    throw new UsageError(`Invalid --chat "${text}": expected a chat id like 491701234567@c.us, 1203630xxxxx@g.us or 1234@lid`, {
      hint: 'give the chat id as WAHA shows it (the chatId of a message)',
    });
  }
  return jid;
}

/** The spellings a chat may be stored under. */
export function storedJids(jid: string): string[] {
  const [user, server] = splitJid(jid);
  if (server === 'c.us' || server === 's.whatsapp.net') return [`${user}@c.us`, `${user}@s.whatsapp.net`];
  return [jid];
}

/** The chat (as given on the command line) a stored jid belongs to. */
export function chatOf(stored: string, chats: readonly string[]): string | undefined {
  return chats.find((chat) => storedJids(chat).includes(stored));
}

/** Every stored spelling of the chats asked for (empty: every chat). */
export function chatFilter(criteria: PruneCriteria): string[] {
  return [...new Set((criteria.chats ?? []).flatMap(storedJids))];
}

function splitJid(jid: string): [string, string] {
  const at = jid.lastIndexOf('@');
  return [jid.slice(0, at), jid.slice(at + 1)];
}

/**
 * A number this large cannot be Unix seconds of any real message (it would be the year 5138):
 * such a `messageTimestamp` is milliseconds, and is compared with the cutoff in milliseconds.
 */
export const MILLISECONDS_FROM = 100_000_000_000;

/** The cutoff in both units a numeric timestamp column may hold. */
export function numericCutoff(criteria: PruneCriteria): { seconds: number; milliseconds: number } {
  const milliseconds = criteria.cutoff.getTime();
  // a fraction is fine: `ts < 1700000000.5` is exact for integer and real columns alike
  return { seconds: milliseconds / 1000, milliseconds };
}
