/**
 * `waha-storage messages prune`: deletes WAHA's message history (NOWEB `messages`, GOWS
 * `gows_messages`) older than --older-than, in batches, while WAHA runs. The core is src/messages/.
 */
import { createRequire } from 'node:module';
import type { Command } from 'commander';
import { formatBytes, parseDuration } from '../config/units.js';
import { ExitCode, OperationError, UsageError } from '../errors.js';
import { parseEngines, type Engine } from '../sessions/engines.js';
import { parseChat, chatOf, type PruneCriteria } from '../messages/criteria.js';
import { DEFAULT_BATCH_SIZE, freedBytes as freed, type PlannedPrune, type TableResult } from '../messages/prune.js';
import { passphraseFor } from './backup.js';
import { confirmDestructive } from './confirm.js';
import { addHelp } from './help.js';
import { action, addOutputOptions, addSettingOptions, collect, engineOption, parsePositiveInt, sessionOption, storeTimeoutOption, yesOption, type CommandContext } from './options.js';
import type { Reporter } from './reporter.js';
import { openSessionStore, parseStoreWord, requireSessionsDir, type StoreWord } from './session-stores.js';
import { plural } from '../util/plural.js';

interface PruneFlags {
  olderThan?: string;
  session?: string[];
  engine?: string[];
  chat?: string[];
  dryRun?: boolean;
  yes?: boolean;
  backup?: string;
  encrypt?: boolean;
  passphraseFile?: string;
  force?: boolean;
  maxDelete?: number;
  vacuum?: boolean;
  batchSize?: number;
  timeout?: number;
}

const TOOL = { name: 'waha-storage', version: (createRequire(import.meta.url)('../../package.json') as { version: string }).version };

export function registerMessages(program: Command): void {
  const messages = program
    .command('messages')
    .description("WAHA's message history (NOWEB's store, GOWS's gows_messages): prune what is older than an age");
  addHelp(messages, 'Only the message-history tables are ever changed; auth, contacts, chats, groups and labels are never touched.', [
    ['what deleting messages older than 90 days would delete', 'waha-storage messages prune local --older-than 90d --dry-run'],
    ['nightly from cron: PostgreSQL, one year kept, a backup of the sessions first', 'waha-storage messages prune postgres --older-than 365d --backup /backups/before-prune.tar.gz --yes --quiet'],
  ]);

  const prune = messages
    .command('prune')
    .description('delete message-history rows older than --older-than, in batches, while WAHA runs; cron-ready')
    .argument('<store>', 'local, mongo or postgres (pg)')
    .requiredOption('--older-than <duration>', "delete messages older than this by WAHA's own timestamp (36h, 30d, 90d, or seconds)")
    .addOption(sessionOption('only this session (repeatable; default: every NOWEB and GOWS session)'))
    .addOption(engineOption())
    .option('--chat <jid>', 'only this chat (repeatable): 491701234567@c.us, ...@g.us, ...@lid', (value: string, previous?: string[]) => collect(parseChat(value), previous))
    .option('--dry-run', 'count and show what would be deleted; delete nothing (same totals)')
    .addOption(yesOption('do not ask (needed without a terminal)'))
    .option('--max-delete <n>', 'refuse (exit 2, nothing deleted) when more than n rows would go: a safety net for cron', parsePositiveInt('--max-delete'))
    .option('--backup <file>', 'first back up the affected sessions into this archive and verify it; delete nothing if that fails')
    .option('--encrypt', 'encrypt the --backup archive with age')
    .option('--passphrase-file <path>', 'passphrase for --encrypt (else WAHA_STORAGE_BACKUP_PASSPHRASE or a prompt)')
    .option('--force', 'let --backup copy sessions that look in use (WAHA running)')
    .option('--vacuum', 'then give the space back to the disk: VACUUM (SQLite) / VACUUM FULL (PostgreSQL); refused while WAHA uses a session')
    .option('--batch-size <n>', 'rows per delete, each its own short transaction (default: 2000)', parsePositiveInt('--batch-size'))
    .addOption(storeTimeoutOption());
  addSettingOptions(prune, ['sessions', 'mongo', 'postgres']);
  addOutputOptions(prune);
  addHelp(prune, `
What goes: rows older than the cutoff by WAHA's own column: NOWEB "messages"."messageTimestamp"
(Unix seconds) in <session>/store.sqlite3 or the session database (MongoDB, PostgreSQL); GOWS
"gows_messages"."timestamp" in <session>/gows.db or the PostgreSQL session database (GOWS does not run
on MongoDB). Nothing else is ever deleted: not auth, contacts, chats, groups or labels.
Safe while WAHA runs: each batch (--batch-size rows) is its own short transaction, found first
without any lock and then deleted by row id (rechecking the age); SQLite waits for WAHA's writes with
a busy timeout (15 s) and never holds the write lock longer than one batch; PostgreSQL uses a lock
timeout (10 s). One prune at a time per store (a lock file in the sessions dir; a PostgreSQL advisory
lock; for MongoDB a lock file on this host). Ctrl-C stops after the batch in flight: the summary then
counts exactly the rows deleted, and a rerun continues.
Space: deleted rows free space inside the file or table, which WAHA reuses; only VACUUM gives it back
to the disk (SQLite VACUUM; PostgreSQL VACUUM FULL). --vacuum runs it after the prune, and only when
WAHA is stopped: the liveness guard (recent writes in the session folder; WAHA's PostgreSQL
connections) refuses before anything is deleted. MongoDB: --vacuum is not available.
Without a terminal it refuses unless --yes. --dry-run gives the same totals and deletes nothing.
JSON: {"schemaVersion":1,"store","olderThan","cutoff","dryRun","interrupted","backup","chats":[{"jid","planned"}],
"sessions":[{"engine","name","table","location","status","rows","planned","deleted","unreadable","bytesDeleted",
"freedBytes","bytesBefore","bytesAfter","vacuumed"}],"summary":{"tables","planned","deleted","failed","bytesDeleted","freedBytes"}}.
Exit codes: 0 done (or nothing to delete), 1 failed (nothing deleted: lock held, backup failed, WAHA
running with --vacuum), 2 usage (also: no terminal and no --yes, more than --max-delete), 3 some
tables failed, 130 interrupted.`, [
    ['what would go: messages older than 90 days in every local session', 'waha-storage messages prune local --older-than 90d --dry-run'],
    ['from cron: PostgreSQL, 30 days, at most 1,000,000 rows, silent unless it fails', 'waha-storage messages prune postgres --older-than 30d --max-delete 1000000 --yes --quiet'],
    ['one chat of one session, after a backup', 'waha-storage messages prune local -s alpha --chat 491701234567@c.us --older-than 7d --backup alpha.tar.gz --yes'],
    ['with WAHA stopped: prune and give the space back to the disk', 'waha-storage messages prune local --older-than 180d --vacuum --yes'],
  ]);
  prune.action(action<PruneFlags>(async (context, storeWord: string) => runPrune(context, storeWord)));
}

