import type { Command } from 'commander';
import type { Config } from '../config/config.js';
import { formatBytes, formatDuration, parseDuration, parseSize } from '../config/units.js';
import { ExitCode, OperationError, UsageError } from '../errors.js';
import type { CleanSummary } from '../media/clean.js';
import type { MediaObject, MediaStore, MediaStoreKind, ObjectFilter } from '../media/store.js';
import type { VerifyFix, VerifyProblem, VerifySummary } from '../media/verify.js';
import { action, addOutputOptions, addSettingOptions, sessionOption, yesOption, type CommandContext } from './options.js';
import type { Reporter } from './reporter.js';
import { Progress } from './progress.js';

interface CommonFlags {
  session?: string[];
  concurrency?: string;
}

interface ListFlags extends CommonFlags {
  olderThan?: string;
  largerThan?: string;
  includeDotfiles?: boolean;
}

interface CleanFlags extends ListFlags {
  maxDelete?: string;
  dryRun?: boolean;
  yes?: boolean;
  wait?: boolean;
  keepEmptyDirs?: boolean;
}

interface VerifyFlags extends CommonFlags {
  fix?: boolean;
  dryRun?: boolean;
}

const STORE_ARGUMENT = ['[store]', 'local (the media folder) or s3 (the bucket); default: --media-storage / WAHA_MEDIA_STORAGE'] as const;

export function registerMedia(program: Command): void {
  const media = program
    .command('media')
    .description('list, clean up and check WAHA media in the local media folder or the S3 bucket');

  const list = media
    .command('list')
    .description('list media objects with session, key, size and modified time, then totals per session')
    .argument(...STORE_ARGUMENT);
  addFilterOptions(list);
  addCommonOptions(list);
  list.addHelpText('after', `
Output: a table on stdout, then totals per session and overall.
With --json on a terminal: one document {"schemaVersion":1,"objects":[...],"summary":{...}}.
With --json when stdout is NOT a terminal (piped, redirected): NDJSON, one JSON object a line, so any
size streams: first a header {"schemaVersion":1,"type":"header",...}, then one line per object
{"session","key","bytes","modifiedAt"}, last {"type":"summary","summary":{"count","bytes","sessions":{...}}}.
Ages come from the file's mtime (local) or the listing's LastModified (S3).`);
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
    .option('--keep-empty-dirs', 'local: keep session folders this run left empty');
  addCommonOptions(clean);
  clean.addHelpText('after', `
Deletes what is older than --older-than, by default the media lifetime (--lifetime /
WHATSAPP_FILES_LIFETIME). With lifetime 0 (WAHA keeps media forever) it refuses unless --older-than
is given; for S3 (where WAHA itself never deletes) the lifetime must be set explicitly or --older-than given.
No question is asked, on a terminal or not: a cleanup by age is routine. With --max-delete, the store
is counted first; when more would go, nothing is deleted: on a terminal you are asked, otherwise the
run stops with exit 1 (--yes does not lift the cap without a terminal).
One clean at a time per store: a lock file in the media folder (local) or in the system temp folder
(S3, keyed by endpoint and bucket); a second run exits 1 unless --wait.
JSON: {"schemaVersion":1,"summary":{"matched","deleted","failed","bytes","vanished","scanned"},"failures":[...]}.
Exit codes: 0 done, 1 failed (nothing deleted, lock held, --max-delete exceeded), 2 bad usage or
configuration, 3 some objects could not be deleted (the rest were), 130 interrupted.`);
  clean.action(action<CleanFlags>(async (context, store?: string) => runClean(context, store)));

  const verify = media
    .command('verify')
    .description("check the metadata WAHA writes on each S3 object (one HEAD per object); --fix repairs what the key tells")
    .addOption(sessionOption('only this session (repeatable)'))
    .option('--fix', 'rewrite derivable metadata (CopyObject onto itself, keeping content, content type and other metadata)')
    .option('--dry-run', 'with --fix: list the fixes, change nothing')
    .addOption(yesOption('accepted for scripts: --fix asks nothing (it rewrites only metadata the key tells)'));
  addCommonOptions(verify, 16);
  verify.addHelpText('after', `
Problems (errors): key-layout (not <session>/<file>), session-missing, session-mismatch,
message-id-missing, message-id-mismatch (fixable), created-at-invalid, created-at-future.
Warnings: chat-id-missing (WAHA before 2025.1.4), file-name-docs-spelling (waha-media-file-name
instead of waha-media-filename; fixable), content-type-mismatch.
JSON: {"schemaVersion":1,"summary":{"checked","ok","problems","errors","warnings","fixed","errorsRemaining"},
"problems":[{"key","problem","severity","detail","fixable"}],"fixes":[{"key","set","status"}]}.
Exit codes: 0 no errors (warnings allowed), 1 failed, 2 bad usage, 3 errors remain.`);
  verify.action(action<VerifyFlags>(async (context) => runVerify(context)));
}

