import type { Command } from 'commander';
import type { Config } from '../config/config.js';
import { formatBytes, formatDuration, parseDuration, parseSize } from '../config/units.js';
import { ExitCode, OperationError, UsageError } from '../errors.js';
import type { CleanSummary } from '../media/clean.js';
import type { MediaObject, MediaStore, MediaStoreKind, ObjectFilter } from '../media/store.js';
import type { VerifyFix, VerifyProblem, VerifySummary } from '../media/verify.js';
import { action, addOutputOptions, addSettingOptions, sessionOption, yesOption, type CommandContext } from './options.js';
import type { Reporter } from './reporter.js';
import { addHelp } from './help.js';
import { Progress } from './progress.js';
import { shortenEnd, shortenMiddle } from './text.js';
import { plural } from '../util/plural.js';
import { settingByKey } from '../config/settings.js';
import { registerLifecycle } from './media-lifecycle.js';
import type { MediaTableSize, PostgresMediaStore } from '../media/postgres.js';
/** Rows per DELETE of PostgreSQL media (S3's DeleteObjects takes at most 1,000 keys; the default). */
const POSTGRES_BATCH_SIZE = 5000;

interface CommonFlags {
  session?: string[];
  concurrency?: string;
}

interface ListFlags extends CommonFlags {
  olderThan?: string;
  unusedFor?: string;
  largerThan?: string;
  includeDotfiles?: boolean;
}

interface CleanFlags extends ListFlags {
  maxDelete?: string;
  dryRun?: boolean;
  yes?: boolean;
  wait?: boolean;
  keepEmptyDirs?: boolean;
  vacuum?: boolean;
}

interface VerifyFlags extends CommonFlags {
  fix?: boolean;
  dryRun?: boolean;
}

const STORE_ARGUMENT = ['[store]', 'local (the media folder), s3 (the bucket) or postgres (the media tables); default: --media-storage / WAHA_MEDIA_STORAGE'] as const;

