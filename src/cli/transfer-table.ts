/** The table and the summary line of a transfer (migrate, backup, restore): one layout for all three. */
import { formatBytes } from '../config/units.js';
import type { SessionOutcome, TransferSummary } from '../sessions/transfer.js';
import { plural } from '../util/plural.js';
import type { Reporter } from './reporter.js';

export function transferTable(sessions: readonly SessionOutcome[], reporter: Reporter): void {
  reporter.table(
    [
      { header: 'engine' }, { header: 'session', fit: 'wrap', min: 8 }, { header: 'status' }, { header: 'reason', fit: 'wrap', min: 16 },
      { header: 'entries', align: 'right', drop: 1 }, { header: 'size', align: 'right' },
    ],
    sessions.map((session) => [
      session.engine ?? '?',
      session.name,
      paintStatus(session, reporter),
      session.reason ? `${session.reason}${session.message ? `: ${session.message}` : ''}` : session.action === 'overwrite' ? 'overwrite' : '',
      session.entries,
      formatBytes(session.bytes),
    ]),
  );
}

function paintStatus(session: SessionOutcome, reporter: Reporter): string {
  const color = session.status === 'done' ? 'green' : session.status === 'failed' ? 'red' : session.status === 'skipped' ? 'yellow' : 'cyan';
  return reporter.paint(color, session.status);
}

/** "3 sessions: 2 done, 0 planned, 1 skipped, 0 failed; copied 40 entries (12.0 KiB)". */
export function transferSummary(summary: TransferSummary, verb: string): string {
  return `${plural(summary.sessions, 'session')}: ${summary.done} done, ${summary.planned} planned, ${summary.skipped} skipped, ${summary.failed} failed; ` +
    `${verb} ${plural(summary.entries, 'entry')} (${formatBytes(summary.bytes)})`;
}

/** One line per finished session when no spinner shows progress (piped, --no-color). */
export function progressLine(outcome: SessionOutcome): string {
  const what = outcome.status === 'done' || outcome.status === 'planned'
    ? `${plural(outcome.entries, 'entry')}, ${formatBytes(outcome.bytes)}`
    : `${outcome.reason}${outcome.message ? `: ${outcome.message}` : ''}`;
  return `${outcome.status} ${outcome.engine ?? '?'} ${outcome.name} (${what})`;
}
