/**
 * Backup rotation with restic's `forget` rules. Within one group, newest first: `last N` keeps the
 * N newest; `hourly/daily/weekly/monthly/yearly N` keep the newest item of each of the last N
 * distinct periods that have one (UTC; weeks are ISO weeks); `within d` keeps everything newer
 * than the group's newest item minus d. An item is kept when any rule keeps it.
 */

export const PERIOD_RULES = ['hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;
export type PeriodRule = (typeof PERIOD_RULES)[number];
export type RuleName = 'last' | PeriodRule | 'within';

export interface KeepPolicy {
  last?: number;
  hourly?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
  yearly?: number;
  /** Seconds. */
  within?: number;
}

export interface KeepReason {
  rule: RuleName;
  /** The period the item stands for (`2024-05-03`, `2024-W18`, ...), for period rules. */
  period?: string;
}

export interface Rotated<T> {
  item: T;
  keep: boolean;
  reasons: KeepReason[];
}

export function hasRules(policy: KeepPolicy): boolean {
  return Object.values(policy).some((value) => value !== undefined);
}

/** The period of a time for each rule, in UTC. */
export function periodOf(rule: PeriodRule, at: Date): string {
  const iso = at.toISOString();
  switch (rule) {
    case 'hourly': return `${iso.slice(0, 13)}h`;
    case 'daily': return iso.slice(0, 10);
    case 'weekly': return isoWeek(at);
    case 'monthly': return iso.slice(0, 7);
    case 'yearly': return iso.slice(0, 4);
  }
}

/** ISO 8601 week (`2024-W01`): weeks start on Monday; week 1 holds the year's first Thursday. */
export function isoWeek(at: Date): string {
  const day = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
  const weekday = day.getUTCDay() || 7;
  day.setUTCDate(day.getUTCDate() + 4 - weekday); // the Thursday of this week decides the year
  const year = day.getUTCFullYear();
  const week = Math.ceil(((day.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 + 1) / 7);
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** Applies the policy to one group; returns every item, newest first (ties: by `id`), with why it is kept. */
export function rotate<T>(items: readonly T[], policy: KeepPolicy, timeOf: (item: T) => Date, idOf: (item: T) => string): Rotated<T>[] {
  const sorted = [...items].sort((a, b) => timeOf(b).getTime() - timeOf(a).getTime() || (idOf(a) < idOf(b) ? -1 : idOf(a) > idOf(b) ? 1 : 0));
  const newest = sorted.length ? timeOf(sorted[0]!).getTime() : 0;
  const left = new Map<RuleName, number>();
  const lastPeriod = new Map<PeriodRule, string>();
  if (policy.last !== undefined) left.set('last', policy.last);
  for (const rule of PERIOD_RULES) if (policy[rule] !== undefined) left.set(rule, policy[rule]!);
  return sorted.map((item) => {
    const reasons: KeepReason[] = [];
    const time = timeOf(item);
    if (policy.within !== undefined && time.getTime() > newest - policy.within * 1000) reasons.push({ rule: 'within' });
    if ((left.get('last') ?? 0) > 0) {
      reasons.push({ rule: 'last' });
      left.set('last', left.get('last')! - 1);
    }
    for (const rule of PERIOD_RULES) {
      if ((left.get(rule) ?? 0) <= 0) continue;
      const period = periodOf(rule, time);
      if (lastPeriod.get(rule) === period) continue;
      lastPeriod.set(rule, period);
      left.set(rule, left.get(rule)! - 1);
      reasons.push({ rule, period });
    }
    return { item, keep: reasons.length > 0, reasons };
  });
}