async function runPrune({ options, config, reporter, signal, metrics }: CommandContext<PruneFlags>, storeWord: string): Promise<void> {
  const word = parseStoreWord(storeWord);
  const seconds = parseDuration(options.olderThan ?? '');
  if (seconds === undefined) throw new UsageError(`Invalid --older-than "${options.olderThan}": expected a duration like 36h, 30d or a number of seconds`);
  if (options.encrypt && !options.backup) throw new UsageError('--encrypt applies to --backup <file>', { hint: 'add --backup <file>' });
  if (options.vacuum && word === 'mongo') throw new UsageError('--vacuum is for SQLite and PostgreSQL: MongoDB reuses the space itself', { hint: 'run it without --vacuum' });
  if (options.vacuum && options.dryRun) reporter.warn('--vacuum does nothing with --dry-run');
  const engines = parseEngines(options.engine);
  const timeoutMs = options.timeout ?? 5000;
  const criteria: PruneCriteria = { cutoff: new Date(Date.now() - seconds * 1000), chats: options.chat?.length ? [...new Set(options.chat)] : undefined };
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (options.backup) {
    const { checkOutputPath } = await import('../sessions/stores/archive/backup.js');
    checkOutputPath(options.backup, { flag: '--backup' });
  }
  if (word === 'local') requireSessionsDir(config.sessions.sessionsDir, { mustExist: true });
  const { findMessageTables } = await import('../messages/targets.js');
  const { planPrune, executePrune, finishPrune } = await import('../messages/prune.js');
  if (word === 'local') reporter.pathsRelativeTo(config.sessions.sessionsDir);
  const dryRun = Boolean(options.dryRun);
  // a dry run takes no lock and opens everything read-only: it can run beside a real prune
  const release = dryRun ? undefined : await (await import('../messages/lock.js')).acquirePruneLock({
    store: word, settings: config.sessions, timeoutMs, onCompromised: (error) => reporter.warn(`the prune lock was lost: ${error.message}`),
  });
  const context: RenderContext = { store: word, olderThan: options.olderThan!, criteria, dryRun, backup: null, interrupted: false };
  try {
    const found = await findMessageTables({ store: word, settings: config.sessions, engines, names: options.session, readOnly: dryRun, timeoutMs });
    try {
      if (options.vacuum && !dryRun) await refuseWhileLive(config, word, found.sessions, timeoutMs);
      const spinner = await reporter.spinner(`counting messages older than ${options.olderThan} in ${plural(found.tables.length, 'table')}`);
      const planned = await planPrune(found.tables, criteria).finally(() => spinner.stop());
      for (const session of found.without) if (options.session?.includes(session.name)) reporter.warn(`${session.name}: no message history in ${word} (the NOWEB store is off, or the session never kept any)`);
      warnUnmatchedChats(reporter, planned);
      if (dryRun || planned.planned === 0) {
        // nothing older than the cutoff: a finished run that deleted nothing
        if (!dryRun) for (const result of planned.results) if (result.status === 'planned') Object.assign(result, { status: 'done', spaceAfter: result.spaceBefore });
        render(reporter, planned, context);
        count(metrics, planned);
        failIfAny(planned);
        return;
      }
      if (options.maxDelete !== undefined && planned.planned > options.maxDelete) {
        render(reporter, planned, { ...context, dryRun: true, refused: true });
        throw new UsageError(`${plural(planned.planned, 'message')} would be deleted, more than --max-delete ${options.maxDelete}; nothing was deleted`, {
          hint: 'raise --max-delete, narrow it (--older-than, --session, --chat), or check with --dry-run',
        });
      }
      if (reporter.interactive && !options.yes && !reporter.json) showPlan(reporter, planned);
      const affected = planned.results.filter((result) => result.plan.planned > 0);
      await confirmDestructive(reporter, {
        question: `Delete ${plural(planned.planned, 'message')} older than ${options.olderThan} (before ${criteria.cutoff.toISOString()}) from ${plural(affected.length, 'table')} in ${word}?`,
        yes: options.yes, what: 'messages prune', signal,
      });
      if (options.backup) context.backup = await backupFirst(options, config, word, affected, reporter, signal);
      if (signal.aborted) throw new OperationError('interrupted before anything was deleted');
      const progress = await reporter.spinner('deleting');
      await executePrune(planned, {
        batchSize, signal,
        onProgress: (deleted, total, result) => progress.update(`deleted ${deleted.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} (${result.table.session} ${result.table.table})`),
      }).finally(() => progress.stop());
      context.interrupted = signal.aborted;
      await finishPrune(planned, { vacuum: Boolean(options.vacuum) && !signal.aborted });
      render(reporter, planned, context);
      count(metrics, planned);
      if (signal.aborted) process.exitCode = ExitCode.interrupted;
      else failIfAny(planned);
    } finally {
      await found.close();
    }
  } finally {
    await release?.().catch(() => undefined);
  }
}