export function registerMedia(program: Command): void {
  const media = program
    .command('media')
    .description('list, clean up and check WAHA media in the local media folder, the S3 bucket or PostgreSQL');
  addHelp(media, 'Without a store word, the store is --media-storage / WAHA_MEDIA_STORAGE (LOCAL, S3 or POSTGRESQL).', [
    ['what is in the media folder, with totals per session', 'waha-storage media list'],
    ['delete what WAHA would have deleted by now (the media lifetime)', 'waha-storage media clean'],
    ['check the metadata of the S3 objects', 'waha-storage media verify'],
    ['let the bucket expire media itself after 30 days', 'waha-storage media lifecycle set --older-than 30d'],
  ]);

  const list = media
    .command('list')
    .description('list media objects with session, key, size and modified time, then totals per session')
    .argument(...STORE_ARGUMENT);
  addFilterOptions(list);
  addCommonOptions(list, 's3: session prefixes listed at once (default: 8); local: one thread lists');
  addHelp(list, `
Output: a table on stdout, then totals per session and overall.
With --json on a terminal: one document {"schemaVersion":1,"objects":[...],"summary":{...}}.
With --json when stdout is NOT a terminal (piped, redirected): NDJSON, one JSON object a line, so any
size streams: first a header {"schemaVersion":1,"type":"header",...}, then one line per object
{"session","key","bytes","modifiedAt"}, last {"type":"summary","summary":{"count","bytes","sessions":{...}}}.
Ages come from the file's mtime (local), the listing's LastModified (S3) or created_at, read as UTC (postgres).`, [
    ['every media file in the media folder', 'waha-storage media list local'],
    ['what is bigger than 10 MB and older than a week in S3', 'waha-storage media list s3 --larger-than 10MB --older-than 7d'],
    ['one session, as NDJSON for jq', 'waha-storage media list --session alpha --json | jq -r .key'],
  ]);
  list.action(action<ListFlags>(async (context, store?: string) => runList(context, store)));

  const clean = media
    .command('clean')
    .description('delete media older than --older-than (default: the media lifetime); cron-friendly')
    .argument(...STORE_ARGUMENT);
  addFilterOptions(clean);
  clean
    .option('--max-delete <n>', 'stop before deleting anything when more than n objects match (a safety net for cron)')
    .option('--dry-run', 'list and count what would be deleted; delete nothing (same totals)')
    .addOption(yesOption('on a terminal, go ahead without asking when more than --max-delete match'))
    .option('--wait', 'wait for another running clean of the same store instead of exiting 1')
    .option('--keep-empty-dirs', 'local: keep session folders this run left empty')
    .option('--vacuum', 'postgres: run VACUUM on the media tables this run deleted from (the space becomes reusable; only VACUUM FULL returns it to the OS)');
  addCommonOptions(clean, 's3: session prefixes listed at once (default: 8); local: one thread lists while a second one unlinks');
  addHelp(clean, `
Deletes what is older than --older-than, by default the media lifetime (--lifetime /
WHATSAPP_FILES_LIFETIME). With lifetime 0 (WAHA keeps media forever) it refuses unless --older-than
is given; for S3 (where WAHA itself never deletes) the lifetime must be set explicitly or --older-than given.
No question is asked, on a terminal or not: a cleanup by age is routine. With --max-delete, the store
is counted first; when more would go, nothing is deleted: on a terminal you are asked, otherwise the
run stops with exit 1 (--yes does not lift the cap without a terminal).
One clean at a time per store: a lock file in the media folder (local); for S3 a lock object in the
bucket (waha-storage-locks/, a conditional put, renewed while the run lasts, taken over after 2 min
without renewal), so it holds across hosts; a server that ignores conditional writes gets a lock file
in the system temp folder instead (one host only: said on stderr). A second run exits 1 naming the
holder (host, pid) unless --wait. S3 throttling, 5xx and dropped connections are retried with backoff;
the summary says how many requests were retried.
postgres: the media table of each session database waha_<session namespace>_<slug>, deleted in batches
by primary key (a row saved again or downloaded since it was listed is kept), one clean at a time per
server (an advisory lock); after the run each table's size before and after (pg_total_relation_size):
the space returns to the OS only after VACUUM FULL. WAHA never deletes PostgreSQL media: give
--older-than and/or --unused-for (a row must match both when both are given).
With --dry-run: one line per object that would go (with --json when piped: NDJSON, a header, one line per object, then the summary).
JSON: {"schemaVersion":1,"summary":{"matched","deleted","failed","bytes","vanished","scanned","retried"},"failures":[...]}.
Exit codes: 0 done, 1 failed (nothing deleted, lock held, --max-delete exceeded), 2 bad usage or
configuration, 3 some objects could not be deleted (the rest were), 130 interrupted.`, [
    ['what a clean would delete (one line per object), deleting nothing', 'waha-storage media clean --dry-run'],
    ['from cron: media older than 7 days, at most 10,000 objects, silent unless it fails', 'waha-storage media clean --older-than 7d --max-delete 10000 --quiet'],
    ['S3 media older than 30 days of one session', 'waha-storage media clean s3 --older-than 30d --session alpha'],
    ['PostgreSQL media not downloaded for 14 days, then VACUUM', 'waha-storage media clean postgres --unused-for 14d --vacuum'],
  ]);
  clean.action(action<CleanFlags>(async (context, store?: string) => runClean(context, store)));

  const verify = media
    .command('verify')
    .description("check the metadata WAHA writes on each S3 object (one HEAD per object) or PostgreSQL media row; --fix repairs what the key tells (S3)")
    .argument('[store]', 's3 (the default) or postgres (the JSONB metadata of each media row)')
    .addOption(sessionOption('only this session (repeatable)'))
    .option('--fix', 'rewrite derivable metadata (CopyObject onto itself, keeping content, content type and other metadata)')
    .option('--dry-run', 'with --fix: list the fixes, change nothing')
    .addOption(yesOption('accepted for scripts: --fix asks nothing (it rewrites only metadata the key tells)'));
  addCommonOptions(verify, 'HeadObject requests in flight (default: 16)');
  addHelp(verify, `
Problems (errors): key-layout (not <session>/<file>), session-missing, session-mismatch,
message-id-missing, message-id-mismatch (fixable), created-at-invalid, created-at-future.
Warnings: chat-id-missing (WAHA before 2025.1.4), file-name-docs-spelling (waha-media-file-name
instead of waha-media-filename; fixable), content-type-mismatch.
JSON: {"schemaVersion":1,"summary":{"checked","ok","problems","errors","warnings","fixed","errorsRemaining"},
"problems":[{"key","problem","severity","detail","fixable"}],"fixes":[{"key","set","status"}]}.
postgres: the same keys in the JSONB metadata column (waha-created-at a JSON number there), keys printed
as <session>/<fullpath>, plus metadata-missing (NULL or not an object); no --fix.
Exit codes: 0 no errors (warnings allowed), 1 failed, 2 bad usage, 3 errors remain.`, [
    ['check the metadata of every object in the bucket', 'waha-storage media verify'],
    ['the fixes that --fix would make, changing nothing', 'waha-storage media verify --fix --dry-run'],
    ['repair one session', 'waha-storage media verify --session alpha --fix --yes'],
  ]);
  verify.action(action<VerifyFlags>(async (context, store?: string) => runVerify(context, store)));

  registerLifecycle(media);
}

