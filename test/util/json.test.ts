/** JSON parse errors name the position and never quote the input (creds.json, key files, archive entries). */
import { describe, expect, it } from 'vitest';
import { describeJsonError, parseJson, syntaxErrorOffset } from '../../src/util/json.js';

const SECRET = 'Pk7Secret';

describe('parseJson', () => {
  it.each([
    [`{"private":${SECRET}}`],
    [`{"private":"${SECRET}"}${SECRET}`],
    [`{"private":"${SECRET}" ${SECRET}`],
    [`{"private":"${SECRET}`],
    [`\u0000\u0001${SECRET}`],
    [`[1,2,${SECRET}]`],
    [`{"a":\n  {"b": ${SECRET}}}`],
  ])('%j: position, no content', (text) => {
    const parsed = parseJson(text);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.error).toMatch(/^invalid JSON at line \d+, column \d+ \(character \d+ of \d+\): [a-z]/);
    expect(parsed.error).not.toContain(SECRET);
    expect(parsed.error).not.toMatch(/[\u0000-\u001f]/);
  });

  it('names the line and column of the break', () => {
    const parsed = parseJson('{\n  "a": 1,\n  "b": x\n}');
    expect(parsed).toEqual({ ok: false, error: expect.stringMatching(/^invalid JSON at line 3, column 8 /) });
    expect(describeJsonError(new SyntaxError('whatever'), '  ')).toBe('the file is empty');
  });

  it('the scanner agrees with JSON.parse on valid and mutated JSON', () => {
    const samples = ['{"a":[1,-2.5e+3,true,false,null,"x\\u00e9\\n"],"b":{}}', '[[],[{}],""]', '"s"', '0', '-0.1E-2'];
    let seed = 7;
    const random = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
    const noise = '{}[]",:0-.eE+ \\ux\ntn';
    for (const sample of samples) {
      expect(syntaxErrorOffset(sample)).toBeUndefined();
      for (let round = 0; round < 400; round++) {
        const at = random(sample.length + 1);
        const text = sample.slice(0, at) + (random(3) ? noise[random(noise.length)] : '') + sample.slice(at + random(2));
        let valid = true;
        try { JSON.parse(text); } catch { valid = false; }
        expect(syntaxErrorOffset(text) === undefined, JSON.stringify(text)).toBe(valid);
      }
    }
  });
});
