import { createReadStream, existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import { Option, type Command } from 'commander';
import { registerSecret } from '../config/redact.js';
import { formatBytes } from '../config/units.js';
import { ExitCode, OperationError, UsageError } from '../errors.js';
import { parseEngines } from '../sessions/engines.js';
import type { SessionStore } from '../sessions/stores/types.js';
import type { SessionOutcome, TransferResult } from '../sessions/transfer.js';
import type { ArchiveReport } from '../sessions/stores/archive/reader.js';
import { registerBackupPrune } from './backup-prune.js';
import { countSessions } from './metrics.js';
import { Progress, transferProgress } from './progress.js';
import { expandTimePlaceholders, now } from './clock.js';
import { requireNamed, requireNamedIn } from '../sessions/selection.js';
import { confirmDestructive, prompting } from './confirm.js';
import { openSessionStore, parseLayout, parseStoreWord } from './session-stores.js';
import { storeOf } from '../sessions/stores/registry.js';
import { action, addOutputOptions, addSettingOptions, concurrencyOption, engineOption, parsePositiveInt, sessionOption, skipMessagesOption, storeTimeoutOption, yesOption } from './options.js';
import type { Reporter } from './reporter.js';
import { addHelp } from './help.js';
import { progressLine, transferSummary, transferTable } from './transfer-table.js';
import { plural } from '../util/plural.js';


export const PASSPHRASE_ENV = 'WAHA_STORAGE_BACKUP_PASSPHRASE';
const TOOL = { name: 'waha-storage', version: (createRequire(import.meta.url)('../../package.json') as { version: string }).version };
const SAFETY = 'A session must never run in two places: stop WAHA (or the session) before restoring over it, and do not start a restored copy while the original still runs.';

interface BackupFlags {
  output?: string;
  session?: string[];
  engine?: string[];
  encrypt?: boolean;
  passphraseFile?: string;
  force?: boolean;
  /** backup: replace an existing --output; restore: replace sessions in the store. */
  overwrite?: boolean;
  timeout?: number;
  json?: boolean;
  scryptWorkFactor?: number;
  skipMessages?: boolean;
}

interface RestoreFlags extends BackupFlags {
  overwrite?: boolean;
  dryRun?: boolean;
  yes?: boolean;
  concurrency?: number;
  webjsLayout?: string;
}

export function registerBackup(program: Command): void {
  const backup = program
    .command('backup')
    .description('write sessions (config, me, session_worker, auth) of a store into one checksummed archive (.tar.gz, optionally age-encrypted)')
    .argument('<store>', 'local, mongo or postgres (pg)')
    .option('-o, --output <file|->', 'the archive file (written as <file>.partial, renamed when complete and verified; {date} and {time} become YYYY-MM-DD and HHMMSS, UTC), or - for stdout')
    .addOption(sessionOption('only this session (repeatable; default: every session)'))
    .addOption(engineOption())
    .option('--encrypt', `encrypt with age (passphrase from ${PASSPHRASE_ENV}, --passphrase-file, or a prompt on a terminal)`)
    .option('--passphrase-file <path>', 'read the passphrase from this file (first line)')
    .option('--force', 'back up sessions that look in use (files changed in the last 60 s, a browser lock)')
    .option('--overwrite', 'replace an existing --output file (--force is the in-use override); only a complete backup replaces it')
    .addOption(skipMessagesOption())
    .addOption(yesOption('accepted for scripts: backup asks nothing'))
    .addOption(storeTimeoutOption());
  backup.addOption(hiddenWorkFactor());
  addSettingOptions(backup, ['sessions', 'mongo', 'postgres']);
  addOutputOptions(backup);
  addHelp(backup, `
The archive holds, per session, its config, me, session_worker and auth in a store-neutral form
(NOWEB keys and store rows, WEBJS profile files, GOWS gows.db through SQLite's backup API, WPP files),
and a manifest with every entry's size and SHA-256 and a digest per session. It restores into
either store ("waha-storage restore"). The file is created with mode 0600: it holds credentials.
With --output - the archive goes to stdout and every message to stderr.
An existing --output file is refused (exit 2) unless --overwrite; even then it is replaced only by a
complete backup (every session backed up and verified); otherwise it is left as it was (exit 1).
A --session that is not in the store is exit 2; a backup with no session in it is not written (exit 1).
Exit codes: 0 every session backed up, 3 some failed (the archive holds the others), 1 none could be
backed up (no archive is left), 2 usage, 130 interrupted (no archive is left).
Check an archive without restoring it: waha-storage backup verify <file|->.`, [
    ['every session of the local store, into a dated archive', 'waha-storage backup local --output sessions-{date}.tar.gz'],
    ['an age-encrypted archive of one MongoDB session (passphrase from a file)', 'waha-storage backup mongo -s alpha --encrypt --passphrase-file pass.txt -o alpha.tar.gz.age'],
    ['straight to S3, nothing on disk', 'waha-storage backup local --output - | aws s3 cp - s3://backups/sessions.tar.gz'],
  ]);
  backup.action(action<BackupFlags>(async ({ options, config, reporter, signal, metrics }, storeWord: string) => {
    const word = parseStoreWord(storeWord);
    const engines = parseEngines(options.engine);
    if (!options.output) throw new UsageError('backup needs --output <file|->', { hint: 'e.g. --output sessions-{date}.tar.gz ({date} and {time} are filled in, UTC), or --output - for stdout' });
    options.output = expandTimePlaceholders(options.output, now());
    const toStdout = options.output === '-';
    const out = toStdout ? reporter.onStderr() : reporter;
    if (toStdout && process.stdout.isTTY) throw new UsageError('Refusing to write an archive to a terminal', { hint: 'redirect stdout (> file, | aws s3 cp - ...) or give --output <file>' });
    const { checkOutputPath, backup: runBackup } = await import('../sessions/stores/archive/backup.js');
    if (!toStdout) checkOutputPath(options.output!, { overwrite: options.overwrite });
    storeOf(word).checkSource?.(config.sessions);
    const passphrase = options.encrypt ? await passphraseFor(options, reporter, { confirm: true }) : undefined;
    const folder = storeOf(word).folder?.(config.sessions);
    if (folder) out.pathsRelativeTo(folder);
    const source = await openSessionStore(config, word, options.timeout ?? 5000);
    await requireNamedIn(source, engines, options.session).catch(async (error) => {
      await source.close().catch(() => {});
      throw error;
    });
    const spinner = await Progress.start(out, { title: `backing up ${word}`, unit: 'sessions' });
    // main() ends the program quietly, with process.exitCode, when stdout is a closed pipe (`| head`).
    // For an archive on stdout that is a failure: the reader (e.g. `aws s3 cp -`) got an incomplete archive.
    const closedPipe = (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') return;
      spinner.stop();
      out.error('Cannot write the archive to stdout: EPIPE (the program reading it stopped before the end; what it got is incomplete, run the backup again)');
      process.exitCode = ExitCode.failed;
    };
    if (toStdout) process.stdout.prependListener('error', closedPipe);
    let result;
    try {
      result = await runBackup({
        source,
        output: toStdout ? { kind: 'stream', stream: process.stdout, name: 'stdout' } : { kind: 'file', path: options.output! },
        engines,
        names: options.session,
        force: options.force,
        overwrite: options.overwrite,
        scope: { skipMessages: options.skipMessages },
        passphrase,
        scryptWorkFactor: options.scryptWorkFactor,
        tool: TOOL,
        now,
        signal,
        onProgress: transferProgress(spinner, { onOutcome: plainLine(out) }),
      });
    } finally {
      spinner.stop();
      await source.close().catch(() => {});
    }
    process.stdout.off('error', closedPipe);
    countSessions(metrics, (result.interrupted ? notKept(result) : result).summary, 'copied');
    renderTransfer(result.interrupted ? notKept(result) : result, out, {
      verb: 'backed up', empty: 'No sessions to back up.',
      extra: { output: result.output, written: !result.interrupted && Boolean(result.manifest), encrypted: result.encrypted, verified: result.verified ? result.verified.problems.length === 0 : null, source: word },
      interrupted: toStdout
        ? 'interrupted: the archive on stdout is incomplete, discard it; nothing was backed up; run the command again'
        : `interrupted: no archive was written (the partial ${result.output}.partial was removed), so nothing was backed up; run the command again`,
      tail: result.interrupted || !result.manifest ? undefined
        : `archive ${result.output}${result.encrypted ? ' (age-encrypted)' : ''}: ${plural(result.manifest.sessions.length, 'session')}${result.verified ? ', read back and verified' : ''}`,
    });
    if (!result.interrupted && result.summary.done === 0 && result.summary.failed > 0) {
      throw new OperationError(`No session could be backed up from ${word}; no archive was written`, { hint: 'see the reasons above' });
    }
    if (!result.interrupted && result.summary.done === 0) {
      throw new OperationError(`No session to back up in ${word} (${source.location}${options.engine?.length ? `, ${engines.join(', ')}` : ''}); no archive was written`, {
        hint: 'check --sessions-dir / --mongo-url, --engine and the namespace; "waha-storage inspect" lists the sessions',
      });
    }
    if (result.keptExisting) {
      throw new OperationError(`${result.summary.failed} of ${plural(result.summary.sessions, 'session')} could not be backed up; ${result.output} was left as it was (only a complete backup replaces an archive)`, {
        hint: 'fix those sessions and run again, or write this backup to a new file',
      });
    }
    process.exitCode = exitCodeOf(result);
  }));

  const verify = backup
    .command('verify')
    .description('read a whole archive (decrypting when needed), check every digest and the manifest, list its sessions')
    .argument('<file>', 'the archive, or - for stdin')
    .option('--passphrase-file <path>', 'read the passphrase from this file (first line)');
  addOutputOptions(verify);
  addHelp(verify, '\nProblems are listed on stderr (also with --json and --quiet), the sessions and the verdict on stdout.\nExit codes: 0 sound, 3 problems found (each with the entry and what is wrong), 2 usage (no such file, wrong or missing passphrase).', [
    ['check an archive before relying on it', 'waha-storage backup verify sessions-2026-01-31.tar.gz'],
    ['an encrypted archive, as JSON (the problems also go to stderr)', 'waha-storage backup verify alpha.tar.gz.age --passphrase-file pass.txt --json'],
    ['an archive streamed from S3', 'aws s3 cp s3://backups/sessions.tar.gz - | waha-storage backup verify -'],
  ]);
  verify.action(action<BackupFlags>(async ({ options, reporter, signal, metrics }, file: string) => {
    const { readArchive } = await import('../sessions/stores/archive/reader.js');
    const input = openInput(file);
    const spinner = await reporter.spinner(`reading ${file}`);
    let report: ArchiveReport;
    try {
      report = await readArchive(input, { where: describeInput(file), passphrase: () => passphraseFor(options, reporter, { confirm: false }), signal });
    } finally {
      spinner.stop();
    }
    renderVerify(file, report, reporter);
    metrics.count('ok', report.sessions.filter((session) => session.ok).length);
    metrics.count('bad', report.sessions.filter((session) => !session.ok).length);
    metrics.count('problems', report.problems.length);
    metrics.bytes('verified', report.sessions.reduce((sum, session) => sum + session.bytes, 0));
    process.exitCode = report.problems.length ? ExitCode.partial : ExitCode.ok;
  }));
  registerBackupPrune(backup);

  const restore = program
    .command('restore')
    .description('restore sessions from an archive into a store (staged, verified by digest, then committed; the same conflict rules as migrate)')
    .argument('<file>', 'the archive, or - for stdin')
    .argument('<store>', 'local, mongo or postgres (pg)')
    .addOption(sessionOption('only this session (repeatable; default: every session in the archive)'))
    .addOption(engineOption())
    .option('--overwrite', 'replace sessions that exist in the store with different content (after the new copy verified)')
    .option('--force', 'restore over sessions that look in use in the store')
    .option('--dry-run', 'check the archive and plan only: show what would happen and the totals, write nothing')
    .addOption(skipMessagesOption())
    .addOption(yesOption('confirm --overwrite without asking (needed without a terminal)'))
    .option('--passphrase-file <path>', 'read the passphrase from this file (first line)')
    .addOption(concurrencyOption('sessions restored at once', 4))
    .option('--webjs-layout <layout>', 'WEBJS folders written locally: plus or core (default: what the store uses, else plus)')
    .addOption(storeTimeoutOption());
  addSettingOptions(restore, ['sessions', 'mongo', 'postgres']);
  addOutputOptions(restore);
  addHelp(restore, `
The whole archive is read and checked first (every SHA-256, the manifest, the session digests);
if anything is wrong nothing is written. Then each session goes through the transfer engine:
written to staging, read back and compared by digest with the archive, committed. A session that
exists in the store is skipped (identical, or exists: use --overwrite). GOWS and WPP sessions are
skipped for MongoDB (WAHA cannot use them there).
${SAFETY}
Exit codes: 0 every session done or skipped, 3 some failed, 1 none could be restored or the archive
is not sound, 2 usage, 130 interrupted.`, [
    ['what a restore would do, writing nothing', 'waha-storage restore sessions-2026-01-31.tar.gz local --dry-run'],
    ['one session into MongoDB, replacing what is there', 'waha-storage restore sessions.tar.gz mongo -s alpha --overwrite --yes'],
    ['from S3 into the local store', 'aws s3 cp s3://backups/sessions.tar.gz - | waha-storage restore - local'],
  ]);
  restore.action(action<RestoreFlags>(async ({ options, config, reporter, signal, metrics }, file: string, storeWord: string) => {
    const word = parseStoreWord(storeWord);
    const engines = parseEngines(options.engine);
    const layout = parseLayout(options.webjsLayout);
    if (options.overwrite && !options.dryRun) {
      await confirmDestructive(reporter, { question: `Restore ${file} into ${word} and replace sessions that already exist there?`, yes: options.yes, what: 'restore --overwrite' });
    }
    const input = openInput(file);
    const folder = storeOf(word).folder?.(config.sessions);
    if (folder) reporter.pathsRelativeTo(folder);
    const target = await openSessionStore(config, word, options.timeout ?? 5000, layout);
    await storeOf(word).checkTarget?.(config.sessions);
    const spinner = await Progress.start(reporter, { title: `restoring ${file} -> ${word}`, unit: 'sessions' });
    spinner.planning(`reading and checking ${describeInput(file)}`);
    let source: SessionStore | undefined;
    let result: TransferResult;
    try {
      const { ArchiveSource } = await import('../sessions/stores/archive/source.js');
      const archive = await ArchiveSource.open(input, {
        where: describeInput(file),
        passphrase: () => passphraseFor(options, reporter, { confirm: false }),
        names: options.session,
        engines,
        // only --overwrite touches a session that is already there: then it must not be in use
        liveness: options.overwrite ? (ref, now) => target.liveness(ref, now) : undefined,
        signal,
      });
      source = archive;
      await requireNamed(archive.report.sessions, options.session, { description: `the archive ${describeInput(file)}` });
      const { transfer } = await import('../sessions/transfer.js');
      result = await transfer({
        source: archive, target, engines, names: options.session, overwrite: options.overwrite, force: options.force,
        dryRun: options.dryRun, scope: { skipMessages: options.skipMessages }, concurrency: options.concurrency ?? 4, signal, verb: 'restoring',
        onProgress: transferProgress(spinner, { dryRun: options.dryRun, onOutcome: plainLine(reporter) }),
      });
    } finally {
      spinner.stop();
      await Promise.allSettled([source?.close(), target.close()]);
    }
    countSessions(metrics, result.summary, options.dryRun ? 'planned' : 'copied');
    renderTransfer(result, reporter, {
      verb: options.dryRun ? 'would restore' : 'restored', empty: 'No sessions to restore.',
      extra: { archive: file, target: word, dryRun: Boolean(options.dryRun) },
      interrupted: 'interrupted: the sessions marked done are committed and stay; the others were not written; run the same command again to continue',
      safety: true,
    });
    process.exitCode = exitCodeOf(result);
  }));
}

function hiddenWorkFactor(): Option {
  // age's scrypt work factor; only tests lower it (fast runs), users keep age's default
  return new Option('--scrypt-work-factor <n>').argParser(parsePositiveInt('--scrypt-work-factor')).hideHelp();
}

function describeInput(file: string): string {
  return file === '-' ? 'the archive on stdin' : file;
}

function openInput(file: string): Readable {
  if (file === '-') return process.stdin;
  if (!existsSync(file)) throw new UsageError(`No archive at ${file}`, { hint: 'check the path' });
  if (statSync(file).isDirectory()) throw new UsageError(`${file} is a folder, not an archive`, { hint: 'give the archive file' });
  return createReadStream(file);
}

/** The passphrase: --passphrase-file, then WAHA_STORAGE_BACKUP_PASSPHRASE, then a prompt on a terminal. */
export async function passphraseFor(options: { passphraseFile?: string }, reporter: Reporter, { confirm }: { confirm: boolean }): Promise<string> {
  let passphrase: string | undefined;
  if (options.passphraseFile) {
    try {
      passphrase = (await readFile(options.passphraseFile, 'utf8')).split(/\r?\n/)[0];
    } catch (error) {
      throw new UsageError(`Cannot read --passphrase-file ${options.passphraseFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { hint: 'check the path' });
    }
  } else if (process.env[PASSPHRASE_ENV]) {
    passphrase = process.env[PASSPHRASE_ENV];
  } else if (reporter.interactive) {
    const { password } = await import('@inquirer/prompts');
    passphrase = await prompting('cancelled at the passphrase: nothing was written', (context) => password({ message: 'Archive passphrase', mask: '*' }, context));
    if (confirm) {
      const again = await prompting('cancelled at the passphrase: nothing was written', (context) => password({ message: 'Same passphrase again', mask: '*' }, context));
      if (again !== passphrase) throw new UsageError('The two passphrases differ; nothing was written', { hint: 'run again' });
    }
  } else {
    throw new UsageError('A passphrase is needed and there is no terminal to ask for it', { hint: `set ${PASSPHRASE_ENV} or use --passphrase-file` });
  }
  if (!passphrase) throw new UsageError('The passphrase is empty', { hint: `set ${PASSPHRASE_ENV} or use --passphrase-file` });
  registerSecret(passphrase);
  return passphrase;
}

/** Without an animated progress line, one plain line per finished session. */
function plainLine(reporter: Reporter) {
  return (outcome: SessionOutcome) => {
    if (!reporter.stderrIsTTY || !reporter.color) reporter.info(progressLine(outcome));
  };
}

export function exitCodeOf(result: TransferResult): number {
  if (result.interrupted) return ExitCode.interrupted;
  const { failed, done, skipped, planned } = result.summary;
  if (failed === 0) return ExitCode.ok;
  return done + skipped + planned > 0 ? ExitCode.partial : ExitCode.failed;
}

/**
 * An interrupted backup removes its partial archive: the sessions copied into it were not backed
 * up after all, and the summary must not say they were.
 */
function notKept(result: TransferResult): TransferResult {
  const sessions = result.sessions.map((session): SessionOutcome => session.status !== 'done' ? session : {
    ...session, status: 'skipped', reason: 'interrupted', message: 'not kept: the backup was interrupted and its archive discarded', entries: 0, bytes: 0,
  });
  const summary = { sessions: sessions.length, done: 0, skipped: 0, failed: 0, planned: 0, entries: 0, bytes: 0 };
  for (const session of sessions) {
    summary[session.status]++;
    if (session.status === 'done') {
      summary.entries += session.entries;
      summary.bytes += session.bytes;
    }
  }
  return { ...result, sessions, summary };
}

function renderTransfer(result: TransferResult, reporter: Reporter, context: { verb: string; empty: string; extra: object; tail?: string; interrupted: string; safety?: boolean }): void {
  if (reporter.json) {
    reporter.document({ ...context.extra, interrupted: result.interrupted, sessions: result.sessions, summary: result.summary, ...(context.safety ? { notes: [SAFETY] } : {}) });
    return;
  }
  if (result.sessions.length === 0) reporter.line(context.empty);
  else {
    transferTable(result.sessions, reporter);
  }
  reporter.line(transferSummary(result.summary, context.verb));
  if (context.tail) reporter.line(context.tail);
  if (result.interrupted) reporter.warn(context.interrupted);
  if (context.safety) reporter.info(SAFETY);
}

function renderVerify(file: string, report: ArchiveReport, reporter: Reporter): void {
  const summary = {
    sessions: report.sessions.length,
    entries: report.sessions.reduce((sum, session) => sum + session.entries, 0),
    bytes: report.sessions.reduce((sum, session) => sum + session.bytes, 0),
    problems: report.problems.length,
  };
  // problems also on stderr: a cron mail (--quiet) or a script reading the JSON still sees them
  for (const problem of report.problems) reporter.error(`${problem.where}: ${problem.problem}`);
  if (reporter.json) {
    reporter.document({
      archive: file,
      sound: report.problems.length === 0,
      encrypted: report.encrypted,
      formatVersion: report.header?.formatVersion ?? null,
      createdAt: report.createdAt,
      tool: report.header?.tool ?? null,
      source: report.header?.source ?? null,
      sessions: report.sessions.map(({ engine, name, loggedIn, me, entries, bytes, digest, ok }) => ({ engine, name, loggedIn, me, entries, bytes, digest, ok })),
      problems: report.problems,
      summary,
    });
    return;
  }
  if (report.header) {
    reporter.line(`${file}: format ${report.header.formatVersion}, made ${report.header.createdAt} by ${report.header.tool?.name} ${report.header.tool?.version} from ${report.header.source?.store} (${report.header.source?.location})${report.encrypted ? ', age-encrypted' : ''}`);
  }
  if (report.sessions.length) {
    reporter.table(
      [{ header: 'engine' }, { header: 'session', fit: 'wrap', min: 8 }, { header: 'logged in' }, { header: 'entries', align: 'right' }, { header: 'size', align: 'right' }, { header: 'check' }],
      report.sessions.map((session) => [
        session.engine ?? '?', session.name, reporter.loggedIn(session.loggedIn), session.entries, formatBytes(session.bytes),
        session.ok ? reporter.paint('green', 'ok') : reporter.paint('red', 'BAD'),
      ]),
    );
  }
  reporter.line(report.problems.length
    ? `${file}: ${plural(report.problems.length, 'problem')} found (listed on stderr); do not rely on this archive`
    : `${file}: sound; ${plural(summary.sessions, 'session')}, ${plural(summary.entries, 'entry')} (${formatBytes(summary.bytes)}), every SHA-256 and session digest matches the manifest`);
}