function addFilterOptions(command: Command): void {
  command
    .addOption(sessionOption('only this session (repeatable)'))
    .option('--older-than <duration>', 'only objects modified at least this long ago (180s, 15m, 36h, 7d)')
    .option('--larger-than <size>', 'only objects larger than this (10MB, 1GiB)')
    .option('--unused-for <duration>', 'postgres: only rows not downloaded for this long (last_accessed_at; never downloaded: since created_at)')
    .option('--include-dotfiles', 'local: include files and folders whose name starts with "."');
}

/** `concurrency`: what --concurrency means for this command (each says its own). */
function addCommonOptions(command: Command, concurrency: string): void {
  command.option('--concurrency <n>', concurrency);
  addSettingOptions(command, ['media', 's3', 'mediaPostgres']);
  const namespace = settingByKey('sessionNamespace');
  command.option(namespace.flags, `postgres: the media tables are in waha_<this>_<slug> (default: every engine's name) [env: ${namespace.env.join(', ')}]`);
  addOutputOptions(command);
}

// ---------------------------------------------------------------------------------------------
// list

async function runList({ options, config, reporter, signal, metrics }: CommandContext<ListFlags>, word?: string): Promise<void> {
  const kind = storeKind(word, config);
  const filter = objectFilter(options, kind);
  const store = await openStore(kind, config, options);
  try {
    await store.check();
    const { matcher } = await import('../media/store.js');
    const matches = matcher(filter, new Date());
    const totals = new Totals();
    const output = listOutput(reporter, store);
    const unreadable: string[] = [];
    const onUnreadable = ({ key, reason }: { key: string; reason: string }) => {
      unreadable.push(key);
      reporter.warn(`not listed: ${key}: ${reason}`);
    };
    for await (const page of store.list({ sessions: options.session, includeDotfiles: options.includeDotfiles, onUnreadable })) {
      for (const object of page) {
        if (!matches(object)) continue;
        totals.add(object);
        output.object(object);
      }
      output.flush?.();
      await new Promise((resolve) => setImmediate(resolve)); // let a Ctrl-C land between local pages
      if (signal.aborted) break;
    }
    output.end(totals);
    metrics.setStore(store.kind);
    metrics.count('listed', totals.count);
    metrics.bytes('listed', totals.bytes);
    if (unreadable.length) process.exitCode = ExitCode.partial;
  } finally {
    await store.close();
  }
}

interface ListOutput {
  object(object: MediaObject): void;
  /** End of a page: NDJSON lines go out one write per page, not one per object. */
  flush?(): void;
  end(totals: Totals): void;
}

function listOutput(reporter: Reporter, store: MediaStore): ListOutput {
  const record = (object: MediaObject) => ({ session: object.session, key: object.key, bytes: object.bytes, modifiedAt: object.modifiedAt.toISOString() });
  if (reporter.json && !reporter.stdoutIsTTY) {
    reporter.ndjson({ schemaVersion: 1, type: 'header', command: 'media list', store: store.kind, location: store.location });
    let lines: string[] = [];
    const flush = () => {
      if (lines.length) reporter.line(lines.join('\n'));
      lines = [];
    };
    return {
      object: (object) => { lines.push(JSON.stringify(record(object))); },
      flush,
      end: (totals) => {
        flush();
        reporter.ndjson({ type: 'summary', summary: totals.json() });
      },
    };
  }
  if (reporter.json) {
    const objects: ReturnType<typeof record>[] = [];
    return {
      object: (object) => objects.push(record(object)),
      end: (totals) => reporter.document({ store: store.kind, location: store.location, objects, summary: totals.json() }),
    };
  }
  // Rows are printed as they come (a bucket may hold millions), in fixed-width columns; on a
  // terminal the session and the key are shortened to fit its width (piped, nothing is cut).
  let header = false;
  const tty = reporter.stdoutIsTTY;
  const when = (date: Date) => (tty ? date.toISOString().slice(0, 19).replace('T', ' ') : date.toISOString());
  const sessionWidth = tty ? 16 : 20;
  const keyWidth = Math.max(10, reporter.width - (when(new Date()).length + 10 + sessionWidth + 6));
  return {
    object: (object) => {
      if (!header) {
        reporter.line(reporter.paint('bold', `${'MODIFIED'.padEnd(when(new Date()).length)}  ${'BYTES'.padStart(10)}  ${'SESSION'.padEnd(sessionWidth)}  KEY`));
        header = true;
      }
      const session = object.session ?? '-';
      reporter.line(`${when(object.modifiedAt)}  ${formatBytes(object.bytes).padStart(10)}  ${(tty ? shortenEnd(session, sessionWidth) : session).padEnd(sessionWidth)}  ${tty ? shortenMiddle(object.key, keyWidth) : object.key}`);
    },
    end: (totals) => {
      if (!totals.count) {
        reporter.line(`No media objects found in ${store.location}.`);
        return;
      }
      reporter.line();
      const rows = [...totals.sessions].map(([name, entry]) => [name ?? '(no session)', entry.count, formatBytes(entry.bytes)]);
      rows.push(['total', totals.count, formatBytes(totals.bytes)]);
      reporter.table([{ header: 'session', fit: 'middle' }, { header: 'objects', align: 'right' }, { header: 'size', align: 'right' }], rows);
    },
  };
}

