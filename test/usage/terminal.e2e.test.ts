/**
 * `usage` on a terminal (a pseudo-terminal from `script`) at 80 and 120 columns: the table fits, a
 * bar per session, the biggest reaching the edge and the others to scale, stacked by part with a
 * glyph per part without colour (a colour per part with it), and a legend.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, runCli } from '../support/cli.js';
import { writeLocalFixtures } from '../support/fixtures/index.js';

// eslint-disable-next-line no-control-regex
const CURSOR_MOVE = /\r|\u001b\[\d*[GK]/g;

/** What the terminal shows, line by line (a spinner's frames one by one). */
function screen(output: string): string[] {
  return output.replace(/\r\n/g, '\n').split('\n').flatMap((line) => line.split(CURSOR_MOVE)).map((line) => stripVTControlCharacters(line));
}

let work: string;
let base: string;
let sessions: { name: string; bytes: number; parts: Record<string, { bytes: number }> }[];

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'waha-usage-tty-'));
  base = path.join(work, 'sessions');
  await writeLocalFixtures(base);
  sessions = json(await runCli(['usage', 'local', '--sessions-dir', base, '--json'])).sessions;
}, 60_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

const GLYPHS: Record<string, string> = { auth: '#', messages: '=', store: '+', cache: '~', media: '*', other: '.' };

describe.each([80, 120])('usage on a %i-column terminal', (columns) => {
  it('without colour: everything fits, one bar per session scaled to the width, a glyph per part, a legend', async () => {
    const result = await runCli(['usage', 'local', '--sessions-dir', base], { tty: true, columns, env: { NO_COLOR: '1' } });
    expect(result.code, result.stdout).toBe(0);
    const lines = screen(result.stdout);
    for (const line of lines) expect([...line].length, line).toBeLessThanOrEqual(columns);
    const bars = new Map<string, string>();
    for (const line of lines) {
      const match = /^(\S.*?)\s+(\d[\d.]* (?:B|KiB|MiB)) ([#=+~*.]+)$/.exec(line);
      if (match) bars.set(match[1]!.trim(), match[3]!);
    }
    const drawn = sessions.filter((session) => session.bytes > 0);
    expect([...bars.keys()].sort()).toEqual(drawn.map((session) => session.name).sort());
    const biggest = sessions[0]!;
    const biggestLine = lines.find((line) => line.startsWith(`${biggest.name} `) && /[#=+~.]$/.test(line))!;
    expect([...biggestLine].length).toBe(columns); // the biggest bar reaches the edge
    const full = bars.get(biggest.name)!.length;
    for (const session of drawn) {
      const bar = bars.get(session.name)!;
      expect(Math.abs(bar.length - (session.bytes / biggest.bytes) * full), session.name).toBeLessThanOrEqual(1);
      // stacked in part order, each part's glyph about its share of the bar
      const order = Object.keys(GLYPHS).filter((part) => bar.includes(GLYPHS[part]!)).map((part) => GLYPHS[part]).join('');
      expect(bar.replace(/(.)\1*/g, '$1'), session.name).toBe(order);
      for (const [part, glyph] of Object.entries(GLYPHS)) {
        const cells = bar.split(glyph).length - 1;
        expect(Math.abs(cells - (session.parts[part]!.bytes / session.bytes) * bar.length), `${session.name} ${part}`).toBeLessThanOrEqual(1);
      }
    }
    expect(lines).toContain('# auth  = messages  + store  ~ cache  . other');
    // the table too, boxed and fitted
    expect(lines.some((line) => /^│ session/.test(line))).toBe(true);
    expect(lines.some((line) => /^│ total/.test(line))).toBe(true);
  });

  it('with colour: the bars are blocks in each part\'s colour, the same width', async () => {
    const result = await runCli(['usage', 'local', '--sessions-dir', base], { tty: true, columns });
    expect(result.code, result.stdout).toBe(0);
    const raw = result.stdout.replace(/\r\n/g, '\n').split('\n');
    const biggest = raw.find((line) => stripVTControlCharacters(line).startsWith(`${sessions[0]!.name} `) && line.includes('█'))!;
    expect(biggest).toMatch(/\u001b\[31m█+\u001b\[0m/); // auth in red
    expect([...stripVTControlCharacters(biggest)].length).toBe(columns);
    for (const line of screen(result.stdout)) expect([...line].length, line).toBeLessThanOrEqual(columns);
    const legend = raw.find((line) => stripVTControlCharacters(line).includes('█ auth'))!;
    for (const colour of [31, 33, 36, 32, 90]) expect(legend).toContain(`\u001b[${colour}m█`);
  });
});
