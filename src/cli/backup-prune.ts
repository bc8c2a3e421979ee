import { InvalidArgumentError, Option, type Command } from 'commander';
import { formatBytes, formatDuration, parseDuration } from '../config/units.js';
import { ExitCode, UsageError } from '../errors.js';
import type { PrunePlan, PruneSummary } from '../sessions/backup-prune.js';
import type { KeepPolicy, KeepReason } from '../sessions/rotation.js';
import { PASSPHRASE_ENV, passphraseFor } from './backup.js';
import { confirmDestructive } from './confirm.js';
import { action, addOutputOptions, parsePositiveInt, yesOption } from './options.js';
import type { Reporter } from './reporter.js';
import { addHelp } from './help.js';
import { plural } from '../util/plural.js';

interface PruneFlags {
  keepLast?: number;
  keepHourly?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  keepYearly?: number;
  keepWithin?: number;
  dryRun?: boolean;
  yes?: boolean;
  passphraseFile?: string;
}

/** The rules, declared once: flag, policy field, what it keeps. */
const RULES: { flag: string; field: keyof KeepPolicy; value: string; keeps: string }[] = [
  { flag: '--keep-last', field: 'last', value: '<n>', keeps: 'the n newest archives' },
  { flag: '--keep-hourly', field: 'hourly', value: '<n>', keeps: 'the newest archive of each of the last n hours that have one' },
  { flag: '--keep-daily', field: 'daily', value: '<n>', keeps: 'the newest archive of each of the last n days that have one' },
  { flag: '--keep-weekly', field: 'weekly', value: '<n>', keeps: 'the newest archive of each of the last n ISO weeks that have one' },
  { flag: '--keep-monthly', field: 'monthly', value: '<n>', keeps: 'the newest archive of each of the last n months that have one' },
  { flag: '--keep-yearly', field: 'yearly', value: '<n>', keeps: 'the newest archive of each of the last n years that have one' },
  { flag: '--keep-within', field: 'within', value: '<duration>', keeps: 'every archive newer than the newest one minus the duration (15m, 36h, 7d, 2w)' },
];

/** `--keep-last` -> `keepLast`, as commander names the option. */
function flagKey(flag: string): keyof PruneFlags & `keep${string}` {
  return flag.slice(2).replace(/-(\w)/g, (_, letter: string) => letter.toUpperCase()) as keyof PruneFlags & `keep${string}`;
}

function parseKeepDuration(text: string): number {
  const seconds = parseDuration(text);
  if (seconds === undefined || seconds <= 0) throw new InvalidArgumentError('expected a duration such as 36h, 7d or 2w (m is minutes)');
  return seconds;
}

