/**
 * JSON parsing for data that may hold secrets (creds.json, key files, configs, archive entries).
 * V8's SyntaxError quotes a snippet of the input ("Unexpected token 'x', "…" is not valid JSON"),
 * which can be part of a private key or raw bytes; these errors name the position and never the content.
 */

export type JsonParse = { ok: true; value: unknown } | { ok: false; error: string };

/** The error thrown by `parseJsonOrThrow`; its message is safe to print. */
export class JsonSyntaxError extends Error {
  constructor(readonly offset: number, message: string) {
    super(message);
    this.name = 'JsonSyntaxError';
  }
}

export function parseJson(text: string): JsonParse {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, error: describeJsonError(error, text) };
  }
}

export function parseJsonOrThrow(text: string): unknown {
  const parsed = parseJson(text);
  if (!parsed.ok) throw new JsonSyntaxError(syntaxErrorOffset(text) ?? text.length, parsed.error);
  return parsed.value;
}

/** `invalid JSON at line 3, column 7 (character 41 of 52): unterminated string`. */
export function describeJsonError(error: unknown, text: string): string {
  if (text.trim() === '') return 'the file is empty';
  const message = error instanceof Error ? error.message : '';
  const offset = /\bat position (\d+)/.exec(message)?.[1];
  const at = offset !== undefined ? Number(offset) : syntaxErrorOffset(text) ?? text.length;
  return `invalid JSON at ${position(text, at)}: ${reasonOf(message)}`;
}

function position(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let index = text.indexOf('\n'); index !== -1 && index < offset; index = text.indexOf('\n', index + 1)) {
    line += 1;
    lineStart = index + 1;
  }
  return `line ${line}, column ${offset - lineStart + 1} (character ${offset} of ${text.length})`;
}

/** V8's wording without the quoted input: the reason is kept, the snippet and the token dropped. */
function reasonOf(message: string): string {
  if (/^Unexpected end of JSON input/.test(message)) return 'the text ends too early';
  const reason = /^(.*?) (?:in JSON )?at position \d+/.exec(message)?.[1];
  // Older V8 writes "Unexpected token g in JSON…": the token is input, so that wording is not kept.
  if (reason && !/^Unexpected token/i.test(reason) && /^[\w ,'{}[\]:-]*$/.test(reason)) return lowerFirst(reason);
  return 'unexpected character';
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** Where a JSON text stops being valid (a small scanner; used when V8's message has no position). */
export function syntaxErrorOffset(text: string): number | undefined {
  let at = 0;
  const skipSpace = () => {
    while (at < text.length && ' \t\n\r'.includes(text[at]!)) at++;
  };
  const fail = (): never => {
    throw at;
  };
  const literal = (word: string) => {
    for (const char of word) {
      if (text[at] !== char) fail();
      at++;
    }
  };
  const string = () => {
    at++; // opening quote
    for (;;) {
      if (at >= text.length) fail();
      const char = text.charCodeAt(at);
      if (char === 0x22) { at++; return; }
      if (char < 0x20) fail();
      if (char === 0x5c) {
        at++;
        const escape = text[at];
        if (escape === 'u') {
          for (let digit = 1; digit <= 4; digit++) if (!/[0-9a-fA-F]/.test(text[at + digit] ?? '')) { at += digit; fail(); }
          at += 5;
        } else if (escape !== undefined && '"\\/bfnrt'.includes(escape)) at++;
        else fail();
      } else at++;
    }
  };
  const number = () => {
    if (text[at] === '-') at++;
    if (text[at] === '0') at++;
    else if (/[1-9]/.test(text[at] ?? '')) while (/[0-9]/.test(text[at] ?? '')) at++;
    else fail();
    if (text[at] === '.') {
      at++;
      if (!/[0-9]/.test(text[at] ?? '')) fail();
      while (/[0-9]/.test(text[at] ?? '')) at++;
    }
    if (text[at] === 'e' || text[at] === 'E') {
      at++;
      if (text[at] === '+' || text[at] === '-') at++;
      if (!/[0-9]/.test(text[at] ?? '')) fail();
      while (/[0-9]/.test(text[at] ?? '')) at++;
    }
  };
  // Iterative over containers, so deep nesting cannot overflow the stack.
  const value = () => {
    const closers: string[] = [];
    for (;;) {
      skipSpace();
      const char = text[at];
      if (char === '{' || char === '[') {
        at++;
        skipSpace();
        const closer = char === '{' ? '}' : ']';
        if (text[at] === closer) at++;
        else {
          closers.push(closer);
          if (closer === '}') key();
          continue;
        }
      } else if (char === '"') string();
      else if (char === 't') literal('true');
      else if (char === 'f') literal('false');
      else if (char === 'n') literal('null');
      else if (char === '-' || /[0-9]/.test(char ?? '')) number();
      else fail();
      // After a value: a comma continues the innermost container, its closer ends it.
      for (;;) {
        const closer = closers[closers.length - 1];
        if (closer === undefined) return;
        skipSpace();
        if (text[at] === ',') {
          at++;
          if (closer === '}') key();
          break;
        }
        if (text[at] !== closer) fail();
        at++;
        closers.pop();
      }
    }
  };
  const key = () => {
    skipSpace();
    if (text[at] !== '"') fail();
    string();
    skipSpace();
    if (text[at] !== ':') fail();
    at++;
  };
  try {
    value();
    skipSpace();
    if (at < text.length) fail();
    return undefined;
  } catch (offset) {
    if (typeof offset === 'number') return offset;
    throw offset;
  }
}
