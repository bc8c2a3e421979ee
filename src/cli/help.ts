/**
 * Help text: the width it wraps at (the terminal's, 80 when piped or when a terminal reports 0)
 * and the text each command adds after its options, reflowed to that width, with its examples.
 */
import { Help, type Command, type HelpConfiguration } from 'commander';
import { breakLongWords, wrapText } from './text.js';

/** The width help is wrapped at, for stdout or stderr (help after a usage error). */
export function helpWidth(stream: NodeJS.WriteStream): number {
  return (stream.isTTY && stream.columns) || Number(process.env.COLUMNS) || 80;
}

/** Commander wraps its own parts (descriptions, options) at this width; subcommands inherit it. */
export function configureHelpWidth(program: Command): void {
  program.configureOutput({
    getOutHelpWidth: () => helpWidth(process.stdout),
    getErrHelpWidth: () => helpWidth(process.stderr),
  });
}

/**
 * Commander's layout, fitted to narrow terminals: the term column is at most 40% of the width (a
 * longer option term gets a line of its own, its description below), and words longer than the
 * description column (environment variable names) are broken rather than run past the edge.
 */
export function helpConfiguration(): HelpConfiguration {
  return {
    sortOptions: false,
    minWidthToWrap: 24,
    padWidth(this: Help, command: Command, helper: Help): number {
      return Math.min(Help.prototype.padWidth.call(this, command, helper), Math.max(24, Math.floor((this.helpWidth ?? 80) * 0.4)));
    },
    formatItem(this: Help, term: string, termWidth: number, description: string, helper: Help): string {
      if (!description || helper.displayWidth(term) <= termWidth) return Help.prototype.formatItem.call(this, term, termWidth, description, helper);
      return `  ${term}\n${Help.prototype.formatItem.call(this, '', termWidth, description, helper)}`;
    },
    boxWrap(this: Help, text: string, width: number): string {
      return Help.prototype.boxWrap.call(this, breakLongWords(text, width), width);
    },
  } as HelpConfiguration;
}

/**
 * Adds the text shown after the options: `text` (paragraphs; indented lines are items) and an
 * "Examples:" section, `[what it does, command]` pairs. Both are wrapped at the help width when
 * shown.
 */
export function addHelp(command: Command, text: string, examples: readonly (readonly [string, string])[]): void {
  const sections = [text.trim() ? `\n${text.replace(/^\n+|\s+$/g, '')}` : '', examples.length ? `\nExamples:\n${examples.map(([what, line]) => `${what ? `  # ${what}\n` : ''}  $ ${line}`).join('\n')}` : ''];
  command.addHelpText('after', (context) => reflow(sections.join('\n'), helpWidth(context.error ? process.stderr : process.stdout)));
}

interface Paragraph {
  text: string;
  /** Where wrapped lines continue: under the item's description, or at the line's own indent. */
  hang: number;
}

/**
 * Joins the lines of a paragraph (prose lines; an item's continuation lines, indented to its
 * description) and wraps each at `width`. Blank lines, indented items and "Label:" lines start
 * paragraphs of their own.
 */
export function reflow(text: string, width: number): string {
  const paragraphs: (Paragraph | null)[] = [];
  for (const line of text.split('\n')) {
    const last = paragraphs[paragraphs.length - 1];
    const indent = /^ */.exec(line)![0].length;
    if (line.trim() === '') {
      paragraphs.push(null);
    } else if (last && indent === 0 && last.hang === 0 && !/:$/.test(last.text) && !/^[A-Z][\w-]*(?: [\w-]+){0,2}:(\s|$)/.test(line) && !/^\s*\$ /.test(last.text)) {
      last.text += ` ${line}`;
    } else if (last && indent > 0 && indent === last.hang && last.text.startsWith(' ')) {
      last.text += ` ${line.trim()}`;
    } else {
      const item = /^(\s*\S.*?\s{2,})\S/.exec(line);
      paragraphs.push({ text: line, hang: indent === 0 ? 0 : item ? item[1]!.length : indent + 2 });
    }
  }
  return paragraphs.map((paragraph) => {
    if (!paragraph) return '';
    const lead = /^ */.exec(paragraph.text)![0].length;
    const hang = paragraph.hang > width / 2 ? lead + 2 : paragraph.hang;
    return wrapText(paragraph.text, width, hang - lead);
  }).join('\n');
}
