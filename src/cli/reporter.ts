import path from 'node:path';
import Table from 'cli-table3';
import type { Ora } from 'ora';
import { redact } from '../config/redact.js';
import { breakLongWords, displayWidth, shortenEnd, shortenMiddle, widestLine, wrapText } from './text.js';

export interface OutputFlags {
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  color?: boolean;
}

export interface Streams {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}

/**
 * A table column and how it gives way on a terminal narrower than the table: `wrap` at spaces (words
 * longer than the column are broken), shorten in the `middle` (paths, keys: both ends stay) or at
 * the `end`. A column without `fit` keeps its width (its header may wrap). `drop` columns are left
 * out, lowest first, only when squeezing every column to its `min` is not enough.
 */
export interface Column {
  header: string;
  fit?: 'wrap' | 'middle' | 'end';
  /** Narrowest content width when squeezed (default 10, or the content when narrower). */
  min?: number;
  drop?: number;
  /** Numbers: aligned right. */
  align?: 'right';
}

export interface Spinner {
  update(text: string): void;
  /** Draws the current text now instead of at the next frame. */
  render?(): void;
  stop(finalText?: string): void;
}

const SCHEMA_VERSION = 1;

/**
 * The one reporter: results to stdout (a table, plain lines, or one JSON document), everything
 * else (logs, progress, warnings, errors) to stderr. Colour and animation only on a terminal,
 * never with NO_COLOR or --no-color. Every string passes through `redact`.
 */
export class Reporter {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly verbose: boolean;
  readonly color: boolean;
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  private readonly colorFlag: boolean | undefined;
  private spinning: Ora | undefined;
  /** Set once a JSON document is on stdout, so a later failure does not print a second one. */
  wroteDocument = false;
  /** Set once an NDJSON line is on stdout: a later failure is then one more line, `{"type":"error",...}`. */
  wroteNdjson = false;
  /** With --quiet: the results and warnings held back; shown on stderr only if the run fails (`finish`). */
  private held: string[] = [];
  private heldDropped = 0;
  private readonly children: Reporter[] = [];
  /** Paths under this folder are shown relative to it (`pathsRelativeTo`). */
  private bases: string[] = [];

  constructor(flags: OutputFlags, private readonly streams: Streams = { stdout: process.stdout, stderr: process.stderr, env: process.env }) {
    this.colorFlag = flags.color;
    this.json = Boolean(flags.json);
    this.quiet = Boolean(flags.quiet);
    this.verbose = Boolean(flags.verbose);
    this.stdoutIsTTY = Boolean(streams.stdout.isTTY);
    this.stderrIsTTY = Boolean(streams.stderr.isTTY);
    const noColor = streams.env.NO_COLOR !== undefined && streams.env.NO_COLOR !== '';
    this.color = flags.color !== false && !noColor && this.stderrIsTTY && this.stdoutIsTTY;
  }

  /** Whether a person is watching: prompts and spinners only then. */
  get interactive(): boolean {
    return this.stderrIsTTY && Boolean(process.stdin.isTTY);
  }

  /** One JSON document on stdout, with the schema version first. */
  document(body: object): void {
    this.wroteDocument = true;
    this.out(JSON.stringify({ schemaVersion: SCHEMA_VERSION, ...body }, null, 2));
  }

  /** One NDJSON line on stdout (long listings piped to another program). */
  ndjson(record: object): void {
    this.wroteNdjson = true;
    this.out(JSON.stringify(record));
  }

  /** A result line on stdout (held back with --quiet; wrapped to the width on a terminal). */
  line(text = ''): void {
    if (this.json) this.out(text); // NDJSON batches: never held, never wrapped
    else this.result(this.stdoutIsTTY ? wrapText(this.relative(text), this.width) : this.relative(text));
  }

  private result(text: string): void {
    if (this.quiet && !this.json) this.hold(text);
    else this.out(text);
  }

