/**
 * S3 lifecycle rules for WAHA's media bucket: the bucket itself expires objects, at any scale and
 * with no machine running a loop. The tool's rules are the ones whose ID starts `waha-storage-`:
 * one for the whole bucket, or one per session prefix `<session>/`. A configuration is replaced as
 * a whole by S3, so every other rule is read and written back as it was, and the configuration is
 * read back after the write and compared.
 */
import type { LifecycleRule, S3Client } from '@aws-sdk/client-s3';
import type { S3Config } from '../config/config.js';
import { OperationError } from '../errors.js';
import { describeS3Failure } from './s3.js';
import { createS3Target } from './s3-client.js';

export const RULE_PREFIX = 'waha-storage-';
export const BUCKET_RULE_ID = `${RULE_PREFIX}expire-bucket`;

export function sessionRuleId(session: string): string {
  return `${RULE_PREFIX}expire-session-${session}`;
}

export function isToolRule(rule: LifecycleRule): boolean {
  return Boolean(rule.ID?.startsWith(RULE_PREFIX));
}

export interface LifecycleState {
  /** The bucket has a lifecycle configuration at all. */
  exists: boolean;
  rules: LifecycleRule[];
  /** Kept as read (S3's TransitionDefaultMinimumObjectSize) so a write does not change it. */
  transitionDefaultMinimumObjectSize?: string;
}

/** What a rule does, for people and --json. */
export interface RuleView {
  id: string | null;
  /** The tool's own rule (its ID starts waha-storage-). */
  ours: boolean;
  status: string;
  /** The key prefix it applies to ('' = every object), or null when it filters by something else too. */
  prefix: string | null;
  /** The session whose prefix `<session>/` it covers, when its prefix is exactly one session's. */
  session: string | null;
  /** Which objects, in words: "every object in the bucket", "session alpha (alpha/)", ... */
  covers: string;
  /** Current objects expire this many days after creation. */
  expirationDays: number | null;
  /** Everything else the rule does (transitions, noncurrent versions, multipart uploads). */
  actions: string[];
}

export function describeRule(rule: LifecycleRule): RuleView {
  const filter = rule.Filter;
  const prefix = filter?.And ? (filter.And.Tags?.length || filter.And.ObjectSizeGreaterThan !== undefined || filter.And.ObjectSizeLessThan !== undefined ? null : filter.And.Prefix ?? '')
    : filter?.Tag || filter?.ObjectSizeGreaterThan !== undefined || filter?.ObjectSizeLessThan !== undefined ? null : filter?.Prefix ?? rule.Prefix ?? '';
  const session = prefix && /^[^/]+\/$/.test(prefix) ? prefix.slice(0, -1) : null;
  const covers = prefix === null ? `objects matching ${JSON.stringify(filter)}`
    : prefix === '' ? 'every object in the bucket'
      : session ? `session ${session} (${prefix})` : `objects under ${prefix}`;
  const actions: string[] = [];
  if (rule.Expiration?.Date) actions.push(`current objects expire on ${new Date(rule.Expiration.Date).toISOString().slice(0, 10)}`);
  if (rule.Expiration?.ExpiredObjectDeleteMarker) actions.push('expired delete markers removed');
  for (const transition of rule.Transitions ?? []) {
    actions.push(`to ${transition.StorageClass} ${transition.Days !== undefined ? `after ${transition.Days} days` : `on ${transition.Date?.toISOString().slice(0, 10)}`}`);
  }
  if (rule.NoncurrentVersionExpiration?.NoncurrentDays !== undefined) actions.push(`noncurrent versions expire after ${rule.NoncurrentVersionExpiration.NoncurrentDays} days`);
  if (rule.NoncurrentVersionTransitions?.length) actions.push(`${rule.NoncurrentVersionTransitions.length} noncurrent version transition(s)`);
  if (rule.AbortIncompleteMultipartUpload?.DaysAfterInitiation !== undefined) {
    actions.push(`incomplete multipart uploads aborted after ${rule.AbortIncompleteMultipartUpload.DaysAfterInitiation} days`);
  }
  return {
    id: rule.ID ?? null, ours: isToolRule(rule), status: rule.Status ?? 'Enabled', prefix, session, covers,
    expirationDays: rule.Expiration?.Days ?? null, actions,
  };
}