/** --vacuum needs WAHA stopped: any session it is seen using refuses the run before anything is deleted. */
async function refuseWhileLive(config: Parameters<typeof openSessionStore>[0], word: StoreWord, sessions: readonly { engine: Engine | null; name: string }[], timeoutMs: number): Promise<void> {
  const store = await openSessionStore(config, word, timeoutMs);
  try {
    for (const session of sessions) {
      const evidence = await store.liveness(session, Date.now());
      if (evidence) {
        throw new OperationError(`--vacuum needs WAHA stopped, and it is using session "${session.name}" (${evidence}); nothing was deleted`, {
          hint: 'stop WAHA first, or prune without --vacuum (WAHA reuses the freed space itself)',
        });
      }
    }
  } finally {
    await store.close().catch(() => undefined);
  }
}

async function backupFirst(options: PruneFlags, config: Parameters<typeof openSessionStore>[0], word: StoreWord, affected: readonly TableResult[], reporter: Reporter, signal: AbortSignal) {
  const file = options.backup!;
  const { backup } = await import('../sessions/stores/archive/backup.js');
  const names = [...new Set(affected.map((result) => result.table.session))];
  const engines = [...new Set(affected.map((result) => result.table.engine))];
  const passphrase = options.encrypt ? await passphraseFor(options, reporter, { confirm: true }) : undefined;
  const source = await openSessionStore(config, word, options.timeout ?? 5000);
  let result;
  try {
    result = await backup({ source, output: { kind: 'file', path: file }, engines, names, force: options.force, passphrase, tool: TOOL, signal });
  } catch (error) {
    throw new OperationError(`The backup before pruning failed: ${(error as Error).message}; nothing was deleted`, { hint: 'fix the backup first (or prune without --backup)' });
  } finally {
    await source.close().catch(() => undefined);
  }
  if (result.interrupted) throw new OperationError('The backup before pruning was interrupted; nothing was deleted');
  const failed = result.sessions.filter((session) => session.status !== 'done');
  if (failed.length || !result.verified || result.verified.problems.length || result.sessions.length !== names.length) {
    await import('node:fs/promises').then(({ rm }) => rm(file, { force: true }));
    const first = failed[0];
    throw new OperationError(`The backup before pruning is incomplete${first ? ` (${first.name}: ${first.reason}${first.message ? `: ${first.message}` : ''})` : ''}; nothing was deleted`, {
      hint: first?.reason === 'in-use' ? 'WAHA is using the session: add --force to back it up anyway' : 'fix that session and run again',
    });
  }
  reporter.info(`backed up ${plural(names.length, 'session')} to ${file} and verified it`);
  return { file, sessions: names.length };
}