function addFilterOptions(command: Command): void {
  command
    .addOption(sessionOption('only this session (repeatable)'))
    .option('--older-than <duration>', 'only objects modified at least this long ago (180s, 15m, 36h, 7d)')
    .option('--larger-than <size>', 'only objects larger than this (10MB, 1GiB)')
    .option('--include-dotfiles', 'local: include files and folders whose name starts with "."');
}

function addCommonOptions(command: Command, defaultConcurrency?: number): void {
  command.option('--concurrency <n>', defaultConcurrency
    ? `HeadObject requests in flight (default: ${defaultConcurrency})`
    : 's3: session prefixes listed at once (default: 8); local: one thread lists while a second one unlinks');
  addSettingOptions(command, ['media', 's3']);
  addOutputOptions(command);
}

// ---------------------------------------------------------------------------------------------
// list

async function runList({ options, config, reporter, signal, metrics }: CommandContext<ListFlags>, word?: string): Promise<void> {
  const filter = objectFilter(options);
  const store = await openStore(storeKind(word, config), config, options);
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
  // Rows are printed as they come (a bucket may hold millions), in fixed-width columns.
  let header = false;
  return {
    object: (object) => {
      if (!header) {
        reporter.line(reporter.paint('bold', `${'MODIFIED'.padEnd(24)}  ${'BYTES'.padStart(10)}  ${'SESSION'.padEnd(20)}  KEY`));
        header = true;
      }
      reporter.line(`${object.modifiedAt.toISOString().padEnd(24)}  ${formatBytes(object.bytes).padStart(10)}  ${(object.session ?? '-').padEnd(20)}  ${object.key}`);
    },
    end: (totals) => {
      if (!totals.count) {
        reporter.line(`No media objects found in ${store.location}.`);
        return;
      }
      reporter.line();
      const rows = [...totals.sessions].map(([name, entry]) => [name ?? '(no session)', entry.count, formatBytes(entry.bytes)]);
      rows.push(['total', totals.count, formatBytes(totals.bytes)]);
      reporter.table(['session', 'objects', 'size'], rows);
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
  const filter: ObjectFilter = { ...objectFilter(options), olderThanSeconds: cleanAge(kind, options, config) };
  const maxDelete = options.maxDelete === undefined ? undefined : wholeNumber('--max-delete', options.maxDelete, 0);
  const dryRun = Boolean(options.dryRun);
  const { cleanMedia, countMatches } = await import('../media/clean.js');
  const { acquireCleanLock } = await import('../media/lock.js');
  const store = await openStore(kind, config, options);
  const listFilter = { sessions: options.session, includeDotfiles: options.includeDotfiles };
  const what = `older than ${formatDuration(filter.olderThanSeconds!)}${filter.largerThanBytes !== undefined ? ` and larger than ${formatBytes(filter.largerThanBytes)}` : ''}`;
  let release: (() => Promise<void>) | undefined;
  const spinner = await Progress.start(reporter, { title: `cleaning ${store.location}`, unit: dryRun ? 'match' : 'deleted' });
  try {
    await store.check();
    if (!dryRun) {
      release = await acquireCleanLock(store, {
        wait: options.wait, signal,
        onCompromised: (error) => reporter.warn(`the clean lock was lost (${error.message}); another run may start`),
      });
    }
    const now = new Date();
    const context = { dryRun, what, location: store.location };
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
        const counted = `${plan.matched} objects (${formatBytes(plan.bytes)}) ${what} in ${store.location}`;
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
      onProgress: (p) => {
        spinner.planning(`${dryRun ? 'dry run: ' : ''}${p.scanned} scanned, ${p.matched} match, ${p.deleted} deleted`);
        spinner.set(dryRun ? p.matched : p.deleted, p.bytes);
      },
      onFailure: (failure) => reporter.debug(`not ${failure.key.endsWith('/') ? 'read' : 'deleted'}: ${failure.key}: ${failure.reason}`),
    });
    spinner.stop();
    // After an interrupt too: what is gone is counted exactly (batches in flight were let finish).
    printCleanSummary(reporter, result.summary, result.failures, { ...context, interrupted: result.interrupted });
    const { summary } = result;
    for (const status of ['scanned', 'matched', 'deleted', 'vanished', 'failed', 'unreadable'] as const) metrics.count(status, summary[status]);
    metrics.bytes(dryRun ? 'planned' : 'deleted', summary.bytes);
    if (summary.unreadable) {
      const first = result.failures.find((failure) => failure.key.endsWith('/'));
      reporter.error(`${summary.unreadable} folder${summary.unreadable === 1 ? '' : 's'} could not be read, so nothing in ${summary.unreadable === 1 ? 'it' : 'them'} was cleaned (first: ${first?.key}: ${first?.reason}); the other folders were cleaned`);
    }
    if (summary.failed) {
      const first = result.failures.find((failure) => !failure.key.endsWith('/'));
      reporter.error(`${summary.failed} of ${summary.matched} objects could not be deleted (first: ${first?.key}: ${first?.reason})`);
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
function cleanAge(kind: MediaStoreKind, options: CleanFlags, config: Config): number {
  if (options.olderThan !== undefined) return duration('--older-than', options.olderThan);
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
  return lifetime;
}

interface CleanContext {
  dryRun: boolean;
  what: string;
  location: string;
  interrupted: boolean;
}

function printCleanSummary(reporter: Reporter, summary: CleanSummary, failures: { key: string; reason: string }[], context: CleanContext): void {
  if (reporter.json) {
    reporter.document({
      dryRun: context.dryRun,
      interrupted: context.interrupted,
      location: context.location,
      summary: {
        matched: summary.matched, deleted: summary.deleted, failed: summary.failed, bytes: summary.bytes, vanished: summary.vanished,
        scanned: summary.scanned, unreadable: summary.unreadable,
      },
      failures,
    });
    return;
  }
  for (const failure of failures.slice(0, 20)) reporter.warn(`not ${failure.key.endsWith('/') ? 'read' : 'deleted'}: ${failure.key}: ${failure.reason}`);
  if (failures.length > 20) reporter.warn(`... and ${summary.failed + summary.unreadable - 20} more (--json lists up to 1,000)`);
  const scanned = `${summary.scanned} scanned`;
  const stopped = context.interrupted ? 'Interrupted: ' : '';
  if (context.dryRun) {
    reporter.line(`${stopped}Dry run: would delete ${summary.matched} objects (${formatBytes(summary.bytes)}) ${context.what} from ${context.location}; ${scanned}. Nothing was deleted.`);
    return;
  }
  const extra = [
    scanned, summary.vanished ? `${summary.vanished} already gone` : '', summary.failed ? `${summary.failed} failed` : '',
    summary.unreadable ? `${summary.unreadable} folder${summary.unreadable === 1 ? '' : 's'} unreadable` : '',
  ].filter(Boolean).join(', ');
  reporter.line(`${stopped}Deleted ${summary.deleted} of ${summary.matched} objects (${formatBytes(summary.bytes)}) ${context.what} from ${context.location}; ${extra}.`);
  if (context.interrupted) reporter.line('The rest was not looked at; run the same command again to continue.');
}

// ---------------------------------------------------------------------------------------------
// verify

async function runVerify({ options, config, reporter, signal, metrics }: CommandContext<VerifyFlags>): Promise<void> {
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
      onProgress: (s) => spinner.update(`${s.checked} checked, ${s.problems} problems, ${s.fixed} fixed`),
    });
    spinner.stop();
    printVerify(reporter, store.location, summary, problems, fixes, Boolean(options.dryRun));
    for (const status of ['checked', 'ok', 'errors', 'warnings', 'fixed'] as const) metrics.count(status, summary[status]);
    if (summary.errorsRemaining > 0) process.exitCode = 3;
  } finally {
    spinner.stop();
    await store.close();
  }
}

