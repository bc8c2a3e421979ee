/**
 * The CLI's one clock. `WAHA_STORAGE_NOW` (an ISO 8601 time, undocumented, for tests only) fixes
 * it, so archives with chosen creation times and `{date}`/`{time}` file names can be tested.
 */
import { UsageError } from '../errors.js';

export const NOW_ENV = 'WAHA_STORAGE_NOW';

export function now(): Date {
  const fixed = process.env[NOW_ENV];
  if (!fixed) return new Date();
  const date = new Date(fixed);
  if (Number.isNaN(date.getTime())) throw new UsageError(`${NOW_ENV} "${fixed}" is not an ISO 8601 time`, { hint: `unset ${NOW_ENV}` });
  return date;
}

/** `{date}` -> YYYY-MM-DD and `{time}` -> HHMMSS, in UTC, so a nightly cron line needs no shell. */
export function expandTimePlaceholders(text: string, at: Date): string {
  const iso = at.toISOString();
  return text.replaceAll('{date}', iso.slice(0, 10)).replaceAll('{time}', iso.slice(11, 19).replaceAll(':', ''));
}