export function registerBackupPrune(backup: Command): void {
  const prune = backup
    .command('prune')
    .description("remove old archives from a folder by restic's --keep-* rules (per source store and session set); only waha-storage archives are touched")
    .argument('<folder>', 'the folder the archives are in (not searched recursively)');
  for (const rule of RULES) {
    prune.addOption(new Option(`${rule.flag} ${rule.value}`, `keep ${rule.keeps}`)
      .argParser(rule.field === 'within' ? parseKeepDuration : parsePositiveInt(rule.flag)));
  }
  prune
    .option('--dry-run', 'show what would be kept and removed, remove nothing')
    .addOption(yesOption('remove without asking (needed without a terminal)'))
    .option('--passphrase-file <path>', `read encrypted archives with this passphrase (first line; also ${PASSPHRASE_ENV}); without one they are left alone`);
  addOutputOptions(prune);
  addHelp(prune, `
Rules (at least one; an archive is kept when any rule keeps it), applied to each group of archives
with the same source store and the same sessions, newest first, times from the manifests, in UTC.
Periods with no archive do not count. Files that are not waha-storage archives, folders, symlinks,
incomplete archives (a backup still being written) and encrypted archives without the passphrase
are listed and never removed. An archive is removed only if it is still the file that was read.
Exit codes: 0 done, 3 some archives could not be removed, 2 usage (no rule, no such folder), 130 interrupted.`, [
    ['what a daily/weekly/monthly rotation would remove', 'waha-storage backup prune /backups --keep-daily 7 --keep-weekly 4 --dry-run'],
    ['keep the last 10 archives, from cron', 'waha-storage backup prune /backups --keep-last 10 --yes --quiet'],
    ['keep everything from the last two weeks, and 12 monthly', 'waha-storage backup prune /backups --keep-within 2w --keep-monthly 12 --yes'],
  ]);
  prune.action(action<PruneFlags>(async ({ options, reporter, signal, metrics }, folder: string) => {
    const policy: KeepPolicy = {};
    for (const rule of RULES) {
      const value = options[flagKey(rule.flag)];
      if (value !== undefined) policy[rule.field] = value;
    }
    const { hasRules } = await import('../sessions/rotation.js');
    if (!hasRules(policy)) {
      throw new UsageError('backup prune needs at least one rule', { hint: `give one or more of ${RULES.map((rule) => rule.flag).join(', ')}` });
    }
    const passphrase = options.passphraseFile || process.env[PASSPHRASE_ENV] ? await passphraseFor(options, reporter, { confirm: false }) : undefined;
    const { planPrune, applyPrune, summarizePrune } = await import('../sessions/backup-prune.js');
    const spinner = await reporter.spinner(`reading the archives in ${folder}`);
    let plan: PrunePlan;
    try {
      plan = await planPrune({ folder, policy, passphrase, signal });
    } finally {
      spinner.stop();
    }
    const planned = summarizePrune(plan);
    let interrupted = false;
    if (!options.dryRun && planned.remove > 0) {
      if (!options.yes && reporter.interactive && !reporter.json) render(plan, planned, reporter, { dryRun: true });
      await confirmDestructive(reporter, {
        question: `Remove ${plural(planned.remove, 'archive')} (${formatBytes(planned.bytes)}) from ${folder}?`,
        yes: options.yes, what: 'backup prune',
      });
      ({ interrupted } = await applyPrune(plan, { signal }));
    }
    const summary = summarizePrune(plan);
    render(plan, summary, reporter, { dryRun: Boolean(options.dryRun) });
    metrics.count('kept', summary.kept);
    metrics.count(options.dryRun ? 'planned' : 'removed', options.dryRun ? summary.remove : summary.removed);
    metrics.count('failed', summary.failed);
    metrics.count('not_read', summary.notRead);
    metrics.count('foreign', summary.foreign);
    metrics.bytes(options.dryRun ? 'planned' : 'removed', summary.bytes);
    process.exitCode = interrupted || signal.aborted ? ExitCode.interrupted : summary.failed ? ExitCode.partial : ExitCode.ok;
  }));
}

function reasonText(reason: KeepReason, policy: KeepPolicy): string {
  if (reason.rule === 'within') return `within ${formatDuration(policy.within!)}`;
  return reason.period ? `${reason.rule} ${reason.period}` : reason.rule;
}

function render(plan: PrunePlan, summary: PruneSummary, reporter: Reporter, { dryRun }: { dryRun: boolean }): void {
  if (reporter.json) {
    reporter.document({
      folder: plan.folder,
      dryRun,
      policy: plan.policy,
      groups: plan.groups.map((group) => ({
        source: group.source,
        sessions: group.sessions,
        archives: group.archives.map(({ identity: _identity, ...archive }) => archive),
      })),
      notRead: plan.notRead,
      foreign: plan.foreign,
      summary,
    });
    return;
  }
  const statusText = (status: string) => {
    if (status === 'kept') return reporter.paint('green', 'keep');
    if (status === 'planned') return reporter.paint('yellow', dryRun ? 'would remove' : 'remove');
    if (status === 'removed') return reporter.paint('yellow', 'removed');
    return reporter.paint('red', 'FAILED');
  };
  for (const group of plan.groups) {
    const sessions = group.sessions.length ? group.sessions.join(', ') : 'no sessions';
    reporter.line(`${group.source.store} ${group.source.location}: ${sessions} (${plural(group.archives.length, 'archive')})`);
    reporter.table([
      { header: 'archive', fit: 'middle', min: 16 }, { header: 'created', fit: 'wrap', min: 10 }, { header: 'size', align: 'right' }, { header: 'action' },
      { header: 'why', fit: 'wrap', min: 12 },
    ], group.archives.map((archive) => [
      archive.file, archive.createdAt.replace('T', ' ').replace(/\.\d+Z$|Z$/, ''), formatBytes(archive.bytes), statusText(archive.status),
      archive.message ?? archive.reasons.map((reason) => reasonText(reason, plan.policy)).join(', '),
    ]));
  }
  for (const item of plan.notRead) reporter.line(`not read (left alone): ${item.file}: ${item.reason}`);
  for (const item of plan.foreign) reporter.line(`not an archive (left alone): ${item.file}: ${item.reason}`);
  const verb = dryRun ? 'would remove' : 'removed';
  reporter.line(`${plural(summary.archives, 'archive')}: ${summary.kept} kept, ${dryRun ? summary.remove : summary.removed} ${verb} (${formatBytes(summary.bytes)})` +
    `${summary.failed ? `, ${summary.failed} failed` : ''}; ${summary.notRead} not read, ${summary.foreign} other files left alone`);
}
