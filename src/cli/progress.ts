/**
 * The one progress line of long commands (migrate, backup, restore, media clean): a live count
 * while the total is unknown ("planning: listing the sessions in mongo"), then done/total, bytes,
 * rate and ETA. It runs on the reporter's spinner, so it shows only where the spinner does: on a
 * terminal, never on a pipe, with --quiet, --json, NO_COLOR or --no-color, and Ctrl-C stays a
 * signal. On a pipe, --verbose gets the same text as a plain line every few seconds.
 */
import { formatBytes } from '../config/units.js';
import type { SessionOutcome, TransferProgress } from '../sessions/transfer.js';
import type { Reporter, Spinner } from './reporter.js';

const PLAIN_EVERY_MS = 5000;
const REFRESH_MS = 1000;
const BAR_WIDTH = 20;

export interface ProgressOptions {
  /** What runs: `migrating mongo -> local`. */
  title: string;
  /** What is counted: `sessions`, `objects`. */
  unit: string;
  /** Show nothing (e.g. a dry run that lists objects on stdout as it goes). */
  silent?: boolean;
  now?: () => number;
}

export class Progress {
  private total: number | undefined;
  private totalBytes: number | undefined;
  private done = 0;
  private bytes = 0;
  private live: string;
  private current = '';
  private readonly started: number;
  private timer: NodeJS.Timeout | undefined;
  private lastPlain = 0;
  private lastDraw = 0;
  private readonly now: () => number;

  private constructor(private readonly spinner: Spinner, private readonly plain: ((text: string) => void) | undefined, private readonly options: ProgressOptions) {
    this.now = options.now ?? Date.now;
    this.started = this.now();
    this.lastPlain = this.started;
    this.live = 'starting';
  }

  /** A progress line for this run; a silent one where no progress may be shown. */
  static async start(reporter: Reporter, options: ProgressOptions): Promise<Progress> {
    const quiet = reporter.json || reporter.quiet || Boolean(options.silent);
    const spinner = quiet ? { update() {}, stop() {} } : await reporter.spinner(options.title);
    const plain = !quiet && reporter.verbose && !reporter.stderrIsTTY ? (text: string) => reporter.debug(text) : undefined;
    const progress = new Progress(spinner, plain, options);
    progress.timer = setInterval(() => progress.render(), REFRESH_MS); // rate and ETA move while nothing is reported
    progress.timer.unref();
    return progress;
  }

  /** Before the total is known: what is being done, with a live count when there is one. */
  planning(text: string): void {
    const changed = text !== this.live;
    this.live = text;
    this.render();
    if (changed) this.draw();
  }

  setTotal(total: number, totalBytes?: number): void {
    this.total = total;
    this.totalBytes = totalBytes;
    this.render();
    this.draw();
  }

  /** Items finished and bytes handled since the last call. */
  advance(items: number, bytes = 0): void {
    this.done += items;
    this.bytes += bytes;
    this.render();
  }

  /** Absolute counts (for engines that report running totals). */
  set(done: number, bytes: number): void {
    this.done = done;
    this.bytes = bytes;
    this.render();
  }

  /** What is being worked on right now (a session name). */
  working(text: string): void {
    this.current = text;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.spinner.stop();
  }

  /** The line as shown. */
  text(): string {
    const elapsed = (this.now() - this.started) / 1000;
    const rate = elapsed > 0 ? this.bytes / elapsed : 0;
    const speed = this.bytes > 0 ? ` · ${formatBytes(this.bytes)} · ${formatBytes(Math.round(rate))}/s` : '';
    const current = this.current ? ` · ${this.current}` : '';
    if (this.total === undefined) return `${this.options.title}: ${this.live} (${clock(elapsed)})${speed}${current}`;
    const eta = this.eta(elapsed, rate);
    return `${this.options.title} ${bar(this.done, this.total)} ${this.done}/${this.total} ${this.options.unit}${speed}` +
      `${eta === undefined ? '' : ` · ETA ${clock(eta)}`}${current}`;
  }

  /** Seconds left: from bytes when the total size is known, else from the items done so far. */
  private eta(elapsed: number, rate: number): number | undefined {
    if (this.totalBytes !== undefined && rate > 0) return Math.max(0, (this.totalBytes - this.bytes) / rate);
    if (!this.total || this.done === 0) return undefined;
    return Math.max(0, (elapsed / this.done) * (this.total - this.done));
  }

  /** A new phase is drawn at once, not at the next frame (a short phase would never show), a few times a second at most. */
  private draw(): void {
    if (!this.timer || this.now() - this.lastDraw < 200) return;
    this.lastDraw = this.now();
    this.spinner.render?.();
  }

  private render(): void {
    if (!this.timer) return;
    const text = this.text();
    this.spinner.update(text);
    if (this.plain && this.now() - this.lastPlain >= PLAIN_EVERY_MS) {
      this.lastPlain = this.now();
      this.plain(text);
    }
  }
}

function bar(done: number, total: number): string {
  const filled = total > 0 ? Math.min(BAR_WIDTH, Math.round((done / total) * BAR_WIDTH)) : BAR_WIDTH;
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
}

/** 42s, 3m05s, 1h02m. */
function clock(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * The transfer engine's events as progress: the listing and planning, then sessions done of the
 * total with the bytes copied. `onOutcome` gets each finished session (the plain per-session lines).
 */
export function transferProgress(progress: Progress, options: { dryRun?: boolean; onOutcome?: (outcome: SessionOutcome) => void } = {}) {
  const active = new Map<string, string>();
  const show = () => {
    const names = [...active].map(([name, what]) => `${what} ${name}`);
    progress.working(names.length > 2 ? `${names.slice(0, 2).join(', ')} +${names.length - 2}` : names.join(', '));
  };
  return (event: TransferProgress): void => {
    switch (event.phase) {
      case 'list':
        progress.planning(`planning: listing the sessions in ${event.store}`);
        return;
      case 'plan':
        progress.setTotal(event.total);
        return;
      case 'start':
        active.set(event.session.name, 'reading');
        show();
        progress.advance(0);
        return;
      case 'copy':
        active.set(event.session.name, 'copying');
        show();
        return;
      case 'entry':
        progress.advance(0, event.bytes);
        return;
      case 'end':
        active.delete(event.session.name);
        show();
        // a dry run copies nothing: its bytes are what the plan would copy
        progress.advance(1, options.dryRun && event.outcome.status === 'planned' ? event.outcome.bytes : 0);
        options.onOutcome?.(event.outcome);
    }
  };
}