function printVerify(reporter: Reporter, location: string, summary: VerifySummary, problems: VerifyProblem[], fixes: VerifyFix[], dryRun: boolean): void {
  if (reporter.json) {
    reporter.document({ location, summary, problems, fixes });
    return;
  }
  if (problems.length) {
    reporter.table(['severity', 'key', 'problem', 'detail'], problems.map((p) => [p.severity, p.key, p.problem, p.detail]));
  }
  for (const fix of fixes) {
    const set = Object.entries(fix.set).map(([name, value]) => `${name}=${value}`).join(', ');
    const verb = fix.status === 'planned' ? 'would fix' : fix.status === 'done' ? 'fixed' : 'fix failed';
    reporter.line(`${verb}: ${fix.key}: ${set}${fix.reason ? ` (${fix.reason})` : ''}`);
  }
  reporter.line(`Checked ${summary.checked} objects in ${location}: ${summary.ok} ok, ${summary.errors} errors, ${summary.warnings} warnings` +
    `${fixes.length ? `, ${summary.fixed} fixed${dryRun ? ` (dry run: ${fixes.length} fixes planned)` : ''}` : ''}` +
    `${summary.errorsRemaining ? `; ${summary.errorsRemaining} errors remain` : ''}.`);
}

// ---------------------------------------------------------------------------------------------
// shared