class Totals {
  count = 0;
  bytes = 0;
  readonly sessions = new Map<string | null, { count: number; bytes: number }>();

  add(object: MediaObject): void {
    this.count++;
    this.bytes += object.bytes;
    const entry = this.sessions.get(object.session) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += object.bytes;
    this.sessions.set(object.session, entry);
  }

  /** Per-session totals keyed by name; old flat files (no session) under "null". */
  json() {
    return { count: this.count, bytes: this.bytes, sessions: Object.fromEntries([...this.sessions].map(([name, entry]) => [String(name), entry])) };
  }
}

// ---------------------------------------------------------------------------------------------
// clean

async function runClean({ options, config, reporter, signal, metrics }: CommandContext<CleanFlags>, word?: string): Promise<void> {
  const kind = storeKind(word, config);
  metrics.setStore(kind);
  const filter: ObjectFilter = { ...objectFilter(options, kind), olderThanSeconds: cleanAge(kind, options, config) };
  if (options.vacuum && kind !== 'postgres') throw new UsageError(`--vacuum is for PostgreSQL media (media clean postgres), not ${kind}`);
  const maxDelete = options.maxDelete === undefined ? undefined : wholeNumber('--max-delete', options.maxDelete, 0);
  const dryRun = Boolean(options.dryRun);
  const { cleanMedia, countMatches } = await import('../media/clean.js');
  const { acquireCleanLock } = await import('../media/lock.js');
  const store = await openStore(kind, config, options);
  const listFilter = { sessions: options.session, includeDotfiles: options.includeDotfiles };
  const what = [
    filter.olderThanSeconds !== undefined ? `older than ${formatDuration(filter.olderThanSeconds)}` : '',
    filter.unusedForSeconds !== undefined ? `not downloaded for ${formatDuration(filter.unusedForSeconds)}` : '',
    filter.largerThanBytes !== undefined ? `larger than ${formatBytes(filter.largerThanBytes)}` : '',
  ].filter(Boolean).join(' and ');
  let release: (() => Promise<void>) | undefined;
  // a dry run lists the objects on stdout as it goes: no spinner drawn over them
  const spinner = await Progress.start(reporter, { title: `cleaning ${store.location}`, unit: dryRun ? 'match' : 'deleted', silent: dryRun && !reporter.json });
  try {
    await store.check();
    if (!dryRun) {
      // PostgreSQL media: an advisory lock on the media server instead of a lock file or object
      const lockOf = store.kind === 'postgres' ? (lockOptions: object) => (store as PostgresMediaStore).acquireLock(lockOptions) : acquireCleanLock.bind(undefined, store);
      release = await lockOf({
        wait: options.wait, signal,
        onCompromised: (error) => reporter.warn(`the clean lock was lost (${error.message}); another run may start`),
        onNotice: (message) => reporter.warn(message),
      });
    }
    const now = new Date();
    const listing = dryRun ? dryRunListing(reporter, store) : undefined;
    const context = { dryRun, what, location: store.location, listing };
    let limit: number | undefined;
    if (maxDelete !== undefined) {
      const plan = await countMatches({ store, filter: listFilter, match: filter, now, signal,
        onProgress: (p) => spinner.planning(`counting: ${p.scanned} scanned, ${p.matched} match`) });
      if (signal.aborted) {
        spinner.stop();
        printCleanSummary(reporter, { ...plan, matched: 0, bytes: 0, deleted: 0 }, [], { ...context, interrupted: true });
        return;
      }
      if (plan.matched > maxDelete) {
        spinner.stop();
        const counted = `${plural(plan.matched, 'object')} (${formatBytes(plan.bytes)}) ${what} in ${store.location}`;
        if (dryRun) {
          printCleanSummary(reporter, { ...plan, deleted: 0 }, [], { ...context, interrupted: false });
          reporter.error(`a real run would stop: ${counted}, more than --max-delete ${maxDelete}`);
          process.exitCode = 1;
          return;
        }
        if (!reporter.interactive) {
          throw new OperationError(`media clean stopped before deleting anything: ${counted}, more than --max-delete ${maxDelete}`, {
            hint: 'check --older-than, or raise --max-delete',
          });
        }
        const { confirmDestructive } = await import('./confirm.js');
        await confirmDestructive(reporter, { question: `${counted}: more than --max-delete ${maxDelete}. Delete them all?`, yes: options.yes, what: 'media clean', signal });
      } else {
        limit = maxDelete; // objects that expire between the count and the delete never push it past the cap
      }
      spinner.setTotal(plan.matched, plan.bytes);
    }
    const result = await cleanMedia({
      store, filter: listFilter, match: filter, now, dryRun, limit, keepEmptyDirs: options.keepEmptyDirs, signal,
      parallelBatches: 4,
      // a PostgreSQL DELETE of 5,000 rows by primary key is one cheap statement; S3 takes at most 1,000 keys
      batchSize: store.kind === 'postgres' ? POSTGRES_BATCH_SIZE : undefined,
      onMatch: listing?.object,
      onProgress: (p) => {
        listing?.flush();
        spinner.planning(`${dryRun ? 'dry run: ' : ''}${p.scanned} scanned, ${p.matched} match, ${p.deleted} deleted`);
        spinner.set(dryRun ? p.matched : p.deleted, p.bytes);
      },
      onFailure: (failure) => reporter.debug(`not ${failure.key.endsWith('/') ? 'read' : 'deleted'}: ${failure.key}: ${failure.reason}`),
    });
    const tables = store.kind === 'postgres'
      ? await (store as PostgresMediaStore).tableSizes({ vacuum: Boolean(options.vacuum) && !dryRun && !result.interrupted })
      : undefined;
    spinner.stop();
    // After an interrupt too: what is gone is counted exactly (batches in flight were let finish).
    printCleanSummary(reporter, result.summary, result.failures, { ...context, interrupted: result.interrupted, tables });
    const { summary } = result;
    for (const status of ['scanned', 'matched', 'deleted', 'vanished', 'failed', 'unreadable'] as const) metrics.count(status, summary[status]);
    metrics.bytes(dryRun ? 'planned' : 'deleted', summary.bytes);
    if (summary.unreadable) {
      const first = result.failures.find((failure) => failure.key.endsWith('/'));
      reporter.error(`${plural(summary.unreadable, 'folder')} could not be read, so nothing in ${summary.unreadable === 1 ? 'it' : 'them'} was cleaned (first: ${first?.key}: ${first?.reason}); the other folders were cleaned`);
    }
    if (summary.failed) {
      const first = result.failures.find((failure) => !failure.key.endsWith('/'));
      reporter.error(`${summary.failed} of ${plural(summary.matched, 'object')} could not be deleted (first: ${first?.key}: ${first?.reason})`);
    }
    if (result.interrupted) process.exitCode = ExitCode.interrupted;
    else if (summary.unreadable) process.exitCode = ExitCode.partial; // the rest of the store was cleaned
    else if (summary.failed) process.exitCode = summary.deleted + summary.vanished > 0 ? ExitCode.partial : ExitCode.failed;
  } finally {
    spinner.stop();
    await release?.().catch(() => undefined);
    await store.close();
  }
}

