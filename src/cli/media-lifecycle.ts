import type { Command } from 'commander';
import type { LifecycleRule } from '@aws-sdk/client-s3';
import { parseDuration } from '../config/units.js';
import { UsageError } from '../errors.js';
import type { LifecyclePlan, LifecycleState, RuleChange } from '../media/lifecycle.js';
import { plural } from '../util/plural.js';
import { addHelp } from './help.js';
import { action, addOutputOptions, addSettingOptions, sessionOption, yesOption, type CommandContext } from './options.js';
import type { Reporter } from './reporter.js';

interface LifecycleFlags {
  session?: string[];
  olderThan?: string;
  dryRun?: boolean;
  yes?: boolean;
}

const STORE_ARGUMENT = ['[store]', 's3 (lifecycle rules are an S3 feature; the default)'] as const;

export function registerLifecycle(media: Command): void {
  const lifecycle = media
    .command('lifecycle')
    .description("S3 lifecycle rules that expire media in the bucket itself (no cron host needed): show, set, remove the tool's rules");
  addHelp(lifecycle, `
The tool's rules have IDs starting "waha-storage-": "waha-storage-expire-bucket" for the whole bucket,
"waha-storage-expire-session-<session>" for the prefix <session>/. Every other rule of the bucket is
kept exactly as it is. S3 counts whole days from each object's creation (and runs expiry about once a day).`, [
    ['the rules of the bucket and what they cover', 'waha-storage media lifecycle show'],
    ['expire every media object 30 days after it was written', 'waha-storage media lifecycle set --older-than 30d'],
    ['one session only, shown and not written', 'waha-storage media lifecycle set --older-than 7d --session alpha --dry-run'],
    ["remove the tool's rules", 'waha-storage media lifecycle remove'],
  ]);

  const show = lifecycle.command('show').description('print the lifecycle rules of the bucket and which objects they cover').argument(...STORE_ARGUMENT);
  addCommon(show);
  addHelp(show, `
JSON: {"schemaVersion":1,"bucket","rules":[{"id","ours","status","prefix","session","covers","expirationDays","actions"}]}.`, []);
  show.action(action<LifecycleFlags>(async (context, store?: string) => runShow(context, store)));

  const set = lifecycle
    .command('set')
    .description('write an expiration rule: for the whole bucket, or one per session prefix (--session)')
    .argument(...STORE_ARGUMENT)
    .requiredOption('--older-than <days>', 'expire objects this many whole days after they were written (7d, 30d)')
    .addOption(sessionOption('a rule for this session\'s prefix <session>/ only (repeatable); default: one rule for the whole bucket'))
    .option('--dry-run', 'print the configuration it would write; write nothing')
    .addOption(yesOption("replace one of the tool's rules without asking (needed without a terminal)"));
  addCommon(set);
  addHelp(set, `
Writes the whole configuration back with every other rule as it was, then reads it back and compares.
A rule already as asked is left alone ("unchanged": nothing is written). Replacing one of the tool's
rules with another age asks first on a terminal; without a terminal it needs --yes.
--older-than takes whole days only (S3's granularity): 36h is refused.
JSON: {"schemaVersion":1,"bucket","dryRun","status":"written"|"unchanged"|"planned","changes":[{"id","action","covers","daysBefore","daysAfter"}],"configuration":{"Rules":[...]}}.`, [
    ['every object 30 days after it was written', 'waha-storage media lifecycle set --older-than 30d'],
    ['two sessions, 7 days', 'waha-storage media lifecycle set --older-than 7d --session alpha --session beta'],
  ]);
  set.action(action<LifecycleFlags>(async (context, store?: string) => runSet(context, store)));

  const remove = lifecycle
    .command('remove')
    .description("remove the tool's rules (all, or those of --session); other rules stay")
    .argument(...STORE_ARGUMENT)
    .addOption(sessionOption("remove only this session's rule (repeatable)"))
    .option('--dry-run', 'print the configuration it would write; write nothing')
    .addOption(yesOption('accepted for scripts: removing a rule deletes nothing, so nothing is asked'));
  addCommon(remove);
  addHelp(remove, `
When no rule is left, the bucket's lifecycle configuration is deleted.
JSON: as for set, with "status":"written"|"unchanged"|"planned".`, []);
  remove.action(action<LifecycleFlags>(async (context, store?: string) => runRemove(context, store)));
}

function addCommon(command: Command): void {
  addSettingOptions(command, ['media', 's3']);
  addOutputOptions(command);
}

function checkStore(word: string | undefined): void {
  if (word === undefined || word.toLowerCase() === 's3') return;
  throw new UsageError(`media lifecycle works on S3 only, not "${word}": lifecycle rules are an S3 feature`, {
    hint: `for ${word} media, run \`waha-storage media clean ${word} --older-than <age>\` from cron`,
  });
}

/** Whole days from --older-than: `30d`, or any duration that is a whole number of days (48h). */
export function lifecycleDays(text: string): number {
  const seconds = parseDuration(text);
  if (seconds === undefined) throw new UsageError(`Invalid --older-than "${text}": expected a number of days like 7d or 30d`);
  if (seconds <= 0 || seconds % 86_400 !== 0) {
    throw new UsageError(`--older-than "${text}" is not a whole number of days: S3 lifecycle rules expire objects in whole days only`, {
      hint: `use days, e.g. ${Math.max(1, Math.ceil(seconds / 86_400))}d; for exact ages, run \`waha-storage media clean s3 --older-than ${text}\` from cron`,
    });
  }
  return seconds / 86_400;
}

async function open(context: CommandContext<LifecycleFlags>, word: string | undefined) {
  checkStore(word);
  context.metrics.setStore('s3');
  const { BucketLifecycle } = await import('../media/lifecycle.js');
  return BucketLifecycle.open(context.config.s3);
}