function storeKind(word: string | undefined, config: Config): MediaStoreKind {
  if (word !== undefined) {
    const kind = word.toLowerCase();
    if (kind === 'local' || kind === 's3') return kind;
    throw new UsageError(`Unknown media store "${word}": use local or s3`);
  }
  const storage = config.media.storage;
  if (storage === 'POSTGRESQL') {
    throw new UsageError('WAHA_MEDIA_STORAGE is POSTGRESQL: media kept in PostgreSQL is not supported by waha-storage', {
      hint: 'name the store to use instead: local or s3',
    });
  }
  return storage === 'S3' ? 's3' : 'local';
}

async function openStore(kind: MediaStoreKind, config: Config, options: CommonFlags): Promise<MediaStore> {
  const concurrency = options.concurrency === undefined ? undefined : wholeNumber('--concurrency', options.concurrency, 1);
  if (kind === 'local') {
    const { LocalMediaStore } = await import('../media/local.js');
    return new LocalMediaStore(config.media.mediaDir);
  }
  const { S3MediaStore } = await import('../media/s3.js');
  return S3MediaStore.open(config.s3, { listConcurrency: concurrency });
}

function objectFilter(options: ListFlags): ObjectFilter {
  return {
    olderThanSeconds: options.olderThan === undefined ? undefined : duration('--older-than', options.olderThan),
    largerThanBytes: options.largerThan === undefined ? undefined : size('--larger-than', options.largerThan),
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
