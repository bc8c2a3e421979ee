/**
 * Terminal text: how wide a string shows, and how to make it fit a width (wrap at spaces, break
 * words longer than the width, shorten in the middle). Colour codes take no room.
 */
import { stripVTControlCharacters } from 'node:util';

/** Columns a string takes on a terminal: colour codes none, combining marks none, wide (CJK, emoji) two. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of stripVTControlCharacters(text)) width += charWidth(char.codePointAt(0)!);
  return width;
}

function charWidth(code: number): number {
  if (code < 0x20 || (code >= 0x7f && code < 0xa0)) return 0;
  if ((code >= 0x300 && code <= 0x36f) || code === 0x200d || (code >= 0xfe00 && code <= 0xfe0f) || (code >= 0x200b && code <= 0x200f)) return 0;
  if ((code >= 0x1100 && code <= 0x115f) || (code >= 0x2e80 && code <= 0xa4cf) || (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) || (code >= 0xfe30 && code <= 0xfe4f) || (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) || (code >= 0x1f300 && code <= 0x1faff) || (code >= 0x20000 && code <= 0x3fffd)) return 2;
  return 1;
}

/** The longest line of a (possibly multi-line) string. */
export function widestLine(text: string): number {
  return Math.max(0, ...text.split('\n').map(displayWidth));
}

/** Cuts a plain string to `width` columns from the start; returns [head, rest]. */
function cut(text: string, width: number): [string, string] {
  let used = 0;
  let index = 0;
  for (const char of text) {
    const w = charWidth(char.codePointAt(0)!);
    if (used + w > width) break;
    used += w;
    index += char.length;
  }
  return [text.slice(0, index), text.slice(index)];
}

/** A path or key too long for `width`: its start and its end with "…" between (the file name stays readable). */
export function shortenMiddle(text: string, width: number): string {
  const plain = stripVTControlCharacters(text);
  if (displayWidth(plain) <= width) return text;
  if (width <= 1) return '…'.slice(0, width);
  const tail = Math.ceil((width - 1) / 2);
  const head = width - 1 - tail;
  const chars = [...plain];
  const [start] = cut(plain, head);
  const end = [...cut([...chars].reverse().join(''), tail)[0]].reverse().join('');
  return `${start}…${end}`;
}

/** Text too long for `width`: cut at the end with "…". */
export function shortenEnd(text: string, width: number): string {
  const plain = stripVTControlCharacters(text);
  if (displayWidth(plain) <= width) return text;
  return `${cut(plain, Math.max(0, width - 1))[0]}…`;
}

/** Words longer than `width` broken into pieces of `width` (on their own lines), so wrapping at spaces always fits. */
export function breakLongWords(text: string, width: number): string {
  if (width < 1) return text;
  return text.split('\n').map((line) => line.split(/(\s+)/).map((word) => {
    if (displayWidth(word) <= width || /^\s+$/.test(word)) return word;
    const pieces: string[] = [];
    let rest = stripVTControlCharacters(word);
    while (displayWidth(rest) > width) {
      const [head, tail] = cut(rest, width);
      pieces.push(head);
      rest = tail;
    }
    pieces.push(rest);
    return pieces.join('\n');
  }).join('')).join('\n');
}

/**
 * Wraps text at spaces to `width` columns (words longer than that are broken); continuation lines
 * get `indent` spaces, so a wrapped message stays one visible paragraph.
 */
export function wrapText(text: string, width: number, indent = 2): string {
  if (width < 10) return text;
  return text.split('\n').map((line) => wrapLine(line, width, indent)).join('\n');
}

function wrapLine(line: string, width: number, indent: number): string {
  if (displayWidth(line) <= width) return line;
  const lead = /^\s*/.exec(stripVTControlCharacters(line))![0].length;
  const pad = ' '.repeat(Math.min(lead + indent, Math.floor(width / 2)));
  const out: string[] = [];
  let current = '';
  let currentWidth = 0;
  const push = () => { out.push(current.trimEnd()); current = pad; currentWidth = pad.length; };
  for (const token of line.split(/(\s+)/)) {
    if (token === '') continue;
    const w = displayWidth(token);
    if (/^\s+$/.test(token)) {
      if (currentWidth + w <= width) { current += token; currentWidth += w; }
      else push();
      continue;
    }
    if (currentWidth + w > width && currentWidth > pad.length && current.trim() !== '') push();
    let rest = token;
    while (displayWidth(rest) > width - currentWidth) {
      const [head, tail] = cut(stripVTControlCharacters(rest), width - currentWidth);
      if (head === '') { push(); continue; }
      current += head;
      push();
      rest = tail;
    }
    current += rest;
    currentWidth += displayWidth(rest);
  }
  if (current.trim() !== '') out.push(current.trimEnd());
  return out.join('\n');
}