/** The age to clean at: --older-than, else the lifetime; lifetime 0 means keep forever. */
function cleanAge(kind: MediaStoreKind, options: CleanFlags, config: Config): number | undefined {
  if (options.olderThan !== undefined) return duration('--older-than', options.olderThan);
  // --unused-for alone is a whole policy: nothing downloaded for that long goes, whatever its age
  if (kind === 'postgres' && options.unusedFor !== undefined) return undefined;
  const lifetime = config.media.lifetimeSeconds;
  const source = config.source('lifetime').source;
  if (lifetime === 0) {
    throw new UsageError(`The media lifetime is 0 (${source === 'default' ? 'default' : source.replace(':', ' ')}): WAHA keeps media forever, so media clean deletes nothing by default`, {
      hint: 'pass --older-than <duration> (e.g. 7d) to clean anyway',
    });
  }
  if (kind === 's3' && source === 'default') {
    throw new UsageError('WAHA never deletes S3 media, so there is no lifetime to clean S3 by', {
      hint: 'pass --older-than <duration> (e.g. 30d), or set --lifetime / WHATSAPP_FILES_LIFETIME',
    });
  }
  if (kind === 'postgres' && source === 'default') {
    throw new UsageError('WAHA never deletes PostgreSQL media, so there is no lifetime to clean it by', {
      hint: 'pass --older-than <duration> (e.g. 30d) and/or --unused-for <duration> (e.g. 14d), or set --lifetime / WHATSAPP_FILES_LIFETIME',
    });
  }
  return lifetime;
}