async function runShow(context: CommandContext<LifecycleFlags>, word?: string): Promise<void> {
  const { reporter } = context;
  const { describeRule } = await import('../media/lifecycle.js');
  const bucket = await open(context, word);
  try {
    const state = await bucket.read();
    const views = state.rules.map(describeRule);
    if (reporter.json) {
      reporter.document({ bucket: bucket.bucket, location: bucket.location, rules: views });
      return;
    }
    if (!views.length) {
      reporter.line(`${bucket.location} has no lifecycle rules: nothing expires by itself (WAHA never deletes S3 media).`);
      return;
    }
    reporter.table(
      [{ header: 'rule', fit: 'middle', min: 12 }, { header: 'owner' }, { header: 'status' }, { header: 'covers', fit: 'wrap', min: 12 }, { header: 'expires', fit: 'wrap', min: 10 }],
      views.map((view) => [view.id ?? '(no ID)', view.ours ? 'waha-storage' : 'other', view.status, view.covers,
        [view.expirationDays !== null ? `${plural(view.expirationDays, 'day')} after creation` : '', ...view.actions].filter(Boolean).join('; ') || '-']),
    );
    const ours = views.filter((view) => view.ours).length;
    reporter.line(`${plural(views.length, 'rule')} in ${bucket.location}: ${ours} of the tool's, ${views.length - ours} other.`);
  } finally {
    bucket.close();
  }
}

async function runSet(context: CommandContext<LifecycleFlags>, word?: string): Promise<void> {
  const days = lifecycleDays(context.options.olderThan ?? '');
  const { planSet } = await import('../media/lifecycle.js');
  await apply(context, word, (state) => planSet(state, { days, sessions: context.options.session }), true);
}

async function runRemove(context: CommandContext<LifecycleFlags>, word?: string): Promise<void> {
  const { planRemove } = await import('../media/lifecycle.js');
  await apply(context, word, (state) => planRemove(state, { sessions: context.options.session }), false);
}

async function apply(context: CommandContext<LifecycleFlags>, word: string | undefined, planOf: (state: LifecycleState) => LifecyclePlan, asks: boolean): Promise<void> {
  const { options, reporter, signal, metrics } = context;
  const bucket = await open(context, word);
  try {
    const before = await bucket.read();
    const plan = planOf(before);
    const dryRun = Boolean(options.dryRun);
    const status = plan.unchanged ? 'unchanged' : dryRun ? 'planned' : 'written';
    if (!plan.unchanged && !dryRun && asks) {
      const replaced = plan.changes.filter((change) => change.action === 'replace');
      if (replaced.length) {
        const { confirmDestructive } = await import('./confirm.js');
        await confirmDestructive(reporter, {
          question: `Replace ${replaced.map((change) => `${change.id} (${change.covers}: ${change.daysBefore ?? '?'} -> ${change.daysAfter} days)`).join(', ')} in ${bucket.location}?`,
          yes: options.yes, what: 'media lifecycle set', signal,
        });
      }
    }
    if (!plan.unchanged && !dryRun) await bucket.write(before, plan);
    metrics.count('changed', plan.changes.filter((change) => change.action !== 'unchanged').length);
    print(reporter, bucket.location, plan, { dryRun, status, kept: plan.rules.filter((rule) => !rule.ID?.startsWith('waha-storage-')).length });
    if (!plan.changes.length && !reporter.json) reporter.line(`${bucket.location} has none of the tool's rules${options.session?.length ? ' for these sessions' : ''}: nothing to remove.`);
  } finally {
    bucket.close();
  }
}

function print(reporter: Reporter, location: string, plan: LifecyclePlan, context: { dryRun: boolean; status: string; kept: number }): void {
  const configuration = { Rules: plan.rules as LifecycleRule[] };
  if (reporter.json) {
    reporter.document({ location, dryRun: context.dryRun, status: context.status, changes: plan.changes, configuration });
    return;
  }
  for (const change of plan.changes) reporter.line(changeLine(change, context.dryRun));
  if (context.dryRun && !plan.unchanged) {
    reporter.line(plan.rules.length ? `Dry run: the configuration that would be written to ${location}:` : `Dry run: the lifecycle configuration of ${location} would be deleted (no rule left).`);
    if (plan.rules.length) reporter.line(JSON.stringify(configuration, null, 2));
    return;
  }
  if (plan.unchanged) {
    if (plan.changes.length) reporter.line(`Unchanged: ${location} already has ${plan.changes.length === 1 ? 'this rule' : 'these rules'}; nothing was written.`);
    return;
  }
  reporter.line(plan.rules.length
    ? `Wrote the lifecycle configuration of ${location} (${plural(plan.rules.length, 'rule')}; ${plural(context.kept, 'other rule')} kept as ${context.kept === 1 ? 'it was' : 'they were'}) and read it back: it matches.`
    : `Deleted the lifecycle configuration of ${location}: no rule was left.`);
}

function changeLine(change: RuleChange, dryRun: boolean): string {
  switch (change.action) {
    case 'add': return `${dryRun ? 'would add' : 'added'} ${change.id}: ${change.covers} expires ${plural(change.daysAfter!, 'day')} after creation`;
    case 'replace': return `${dryRun ? 'would replace' : 'replaced'} ${change.id}: ${change.covers} expires ${plural(change.daysAfter!, 'day')} after creation (was ${change.daysBefore ?? 'no expiration'}${change.daysBefore ? ' days' : ''})`;
    case 'remove': return `${dryRun ? 'would remove' : 'removed'} ${change.id} (${change.covers}, ${change.daysBefore ?? '-'} days)`;
    default: return `unchanged ${change.id}: ${change.covers} expires ${plural(change.daysAfter!, 'day')} after creation`;
  }
}