  private hold(text: string): void {
    if (this.held.length < HELD_LINES) this.held.push(text);
    else this.heldDropped += text.split('\n').length;
  }

  /**
   * A boxed table on a terminal, fitted to its width (cells wrap or shorten as their column says);
   * plain aligned columns (easy to grep and cut, never shortened) when piped.
   */
  table(head: readonly (string | Column)[], rows: readonly (readonly (string | number)[])[]): void {
    // no head: a detail view (name, value) whose last column wraps
    const columns = head.length
      ? head.map((column): Column => (typeof column === 'string' ? { header: column } : column))
      : (rows[0] ?? []).map((_, index, row): Column => ({ header: '', ...(index === row.length - 1 ? { fit: 'wrap' as const } : {}) }));
    const headed = columns.some((column) => column.header !== '');
    const cells = rows.map((row) => row.map((cell) => this.relative(String(cell))));
    if (!this.stdoutIsTTY) {
      const table = new Table({ head: headed ? columns.map((column) => column.header) : [], style: { head: [], border: [], 'padding-left': 0, 'padding-right': 2 }, chars: NO_BORDERS });
      for (const row of cells) table.push(row);
      this.result(table.toString().split('\n').map((line) => line.trimEnd()).join('\n'));
      return;
    }
    const layout = fitColumns(columns, cells, this.width);
    const shown = layout.keep.map((index) => columns[index]!);
    const table = new Table({
      head: headed ? shown.map((column, i) => breakLongWords(column.header, layout.widths[i]!)) : [],
      colWidths: layout.widths.map((width) => width + 2),
      colAligns: shown.map((column) => (column.align === 'right' ? 'right' : 'left')),
      wordWrap: true,
      style: { head: this.color ? ['cyan'] : [], border: this.color ? ['grey'] : [] },
      chars: COMPACT_BORDERS,
    });
    for (const row of cells) {
      table.push(layout.keep.map((index, i) => fitCell(row[index] ?? '', columns[index]!, layout.widths[i]!)));
    }
    this.result(table.toString());
    if (layout.dropped.length) {
      this.info(`(not shown, to fit ${this.width} columns: ${layout.dropped.map((index) => columns[index]!.header).join(', ')}; see --json)`);
    }
  }

  /** The terminal's width for stdout: its columns, else $COLUMNS, else 80 (a terminal that reports 0). */
  get width(): number {
    return this.streams.stdout.columns || Number(this.streams.env.COLUMNS) || 80;
  }

  /** Shows paths under `folder` (the sessions dir) relative to it in tables and result lines. */
  pathsRelativeTo(folder: string | undefined): void {
    this.bases = folder ? [...new Set([path.resolve(folder), path.normalize(folder)])].map((base) => `${base.replace(/\/+$/, '')}/`).filter((base) => base !== './' && base !== '/') : [];
  }

  private relative(text: string): string {
    for (const base of this.bases) if (text.includes(base)) text = text.split(base).join('');
    return text;
  }

  /** A reporter for the same run whose results go to stderr (the archive has stdout); `finish` covers it too. */
  onStderr(): Reporter {
    const child = new Reporter({ json: this.json, quiet: this.quiet, verbose: this.verbose, color: this.colorFlag }, { stdout: this.streams.stderr, stderr: this.streams.stderr, env: this.streams.env });
    child.bases = this.bases;
    this.children.push(child);
    return child;
  }

  /**
   * The end of a run. With --quiet nothing was printed but errors; if the run did not succeed, the
   * results and warnings held back go to stderr now, so a cron mail says what failed.
   */
  finish(exitCode: number): void {
    for (const child of this.children) child.finish(exitCode);
    if (!this.held.length || exitCode === 0) return;
    for (const text of this.held) this.err(text);
    if (this.heldDropped) this.err(`... ${this.heldDropped} more lines (run without --quiet to see them)`);
    this.held = [];
  }

  /** Progress and information for a person, on stderr; silent with --quiet or --json. */
  info(text: string): void {
    if (!this.quiet && !this.json) this.err(text);
  }

