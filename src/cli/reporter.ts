import Table from 'cli-table3';
import type { Ora } from 'ora';
import { redact } from '../config/redact.js';

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

export interface Spinner {
  update(text: string): void;
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
  private spinning: Ora | undefined;
  /** Set once a JSON document is on stdout, so a later failure does not print a second one. */
  wroteDocument = false;
  /** Set once an NDJSON line is on stdout: a later failure is then one more line, `{"type":"error",...}`. */
  wroteNdjson = false;

  constructor(flags: OutputFlags, private readonly streams: Streams = { stdout: process.stdout, stderr: process.stderr, env: process.env }) {
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

  /** A result line on stdout. */
  line(text = ''): void {
    this.out(text);
  }

  /** A boxed table on a terminal; plain aligned columns (easy to grep and cut) when piped. */
  table(head: string[], rows: (string | number)[][]): void {
    const table = new Table({
      head,
      style: this.stdoutIsTTY
        ? { head: this.color ? ['cyan'] : [], border: this.color ? ['grey'] : [] }
        : { head: [], border: [], 'padding-left': 0, 'padding-right': 2 },
      chars: this.stdoutIsTTY ? COMPACT_BORDERS : NO_BORDERS,
    });
    for (const row of rows) table.push(row.map((cell) => String(cell)));
    this.out(this.stdoutIsTTY ? table.toString() : table.toString().split('\n').map((line) => line.trimEnd()).join('\n'));
  }

  /** Progress and information for a person, on stderr; silent with --quiet or --json. */
  info(text: string): void {
    if (!this.quiet && !this.json) this.err(text);
  }

  warn(text: string): void {
    if (!this.quiet) this.err(`${this.paint('yellow', 'warning:')} ${text}`);
  }

  error(text: string): void {
    this.err(`${this.paint('red', 'error:')} ${text}`);
  }

  debug(text: string): void {
    if (this.verbose) this.err(text);
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
    const spinner: Ora = ora({ text: redact(text), stream: this.streams.stderr, discardStdin: false }).start();
    this.spinning = spinner;
    return {
      update: (next) => { spinner.text = redact(next); },
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
    this.streams.stderr.write(`${redact(text)}\n`);
    this.spinning?.render();
  }
}

const COMPACT_BORDERS = { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' };

const NO_BORDERS = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
  bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '',
  right: '', 'right-mid': '', middle: '',
};