export type ChangeAction = 'add' | 'replace' | 'unchanged' | 'remove';

export interface RuleChange {
  id: string;
  action: ChangeAction;
  covers: string;
  /** Days before (replace, remove, unchanged) and after (add, replace, unchanged). */
  daysBefore?: number | null;
  daysAfter?: number;
}

export interface LifecyclePlan {
  /** The whole configuration to write: every other rule as it was, then the tool's. */
  rules: LifecycleRule[];
  changes: RuleChange[];
  /** Nothing to write. */
  unchanged: boolean;
}

/** `set`: the tool's rule for the bucket (no sessions) or one per session; every other rule kept. */
export function planSet(state: LifecycleState, options: { days: number; sessions?: readonly string[] }): LifecyclePlan {
  const legacy = state.rules.some((rule) => rule.Filter === undefined && rule.Prefix !== undefined);
  const wanted = options.sessions?.length
    ? [...new Set(options.sessions)].map((session) => ({ id: sessionRuleId(session), prefix: `${session}/` }))
    : [{ id: BUCKET_RULE_ID, prefix: '' }];
  const rules = [...state.rules];
  const changes: RuleChange[] = [];
  for (const { id, prefix } of wanted) {
    const rule: LifecycleRule = {
      ID: id, Status: 'Enabled', Expiration: { Days: options.days },
      // S3 refuses a configuration that mixes the old rule-level Prefix with Filter
      ...(legacy ? { Prefix: prefix } : { Filter: { Prefix: prefix } }),
    };
    const index = rules.findIndex((existing) => existing.ID === id);
    const covers = describeRule(rule).covers;
    if (index < 0) {
      rules.push(rule);
      changes.push({ id, action: 'add', covers, daysAfter: options.days });
    } else if (sameToolRule(rules[index]!, rule)) {
      changes.push({ id, action: 'unchanged', covers, daysBefore: rules[index]!.Expiration?.Days ?? null, daysAfter: options.days });
    } else {
      changes.push({ id, action: 'replace', covers, daysBefore: rules[index]!.Expiration?.Days ?? null, daysAfter: options.days });
      rules[index] = rule;
    }
  }
  return { rules, changes, unchanged: changes.every((change) => change.action === 'unchanged') };
}

/** `remove`: the tool's rules (all, or those of the sessions); every other rule kept. */
export function planRemove(state: LifecycleState, options: { sessions?: readonly string[] }): LifecyclePlan {
  const ids = options.sessions?.length ? new Set(options.sessions.map(sessionRuleId)) : undefined;
  const changes: RuleChange[] = [];
  const rules = state.rules.filter((rule) => {
    const remove = isToolRule(rule) && (!ids || ids.has(rule.ID!));
    if (remove) changes.push({ id: rule.ID!, action: 'remove', covers: describeRule(rule).covers, daysBefore: rule.Expiration?.Days ?? null });
    return !remove;
  });
  return { rules, changes, unchanged: changes.length === 0 };
}

/** The same prefix, status and expiration (S3 may write a rule back with other empty fields). */
function sameToolRule(a: LifecycleRule, b: LifecycleRule): boolean {
  const view = (rule: LifecycleRule) => {
    const described = describeRule(rule);
    return JSON.stringify([described.prefix, described.status, described.expirationDays, described.actions, rule.Filter === undefined]);
  };
  return view(a) === view(b);
}

/** The bucket's lifecycle configuration through S3's API, written and read back. */
export class BucketLifecycle {
  private constructor(readonly client: S3Client, readonly bucket: string, private readonly endpoint: string) {}

  static async open(config: S3Config): Promise<BucketLifecycle> {
    const target = await createS3Target(config);
    return new BucketLifecycle(target.client, target.bucket, config.endpoint ?? `aws:${config.region}`);
  }

  get location(): string {
    return `s3://${this.bucket}`;
  }