  warn(text: string): void {
    const line = `${this.paint('yellow', 'warning:')} ${text}`;
    if (this.quiet) this.hold(line);
    else this.err(line);
  }

  /** An error, on stderr, always (also with --quiet). */
  error(text: string): void {
    this.err(`${this.paint('red', 'error:')} ${text}`);
  }

  debug(text: string): void {
    if (this.verbose) this.err(text);
  }

  /** The one word for a logged-in state in every table: yes, no or unknown (JSON keeps true/false/null). */
  loggedIn(value: boolean | null | undefined): string {
    if (value === true) return this.paint('green', 'yes');
    if (value === false) return this.paint('red', 'no');
    return 'unknown';
  }

  paint(color: 'red' | 'green' | 'yellow' | 'cyan' | 'grey' | 'bold', text: string): string {
    if (!this.color) return text;
    const codes = { red: 31, green: 32, yellow: 33, cyan: 36, grey: 90, bold: 1 } as const;
    return `\u001b[${codes[color]}m${text}\u001b[0m`;
  }

  /** An ora spinner on stderr when it is a terminal and colour is allowed; otherwise nothing. */
  async spinner(text: string): Promise<Spinner> {
    // ora loops forever clearing lines on a terminal that reports zero columns (a bare pty).
    if (!this.stderrIsTTY || !this.color || this.quiet || !this.streams.stderr.columns) return { update() {}, stop() {} };
    const { default: ora } = await import('ora');
    // discardStdin would put the terminal in raw mode, where Ctrl-C is a keystroke, not SIGINT:
    // the terminal must keep turning ^C into the signal the command stops on.
    // one line, never wrapped by the terminal: the frame and a space, then the text, shortened in the middle
    const fit = (line: string) => shortenMiddle(redact(line), Math.max(10, (this.streams.stderr.columns || 80) - 3));
    const spinner: Ora = ora({ text: fit(text), stream: this.streams.stderr, discardStdin: false }).start();
    this.spinning = spinner;
    return {
      update: (next) => { spinner.text = fit(next); },
      render: () => { spinner.render(); },
      stop: (finalText) => {
        if (this.spinning === spinner) this.spinning = undefined;
        if (finalText) spinner.succeed(redact(finalText));
        else spinner.stop();
      },
    };
  }

  private out(text: string): void {
    this.streams.stdout.write(`${redact(text)}\n`);
  }

  private err(text: string): void {
    // a line written under a running spinner (a warning on Ctrl-C) goes above it, not into it
    this.spinning?.clear();
    const width = this.streams.stderr.columns || Number(this.streams.env.COLUMNS) || 80;
    this.streams.stderr.write(`${redact(this.stderrIsTTY ? wrapText(text, width) : text)}\n`);
    this.spinning?.render();
  }
}

/** Lines held back with --quiet (shown if the run fails); past that only counted. */
const HELD_LINES = 500;

/** Words up to this long are kept whole in a wrapping column when there is room for it. */
const WORD_LIMIT = 16;

/** Padding (one space each side) and the border left of each column, plus the last border. */
const overhead = (count: number) => 3 * count + 1;

/**
 * Content widths for the columns so the table fits `width`: every column at its natural width when
 * that fits; else `fit` columns are squeezed (down to `min`), headers of the others wrap, `drop`
 * columns go (lowest first) if that is still too wide, and as a last resort every column wraps.
 */