interface CleanContext {
  dryRun: boolean;
  what: string;
  location: string;
  interrupted: boolean;
  listing?: DryRunListing;
  /** postgres: each media table's size before and after the run. */
  tables?: MediaTableSize[];
}

interface DryRunListing {
  /** NDJSON lines on stdout (--json, piped) rather than one document. */
  ndjson: boolean;
  object(object: MediaObject): void;
  /** End of a page: what was found so far goes out in one write. */
  flush(): void;
  objects: ReturnType<typeof mediaRecord>[];
}

const mediaRecord = (object: MediaObject) => ({ session: object.session, key: object.key, bytes: object.bytes, modifiedAt: object.modifiedAt.toISOString() });

/** What a dry run would delete, one object a line: text, NDJSON (--json, piped), or the document's objects[] (--json on a terminal). */
function dryRunListing(reporter: Reporter, store: MediaStore): DryRunListing {
  const ndjson = reporter.json && !reporter.stdoutIsTTY;
  if (ndjson) reporter.ndjson({ schemaVersion: 1, type: 'header', command: 'media clean', dryRun: true, store: store.kind, location: store.location });
  let lines: string[] = [];
  const objects: ReturnType<typeof mediaRecord>[] = [];
  return {
    ndjson,
    objects,
    object: (object) => {
      if (ndjson) lines.push(JSON.stringify(mediaRecord(object)));
      else if (reporter.json) objects.push(mediaRecord(object));
      else lines.push(`would delete ${object.key} (${formatBytes(object.bytes)}, modified ${object.modifiedAt.toISOString()})`);
    },
    flush: () => {
      if (lines.length) reporter.line(lines.join('\n'));
      lines = [];
    },
  };
}

function printCleanSummary(reporter: Reporter, summary: CleanSummary, failures: { key: string; reason: string }[], context: CleanContext): void {
  context.listing?.flush();
  if (reporter.json && context.listing?.ndjson) {
    reporter.ndjson({
      type: 'summary', dryRun: true, interrupted: context.interrupted,
      summary: { matched: summary.matched, deleted: summary.deleted, failed: summary.failed, bytes: summary.bytes, vanished: summary.vanished, scanned: summary.scanned, unreadable: summary.unreadable, retried: summary.retried ?? 0 },
      failures,
    });
    return;
  }
  if (reporter.json) {
    reporter.document({
      dryRun: context.dryRun,
      interrupted: context.interrupted,
      location: context.location,
      summary: {
        matched: summary.matched, deleted: summary.deleted, failed: summary.failed, bytes: summary.bytes, vanished: summary.vanished,
        scanned: summary.scanned, unreadable: summary.unreadable, retried: summary.retried ?? 0,
      },
      failures,
      ...(context.tables ? { tables: context.tables } : {}),
      ...(context.listing ? { objects: context.listing.objects } : {}),
    });
    return;
  }
  for (const failure of failures.slice(0, 20)) reporter.warn(`not ${failure.key.endsWith('/') ? 'read' : 'deleted'}: ${failure.key}: ${failure.reason}`);
  if (failures.length > 20) reporter.warn(`... and ${summary.failed + summary.unreadable - 20} more (--json lists up to 1,000)`);
  const scanned = `${summary.scanned} scanned`;
  const stopped = context.interrupted ? 'Interrupted: ' : '';
  if (context.dryRun) {
    reporter.line(`${stopped}Dry run: would delete ${plural(summary.matched, 'object')} (${formatBytes(summary.bytes)}) ${context.what} from ${context.location}; ${scanned}. Nothing was deleted.`);
    return;
  }
  const extra = [
    scanned, summary.vanished ? `${summary.vanished} already gone` : '', summary.failed ? `${summary.failed} failed` : '',
    summary.unreadable ? `${plural(summary.unreadable, 'folder')} unreadable` : '',
    summary.retried ? `${plural(summary.retried, 'request')} retried` : '',
  ].filter(Boolean).join(', ');
  reporter.line(`${stopped}Deleted ${summary.deleted} of ${plural(summary.matched, 'object')} (${formatBytes(summary.bytes)}) ${context.what} from ${context.location}; ${extra}.`);
  if (context.interrupted) reporter.line('The rest was not looked at; run the same command again to continue.');
  if (context.tables) printTableSizes(reporter, context.tables);
}