interface RenderContext {
  store: StoreWord;
  olderThan: string;
  criteria: PruneCriteria;
  dryRun: boolean;
  backup: { file: string; sessions: number } | null;
  interrupted: boolean;
  /** Over --max-delete: the plan is shown, nothing was deleted. */
  refused?: boolean;
}

function sessionRecord(result: TableResult) {
  return {
    engine: result.table.engine, name: result.table.session, table: result.table.table, location: result.table.location,
    status: result.status, ...(result.error ? { reason: 'failed', message: result.error.message } : {}),
    rows: result.plan.rows, planned: result.plan.planned, deleted: result.deleted, unreadable: result.plan.unreadable,
    bytesDeleted: result.bytesDeleted, freedBytes: freed(result),
    bytesBefore: result.spaceBefore.bytes, bytesAfter: result.spaceAfter?.bytes ?? null,
    ...(result.spaceBefore.freeBytes !== undefined ? { freeBytesBefore: result.spaceBefore.freeBytes, freeBytesAfter: result.spaceAfter?.freeBytes ?? null } : {}),
    vacuumed: result.vacuumed,
  };
}

function summaryOf(planned: PlannedPrune) {
  const sum = (pick: (result: TableResult) => number) => planned.results.reduce((total, result) => total + pick(result), 0);
  return {
    tables: planned.results.length,
    planned: planned.planned,
    deleted: sum((result) => result.deleted),
    failed: planned.results.filter((result) => result.status === 'failed').length,
    untouched: planned.results.filter((result) => result.status === 'untouched').length,
    bytesDeleted: sum((result) => result.bytesDeleted),
    freedBytes: sum(freed),
  };
}

function chatTotals(planned: PlannedPrune): { jid: string; planned: number }[] {
  const chats = planned.criteria.chats ?? [];
  const totals = new Map(chats.map((chat) => [chat, 0]));
  for (const result of planned.results) {
    for (const [jid, n] of result.plan.byJid) {
      const chat = chatOf(jid, chats);
      if (chat) totals.set(chat, totals.get(chat)! + n);
    }
  }
  return [...totals].map(([jid, n]) => ({ jid, planned: n }));
}

function warnUnmatchedChats(reporter: Reporter, planned: PlannedPrune): void {
  for (const chat of chatTotals(planned)) if (chat.planned === 0) reporter.warn(`--chat ${chat.jid}: no message older than the cutoff in this chat (in ${plural(planned.results.length, 'table')})`);
}