  async read(): Promise<LifecycleState> {
    const { GetBucketLifecycleConfigurationCommand } = await import('@aws-sdk/client-s3');
    try {
      const answer = await this.client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: this.bucket }));
      return { exists: true, rules: answer.Rules ?? [], transitionDefaultMinimumObjectSize: answer.TransitionDefaultMinimumObjectSize };
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchLifecycleConfiguration') return { exists: false, rules: [] };
      throw this.failure(error);
    }
  }

  /**
   * Writes the whole configuration (or deletes it when no rule is left), then reads it back until
   * it shows what was written (AWS takes a moment to propagate): the tool's rules as planned and
   * every other rule exactly as it was read before.
   */
  async write(before: LifecycleState, plan: LifecyclePlan): Promise<LifecycleState> {
    const { PutBucketLifecycleConfigurationCommand, DeleteBucketLifecycleCommand } = await import('@aws-sdk/client-s3');
    try {
      if (plan.rules.length) {
        await this.client.send(new PutBucketLifecycleConfigurationCommand({
          Bucket: this.bucket,
          LifecycleConfiguration: { Rules: plan.rules },
          TransitionDefaultMinimumObjectSize: before.transitionDefaultMinimumObjectSize as never,
        }));
      } else {
        await this.client.send(new DeleteBucketLifecycleCommand({ Bucket: this.bucket }));
      }
    } catch (error) {
      throw this.failure(error);
    }
    let after: LifecycleState | undefined;
    let problem: string | undefined;
    for (let attempt = 0; attempt < 10; attempt++) {
      if (attempt) await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
      after = await this.read();
      problem = differences(before, plan, after);
      if (!problem) return after;
    }
    throw new OperationError(`The lifecycle configuration of ${this.location} read back is not what was written: ${problem}`, {
      hint: 'run `waha-storage media lifecycle show` to see what the bucket holds now',
    });
  }

  close(): void {
    this.client.destroy();
  }

  private failure(error: unknown): OperationError {
    const name = (error as { name?: string }).name;
    if (name === 'NotImplemented' || name === 'MethodNotAllowed') {
      return new OperationError(`The S3 server of ${this.location} does not support lifecycle rules (${name})`, {
        hint: 'use `waha-storage media clean s3 --older-than <age>` from cron instead', cause: error,
      });
    }
    return describeS3Failure(error, this.bucket, this.endpoint);
  }
}

/** What the read-back differs in, or undefined when it matches. */
function differences(before: LifecycleState, plan: LifecyclePlan, after: LifecycleState): string | undefined {
  if (!plan.rules.length) return after.exists && after.rules.length ? `${after.rules.length} rule(s) are still there` : undefined;
  const byId = new Map(after.rules.map((rule) => [rule.ID, rule]));
  for (const rule of plan.rules) {
    const found = byId.get(rule.ID);
    if (!found) return `rule ${rule.ID ?? '(no ID)'} is missing`;
    if (isToolRule(rule) && !sameToolRule(rule, found)) return `rule ${rule.ID} reads back as ${JSON.stringify(describeRule(found))}`;
  }
  const others = (state: LifecycleState) => new Map(state.rules.filter((rule) => !isToolRule(rule)).map((rule) => [rule.ID, canonical(rule)]));
  const othersAfter = others(after);
  for (const [id, rule] of others(before)) {
    if (othersAfter.get(id) !== rule) return `the other rule ${id ?? '(no ID)'} changed`;
  }
  const extra = after.rules.find((rule) => !plan.rules.some((planned) => planned.ID === rule.ID));
  return extra ? `an unexpected rule ${extra.ID ?? '(no ID)'} is there` : undefined;
}

/** A rule as JSON with sorted keys and no empty fields, so two reads of the same rule compare equal. */
export function canonical(rule: LifecycleRule): string {
  const clean = (value: unknown): unknown => {
    if (value instanceof Date) return value.toISOString();
    if (Array.isArray(value)) return value.map(clean);
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).filter(([, inner]) => inner !== undefined && inner !== null).sort(([a], [b]) => a.localeCompare(b)).map(([key, inner]) => [key, clean(inner)]));
    }
    return value;
  };
  return JSON.stringify(clean(rule));
}