/** PostgreSQL keeps deleted rows' space in the table file: say how big each table is now, and what gives it back. */
function printTableSizes(reporter: Reporter, tables: readonly MediaTableSize[]): void {
  const cleaned = tables.filter((table) => table.deleted > 0);
  if (!cleaned.length) return;
  reporter.table(
    [{ header: 'session', fit: 'middle' }, { header: 'database', fit: 'middle' }, { header: 'deleted', align: 'right' }, { header: 'media table before', align: 'right' }, { header: 'after', align: 'right' }],
    cleaned.map((table) => [table.session, table.database, table.deleted, formatBytes(table.bytesBefore), `${formatBytes(table.bytesAfter)}${table.vacuumed ? ' (vacuumed)' : ''}`]),
  );
  const vacuumed = cleaned.some((table) => table.vacuumed);
  reporter.line(`PostgreSQL gives the space of deleted rows back to the operating system only after VACUUM FULL (which locks the table while it rewrites it)${vacuumed
    ? '; VACUUM ran, so the space is reusable for new media.'
    : '; until VACUUM runs (autovacuum, or --vacuum) it is not even reused.'}`);
}

// ---------------------------------------------------------------------------------------------
// verify

async function runVerify(context: CommandContext<VerifyFlags>, word?: string): Promise<void> {
  const { options, config, reporter, signal, metrics } = context;
  if (verifyKind(word, config) === 'postgres') return runVerifyPostgres(context);
  metrics.setStore('s3');
  if (options.dryRun && !options.fix) reporter.warn('--dry-run only matters with --fix; checking without changing anything');
  const concurrency = options.concurrency === undefined ? 16 : wholeNumber('--concurrency', options.concurrency, 1);
  const { S3MediaStore } = await import('../media/s3.js');
  const { verifyMedia } = await import('../media/verify.js');
  const store = await S3MediaStore.open(config.s3);
  const problems: VerifyProblem[] = [];
  const fixes: VerifyFix[] = [];
  const spinner = await reporter.spinner(`checking ${store.location}`);
  try {
    await store.check();
    const { summary } = await verifyMedia({
      store, filter: { sessions: options.session }, concurrency, fix: Boolean(options.fix), dryRun: Boolean(options.dryRun),
      now: new Date(), signal,
      onProblem: (problem) => problems.push(problem),
      onFix: (fix) => fixes.push(fix),
      onProgress: (s) => spinner.update(`${s.checked} checked, ${plural(s.problems, 'problem')}, ${s.fixed} fixed`),
    });
    spinner.stop();
    printVerify(reporter, store.location, { ...summary, retried: store.requestsRetried() }, problems, fixes, Boolean(options.dryRun));
    for (const status of ['checked', 'ok', 'errors', 'warnings', 'fixed'] as const) metrics.count(status, summary[status]);
    if (summary.errorsRemaining > 0) process.exitCode = 3;
  } finally {
    spinner.stop();
    await store.close();
  }
}

async function runVerifyPostgres({ options, config, reporter, signal, metrics }: CommandContext<VerifyFlags>): Promise<void> {
  metrics.setStore('postgres');
  if (options.fix) throw new UsageError('--fix repairs S3 metadata only: media verify postgres reports and changes nothing', { hint: 'run it without --fix' });
  const concurrency = options.concurrency === undefined ? undefined : wholeNumber('--concurrency', options.concurrency, 1);
  const { verifyPostgresMedia } = await import('../media/postgres-verify.js');
  const store = await openPostgres(config, concurrency);
  const problems: VerifyProblem[] = [];
  const spinner = await reporter.spinner(`checking ${store.location}`);
  try {
    await store.check();
    const { summary } = await verifyPostgresMedia({
      store, filter: { sessions: options.session }, now: new Date(), signal,
      onProblem: (problem) => problems.push(problem),
      onProgress: (s) => spinner.update(`${s.checked} checked, ${plural(s.problems, 'problem')}`),
    });
    spinner.stop();
    printVerify(reporter, store.location, { ...summary, retried: 0 }, problems, [], false);
    for (const status of ['checked', 'ok', 'errors', 'warnings'] as const) metrics.count(status, summary[status]);
    if (summary.errorsRemaining > 0) process.exitCode = 3;
  } finally {
    spinner.stop();
    await store.close();
  }
}