export function fitColumns(columns: readonly Column[], rows: readonly (readonly string[])[], width: number): { keep: number[]; widths: number[]; dropped: number[] } {
  const natural = columns.map((column, index) => Math.max(1, widestLine(column.header), ...rows.map((row) => widestLine(row[index] ?? ''))));
  const content = columns.map((_, index) => Math.max(1, ...rows.map((row) => widestLine(row[index] ?? ''))));
  const longestHeaderWord = columns.map((column) => Math.max(1, ...column.header.split(/\s+/).map(displayWidth)));
  // a wrapping column should not break its words (a problem code, a name) unless it must
  const longestWord = columns.map((column, index) => Math.min(natural[index]!, WORD_LIMIT,
    Math.max(longestHeaderWord[index]!, ...rows.map((row) => Math.max(0, ...(row[index] ?? '').split(/\s+/).map(displayWidth))))));
  let keep = columns.map((_, index) => index);
  const minimum = (index: number, squeezeAll: boolean) => {
    const column = columns[index]!;
    if (squeezeAll) return Math.min(natural[index]!, column.min ?? 4);
    if (column.fit === 'wrap') return Math.min(natural[index]!, Math.max(column.min ?? 10, longestWord[index]!));
    if (column.fit) return Math.min(natural[index]!, column.min ?? 10);
    return Math.max(content[index]!, Math.min(longestHeaderWord[index]!, natural[index]!));
  };
  const total = (indices: number[], widths: (index: number) => number) => indices.reduce((sum, index) => sum + widths(index), 0) + overhead(indices.length);
  if (total(keep, (index) => natural[index]!) <= width) return { keep, widths: keep.map((index) => natural[index]!), dropped: [] };
  const dropped: number[] = [];
  const droppable = columns.map((column, index) => ({ index, rank: column.drop })).filter((item) => item.rank !== undefined).sort((a, b) => a.rank! - b.rank!);
  while (total(keep, (index) => minimum(index, false)) > width && droppable.length) {
    const next = droppable.shift()!.index;
    dropped.push(next);
    keep = keep.filter((index) => index !== next);
  }
  // still too wide: wrapping columns may break words after all, then every column gives way
  let squeezeAll = false;
  if (total(keep, (index) => minimum(index, false)) > width) {
    const relaxed = (index: number) => (columns[index]!.fit === 'wrap' ? Math.min(natural[index]!, columns[index]!.min ?? 10) : minimum(index, false));
    squeezeAll = total(keep, relaxed) > width;
    if (!squeezeAll) {
      const widths = keep.map(relaxed);
      return { keep, widths: spread(widths, keep, natural, columns, width), dropped };
    }
  }
  return { keep, widths: spread(keep.map((index) => minimum(index, squeezeAll)), keep, natural, columns, width), dropped };
}

/** Gives the room left to the columns: first the fixed ones' full headers, then the most squeezed. */
function spread(widths: number[], keep: number[], natural: number[], columns: readonly Column[], width: number): number[] {
  let spare = width - overhead(keep.length) - widths.reduce((sum, w) => sum + w, 0);
  // first the fixed columns' full headers, then the flexible ones, the most squeezed first
  for (let i = 0; i < keep.length && spare > 0; i++) {
    if (columns[keep[i]!]!.fit) continue;
    const add = Math.min(spare, natural[keep[i]!]! - widths[i]!);
    widths[i]! += add;
    spare -= add;
  }
  while (spare > 0) {
    let best = -1;
    for (let i = 0; i < keep.length; i++) {
      if (widths[i]! >= natural[keep[i]!]!) continue;
      if (best === -1 || widths[i]! / natural[keep[i]!]! < widths[best]! / natural[keep[best]!]!) best = i;
    }
    if (best === -1) break;
    widths[best]!++;
    spare--;
  }
  return widths;
}

/** One cell made to fit its column's content width. */
function fitCell(text: string, column: Column, width: number): string {
  if (widestLine(text) <= width) return text;
  if (column.fit === 'middle') return text.split('\n').map((line) => shortenMiddle(line, width)).join('\n');
  if (column.fit === 'end') return text.split('\n').map((line) => shortenEnd(line, width)).join('\n');
  return breakLongWords(text, width); // cli-table3's wordWrap wraps the rest at spaces
}

const COMPACT_BORDERS = { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' };

const NO_BORDERS = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
  bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '',
  right: '', 'right-mid': '', middle: '',
};