function render(reporter: Reporter, planned: PlannedPrune, context: RenderContext): void {
  const summary = summaryOf(planned);
  if (reporter.json) {
    reporter.document({
      command: 'messages prune', store: context.store, olderThan: context.olderThan, cutoff: context.criteria.cutoff.toISOString(),
      dryRun: context.dryRun, interrupted: context.interrupted, ...(context.refused ? { refused: 'max-delete' } : {}), backup: context.backup,
      ...(context.criteria.chats ? { chats: chatTotals(planned) } : {}),
      sessions: planned.results.map(sessionRecord), summary,
    });
    return;
  }
  for (const result of planned.results) if (result.error) reporter.warn(`${result.table.session} (${result.table.table}): ${result.error.message}`);
  if (!planned.results.length) {
    reporter.line(`No message history in ${context.store}: no NOWEB store or GOWS messages table in the sessions selected.`);
    return;
  }
  const done = !context.dryRun;
  reporter.table(
    [
      { header: 'engine' }, { header: 'session', fit: 'wrap', min: 8 }, { header: 'table' },
      { header: 'rows', align: 'right', drop: 2 }, { header: done ? 'deleted' : 'would delete', align: 'right' },
      ...(done ? [{ header: 'freed', align: 'right' as const }, { header: 'size before → after', align: 'right' as const, drop: 1 }, { header: 'status', fit: 'wrap' as const, min: 8 }] : [{ header: 'size', align: 'right' as const, drop: 1 }]),
    ],
    planned.results.map((result) => [
      result.table.engine, result.table.session, result.table.table, result.plan.rows.toLocaleString('en-US'),
      done ? `${result.deleted.toLocaleString('en-US')} of ${result.plan.planned.toLocaleString('en-US')}` : result.plan.planned.toLocaleString('en-US'),
      ...(done ? [formatBytes(freed(result)), `${formatBytes(result.spaceBefore.bytes)} → ${result.spaceAfter ? formatBytes(result.spaceAfter.bytes) : '?'}${result.vacuumed ? ' (vacuumed)' : ''}`, result.status]
        : [formatBytes(result.spaceBefore.bytes)]),
    ]),
  );
  const unreadable = planned.results.reduce((sum, result) => sum + result.plan.unreadable, 0);
  if (unreadable) reporter.warn(`${plural(unreadable, 'row')} with a timestamp that is not a time were kept`);
  const before = context.criteria.cutoff.toISOString();
  if (!done) {
    reporter.line(`${context.refused ? 'Refused' : 'Dry run'}: would delete ${plural(summary.planned, 'message')} older than ${context.olderThan} (before ${before}) from ${plural(summary.tables, 'table')} in ${context.store}; nothing was deleted.`);
    return;
  }
  const stopped = context.interrupted ? 'Interrupted: ' : '';
  reporter.line(`${stopped}Deleted ${summary.deleted.toLocaleString('en-US')} of ${summary.planned.toLocaleString('en-US')} ${summary.planned === 1 ? 'message' : 'messages'} older than ${context.olderThan} (before ${before}) in ${context.store}; ${formatBytes(summary.freedBytes)} freed${summary.failed ? `; ${summary.failed} failed` : ''}.`);
  if (context.interrupted) reporter.line('The rest was not deleted; run the same command again to continue.');
  const vacuumed = planned.results.some((result) => result.vacuumed);
  if (context.store === 'mongo') return;
  if (vacuumed) reporter.line('VACUUM ran: the freed space went back to the disk.');
  else if (summary.deleted) {
    reporter.line(`The freed space stays inside the ${context.store === 'local' ? 'database files' : 'tables'}, where WAHA reuses it; only ${context.store === 'local' ? 'VACUUM' : 'VACUUM FULL'} returns it to the disk: stop WAHA and run again with --vacuum.`);
  }
}

function showPlan(reporter: Reporter, planned: PlannedPrune): void {
  reporter.table(
    [{ header: 'engine' }, { header: 'session', fit: 'wrap', min: 8 }, { header: 'table' }, { header: 'rows', align: 'right' }, { header: 'would delete', align: 'right' }, { header: 'size', align: 'right' }],
    planned.results.filter((result) => result.plan.planned > 0).map((result) => [
      result.table.engine, result.table.session, result.table.table, result.plan.rows.toLocaleString('en-US'), result.plan.planned.toLocaleString('en-US'), formatBytes(result.spaceBefore.bytes),
    ]),
  );
}

function count(metrics: CommandContext<PruneFlags>['metrics'], planned: PlannedPrune): void {
  const summary = summaryOf(planned);
  metrics.count('planned', summary.planned);
  metrics.count('deleted', summary.deleted);
  metrics.count('failed', summary.failed);
  metrics.bytes('freed', summary.freedBytes);
}

function failIfAny(planned: PlannedPrune): void {
  const summary = summaryOf(planned);
  if (!summary.failed) return;
  process.exitCode = summary.deleted || planned.results.some((result) => result.status === 'done') ? ExitCode.partial : ExitCode.failed;
}