function printVerify(reporter: Reporter, location: string, summary: VerifySummary & { retried: number }, problems: VerifyProblem[], fixes: VerifyFix[], dryRun: boolean): void {
  if (reporter.json) {
    reporter.document({ location, summary, problems, fixes });
    return;
  }
  if (problems.length) {
    reporter.table(
      [{ header: 'severity' }, { header: 'key', fit: 'middle', min: 16 }, { header: 'problem', fit: 'wrap', min: 12 }, { header: 'detail', fit: 'wrap', min: 12 }],
      problems.map((p) => [p.severity, p.key, p.problem, p.detail]),
    );
  }
  for (const fix of fixes) {
    const set = Object.entries(fix.set).map(([name, value]) => `${name}=${value}`).join(', ');
    const verb = fix.status === 'planned' ? 'would fix' : fix.status === 'done' ? 'fixed' : 'fix failed';
    reporter.line(`${verb}: ${fix.key}: ${set}${fix.reason ? ` (${fix.reason})` : ''}`);
  }
  reporter.line(`Checked ${plural(summary.checked, 'object')} in ${location}: ${summary.ok} ok, ${plural(summary.errors, 'error')}, ${plural(summary.warnings, 'warning')}` +
    `${fixes.length ? `, ${summary.fixed} fixed${dryRun ? ` (dry run: ${plural(fixes.length, 'fix')} planned)` : ''}` : ''}` +
    `${summary.errorsRemaining ? `; ${plural(summary.errorsRemaining, 'error')} ${summary.errorsRemaining === 1 ? 'remains' : 'remain'}` : ''}` +
    `${summary.retried ? ` (${plural(summary.retried, 'request')} retried)` : ''}.`);
}

// ---------------------------------------------------------------------------------------------
// shared

function storeKind(word: string | undefined, config: Config): MediaStoreKind {
  if (word !== undefined) {
    const kind = word.toLowerCase();
    if (kind === 'local' || kind === 's3' || kind === 'postgres') return kind;
    if (kind === 'pg' || kind === 'postgresql') return 'postgres';
    throw new UsageError(`Unknown media store "${word}": use local, s3 or postgres`);
  }
  const storage = config.media.storage;
  return storage === 'S3' ? 's3' : storage === 'POSTGRESQL' ? 'postgres' : 'local';
}

/** verify checks metadata, which local files do not have: s3 unless told (or configured) postgres. */
function verifyKind(word: string | undefined, config: Config): 's3' | 'postgres' {
  const kind = word === undefined ? (config.media.storage === 'POSTGRESQL' ? 'postgres' : 's3') : storeKind(word, config);
  if (kind === 'local') throw new UsageError('media verify checks the metadata WAHA writes in S3 or PostgreSQL: local media files have none', { hint: 'use s3 or postgres' });
  return kind;
}

async function openStore(kind: MediaStoreKind, config: Config, options: CommonFlags): Promise<MediaStore> {
  const concurrency = options.concurrency === undefined ? undefined : wholeNumber('--concurrency', options.concurrency, 1);
  if (kind === 'local') {
    const { LocalMediaStore } = await import('../media/local.js');
    return new LocalMediaStore(config.media.mediaDir);
  }
  if (kind === 'postgres') return openPostgres(config, concurrency);
  const { S3MediaStore } = await import('../media/s3.js');
  return S3MediaStore.open(config.s3, { listConcurrency: concurrency });
}

async function openPostgres(config: Config, listConcurrency?: number): Promise<PostgresMediaStore> {
  const { PostgresMediaStore } = await import('../media/postgres.js');
  return PostgresMediaStore.open(config.media.postgresUrl, { sessionNamespace: config.media.sessionNamespace, listConcurrency });
}

function objectFilter(options: ListFlags, kind: MediaStoreKind): ObjectFilter {
  if (options.unusedFor !== undefined && kind !== 'postgres') {
    throw new UsageError(`--unused-for needs the time of each media file's last download, which only PostgreSQL media keeps (not ${kind})`, {
      hint: 'use --older-than, or media … postgres',
    });
  }
  return {
    olderThanSeconds: options.olderThan === undefined ? undefined : duration('--older-than', options.olderThan),
    largerThanBytes: options.largerThan === undefined ? undefined : size('--larger-than', options.largerThan),
    unusedForSeconds: options.unusedFor === undefined ? undefined : duration('--unused-for', options.unusedFor),
  };
}

function duration(flag: string, text: string): number {
  const seconds = parseDuration(text);
  if (seconds === undefined) throw new UsageError(`Invalid ${flag} "${text}": expected a duration like 180s, 15m, 36h, 7d or a number of seconds`);
  return seconds;
}

function size(flag: string, text: string): number {
  const bytes = parseSize(text);
  if (bytes === undefined) throw new UsageError(`Invalid ${flag} "${text}": expected a size like 500KB, 10MB, 1GiB or a number of bytes`);
  return bytes;
}

function wholeNumber(flag: string, text: string, min: number): number {
  const value = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`Invalid ${flag} "${text}": expected a whole number of at least ${min}`);
  }
  return value;
}
