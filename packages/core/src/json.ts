/**
 * Python's JSON dialect, read exactly and written back exactly.
 *
 * Python modelstore writes every registry document with Python's `json.dumps`
 * (through dataclasses_json's `to_json()` for metadata, plain `json.dumps` for
 * state files). The text is RFC 8259 JSON (https://www.rfc-editor.org/rfc/rfc8259)
 * with three additions and two properties that JavaScript's `JSON.parse` loses:
 *
 * - `float('nan')`, `float('inf')` and `float('-inf')` are written as the bare
 *   tokens `NaN`, `Infinity` and `-Infinity` (Python's `json` module docs,
 *   https://docs.python.org/3/library/json.html, "Infinite and NaN Number
 *   Values"); `JSON.parse` rejects them;
 * - integers have any size (`2**64-1`, `10**30`); `JSON.parse` rounds them to
 *   the nearest double;
 * - floats keep their int/float distinction in the text (`1.0` vs `1`) and the
 *   sign of `-0.0`; JavaScript numbers keep `-0` but not the distinction
 *   (use {@link replaceMember} when a document must be copied byte for byte).
 *
 * We parse it ourselves because no maintained npm package reads this dialect
 * losslessly (checked: `lossless-json@4.3.3` and `json-bigint@1.0.0` reject
 * `NaN`; `json5` reads `NaN` but rounds big integers).
 *
 * Everything here is iterative: no input, however deeply nested, can overflow
 * the call stack.
 */

import { InvalidOptionError } from './errors.js';

// ---------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------

/**
 * A malformed JSON text. A `SyntaxError` (as `JSON.parse` throws), carrying
 * where the text went wrong.
 */
export class JsonSyntaxError extends SyntaxError {
  /**
   * Offset from the start of the text in UTF-16 code units (a JavaScript string index). Python's
   * `char` counts code points: the two differ after a character outside the BMP (an emoji).
   */
  readonly position: number;
  /** 1-based line of `position` (lines end at `\n`). */
  readonly line: number;
  /** 1-based column of `position` within its line, in UTF-16 code units. */
  readonly column: number;

  constructor(reason: string, text: string, position: number) {
    let line = 1;
    let lineStart = 0;
    for (let i = text.indexOf('\n'); i !== -1 && i < position; i = text.indexOf('\n', i + 1)) {
      line++;
      lineStart = i + 1;
    }
    const column = position - lineStart + 1;
    super(`${reason} at line ${line} column ${column} (char ${position})`);
    this.name = 'SyntaxError';
    this.position = position;
    this.line = line;
    this.column = column;
  }
}

/**
 * What `JSON.parse` reads differently from Python (or may: these also match inside strings,
 * which only costs the exact parser's time): a run of 16 digits (the only way to write an
 * integer literal outside the safe range), and the integer literal `-0` (Python's int 0;
 * `JSON.parse` gives -0), which is at the start or after `:`, `,`, `[` or whitespace. Two
 * plain expressions: one alternation scans twice as slowly, and a bare `-0` would send every
 * document holding a name such as `model-0` or a UUID to the exact parser.
 */
const longDigitRun = /\d{16}/;
const integerMinusZero = /[:,[\s]-0(?![.eE\d])/;
const leadingMinusZero = /^-0(?![.eE\d])/;

function jsonParseReadsAsPython(text: string): boolean {
  return !longDigitRun.test(text) && !integerMinusZero.test(text) && !leadingMinusZero.test(text);
}

/**
 * Parses a JSON text in Python's dialect, exactly as Python's `json.loads`
 * reads it (https://docs.python.org/3/library/json.html).
 *
 * Accepts exactly RFC 8259 JSON plus the tokens `NaN`, `Infinity` and
 * `-Infinity`; whitespace (space, tab, `\n`, `\r`) may surround the value. No
 * comments, trailing commas, single quotes, hex numbers or byte order mark.
 *
 * Values returned:
 * - objects are plain objects (prototype `Object.prototype`); a `"__proto__"`
 *   key becomes an own property and never changes the prototype; when a key
 *   repeats, the last value wins (as in Python) at the place of the first;
 * - arrays, strings (every escape; lone surrogates such as `\ud800` kept as
 *   they are), `true`, `false`, `null`;
 * - an integer literal (no `.`, no exponent) outside
 *   `Number.MIN_SAFE_INTEGER..Number.MAX_SAFE_INTEGER` becomes a `bigint` with
 *   its exact value; every other number is a `number` (`-0.0` gives `-0` but
 *   the integer `-0` gives `0`, `1e400` gives `Infinity`, as in Python);
 *   `NaN`, `Infinity`, `-Infinity` give the JavaScript numbers.
 *
 * Texts that hold no run of 16 or more digits and no integer literal `-0` are
 * first handed to `JSON.parse`, whose result is then the same; the rest (and
 * whatever `JSON.parse` rejects) go to the exact parser.
 *
 * @param text - the whole document, already decoded from UTF-8.
 * @returns the value (`unknown`: check its shape before use).
 * @throws {@link JsonSyntaxError} (a `SyntaxError`) when `text` is not valid in
 *   this dialect; its message gives the line, column and offset, e.g.
 *   `Expecting value at line 1 column 4 (char 3)`.
 * @throws {@link InvalidOptionError} (`option` = `text`) when `text` is not a string.
 */
export function parseJson(text: string): unknown {
  if (typeof text !== 'string') throw new InvalidOptionError('text', `parseJson expects the JSON text as a string, got ${text === null ? 'null' : typeof text}`);
  if (jsonParseReadsAsPython(text)) {
    try {
      return JSON.parse(text);
    } catch {
      // NaN, Infinity, a syntax error: the exact parser decides (and says where).
    }
  }
  return new Parser(text).parse();
}

/**
 * The exact parser alone, without the `JSON.parse` fast path (for tests that
 * compare the two). Same contract as {@link parseJson}.
 *
 * @internal
 */
export function parseJsonExact(text: string): unknown {
  return new Parser(text).parse();
}

const enum Ch {
  Tab = 0x09,
  Newline = 0x0a,
  Return = 0x0d,
  Space = 0x20,
  Quote = 0x22,
  Plus = 0x2b,
  Comma = 0x2c,
  Minus = 0x2d,
  Dot = 0x2e,
  Slash = 0x2f,
  Zero = 0x30,
  One = 0x31,
  Nine = 0x39,
  Colon = 0x3a,
  UpperE = 0x45,
  UpperI = 0x49,
  UpperN = 0x4e,
  OpenBracket = 0x5b,
  Backslash = 0x5c,
  CloseBracket = 0x5d,
  LowerE = 0x65,
  LowerF = 0x66,
  LowerN = 0x6e,
  LowerT = 0x74,
  OpenBrace = 0x7b,
  CloseBrace = 0x7d,
}

type Container = unknown[] | Record<string, unknown>;

/** What `\<c>` stands for in a JSON string, by the character code of `c` (`\u` is read apart). */
const simpleEscapes: (string | undefined)[] = [];
for (const [c, value] of [
  [Ch.Quote, '"'],
  [Ch.Backslash, '\\'],
  [Ch.Slash, '/'],
  [0x62, '\b'],
  [Ch.LowerF, '\f'],
  [Ch.LowerN, '\n'],
  [0x72, '\r'],
  [Ch.LowerT, '\t'],
] as const) {
  simpleEscapes[c] = value;
}

// Globals read once: inside a vm context (jest, some sandboxes) every global lookup is an
// interceptor call, which made the exact parser about 20 times slower there.
const isArray = Array.isArray;
const toNumber = Number;
const isSafeInteger = Number.isSafeInteger;
const toBigInt = BigInt;
const fromCharCode = String.fromCharCode;
const isNaNNumber = Number.isNaN;
const isFiniteNumber = Number.isFinite;
const isInteger = Number.isInteger;
const toText = String;
const quote = JSON.stringify;
const keysOf = Object.keys;
const prototypeOf = Object.getPrototypeOf;
const symbolsOf = Object.getOwnPropertySymbols;
const objectPrototype = Object.prototype;
const BooleanObject = Boolean;

function setMember(object: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
  else object[key] = value;
}

class Parser {
  private i = 0;
  constructor(private readonly text: string) {}

  parse(): unknown {
    const text = this.text;
    const stack: Container[] = [];
    // For each object on the stack, the key whose value is being parsed.
    const keys: string[] = [];
    let value: unknown;

    this.skipWhitespace();
    if (text.charCodeAt(this.i) === 0xfeff) this.fail('Unexpected byte order mark (decode the bytes as UTF-8 without it)');
    for (;;) {
      // Read a value; containers are pushed and their members read by the same loop.
      const c = text.charCodeAt(this.i);
      if (c === Ch.OpenBrace || c === Ch.OpenBracket) {
        this.i++;
        const container: Container = c === Ch.OpenBrace ? {} : [];
        this.skipWhitespace();
        // `}` and `]` are two code points after `{` and `[`.
        if (text.charCodeAt(this.i) === c + 2) {
          this.i++;
          value = container;
        } else {
          stack.push(container);
          if (c === Ch.OpenBrace) keys.push(this.readKey());
          continue;
        }
      } else {
        value = this.readScalar(c);
      }

      // A value is complete: store it in its container, then close containers that end here.
      for (;;) {
        if (stack.length === 0) {
          this.skipWhitespace();
          if (this.i < text.length) this.fail('Extra data after the JSON value');
          return value;
        }
        const top = stack[stack.length - 1]!;
        this.skipWhitespace();
        const next = text.charCodeAt(this.i);
        if (isArray(top)) {
          top.push(value);
          if (next === Ch.Comma) {
            this.i++;
            this.skipWhitespace();
            break;
          }
          if (next === Ch.CloseBracket) {
            this.i++;
            stack.pop();
            value = top;
            continue;
          }
          this.fail(this.i >= text.length ? "Unexpected end of input, expecting ',' or ']'" : "Expecting ',' or ']'");
        } else {
          setMember(top, keys[keys.length - 1]!, value);
          if (next === Ch.Comma) {
            this.i++;
            this.skipWhitespace();
            keys[keys.length - 1] = this.readKey();
            break;
          }
          if (next === Ch.CloseBrace) {
            this.i++;
            stack.pop();
            keys.pop();
            value = top;
            continue;
          }
          this.fail(this.i >= text.length ? "Unexpected end of input, expecting ',' or '}'" : "Expecting ',' or '}'");
        }
      }
    }
  }

  /** Reads `"key"` `:` and the whitespace after it; `i` is at the key's quote (whitespace before it already skipped). */
  private readKey(): string {
    if (this.text.charCodeAt(this.i) !== Ch.Quote) this.fail('Expecting property name enclosed in double quotes');
    const key = this.readString();
    this.skipWhitespace();
    if (this.text.charCodeAt(this.i) !== Ch.Colon) this.fail("Expecting ':' delimiter");
    this.i++;
    this.skipWhitespace();
    return key;
  }

  private readScalar(c: number): unknown {
    const text = this.text;
    switch (c) {
      case Ch.Quote:
        return this.readString();
      case Ch.LowerT:
        return this.literal('true', true);
      case Ch.LowerF:
        return this.literal('false', false);
      case Ch.LowerN:
        return this.literal('null', null);
      case Ch.UpperN:
        return this.literal('NaN', Number.NaN);
      case Ch.UpperI:
        return this.literal('Infinity', Number.POSITIVE_INFINITY);
      case Ch.Minus:
        if (text.charCodeAt(this.i + 1) === Ch.UpperI) return this.literal('-Infinity', Number.NEGATIVE_INFINITY);
        return this.readNumber();
      default:
        if (c >= Ch.Zero && c <= Ch.Nine) return this.readNumber();
        return this.fail(this.i >= text.length ? 'Unexpected end of input, expecting value' : 'Expecting value');
    }
  }

  private literal<T>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.i)) this.fail('Expecting value');
    this.i += word.length;
    return value;
  }

  private readNumber(): number | bigint {
    const text = this.text;
    const start = this.i;
    let i = start;
    if (text.charCodeAt(i) === Ch.Minus) i++;
    const first = text.charCodeAt(i);
    if (first === Ch.Zero) {
      i++;
    } else if (first >= Ch.One && first <= Ch.Nine) {
      i++;
      while (isDigit(text.charCodeAt(i))) i++;
    } else {
      this.fail('Expecting value', start);
    }
    let integer = true;
    if (text.charCodeAt(i) === Ch.Dot && isDigit(text.charCodeAt(i + 1))) {
      integer = false;
      i += 2;
      while (isDigit(text.charCodeAt(i))) i++;
    }
    const e = text.charCodeAt(i);
    if (e === Ch.LowerE || e === Ch.UpperE) {
      let j = i + 1;
      const sign = text.charCodeAt(j);
      if (sign === Ch.Plus || sign === Ch.Minus) j++;
      if (isDigit(text.charCodeAt(j))) {
        integer = false;
        i = j + 1;
        while (isDigit(text.charCodeAt(i))) i++;
      }
    }
    // A `.` or exponent without digits is left unread, so the caller reports what follows (as Python does).
    this.i = i;
    const literal = text.slice(start, i);
    const value = toNumber(literal);
    if (integer) {
      if (!isSafeInteger(value)) return toBigInt(literal);
      if (value === 0) return 0; // `-0` is Python's int 0, not a float minus zero
    }
    return value;
  }

  private readString(): string {
    const text = this.text;
    const start = this.i + 1; // after the opening quote
    let i = start;
    let chunkStart = start;
    let result = '';
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === Ch.Quote) {
        this.i = i + 1;
        return chunkStart === start ? text.slice(start, i) : result + text.slice(chunkStart, i);
      }
      if (c === Ch.Backslash) {
        result += text.slice(chunkStart, i);
        // biome-ignore lint/suspicious/noShadowRestrictedNames: the deprecated global escape() is never used here
        const escape = text.charCodeAt(i + 1);
        const simple = simpleEscapes[escape];
        if (simple !== undefined) {
          result += simple;
          i += 2;
        } else if (escape === 0x75) {
          // \uXXXX
          let code = 0;
          for (let k = 2; k < 6; k++) {
            const h = hexValue(text.charCodeAt(i + k));
            if (h < 0) this.fail('Invalid \\uXXXX escape', i + 1); // where Python reports it
            code = code * 16 + h;
          }
          result += fromCharCode(code);
          i += 6;
        } else {
          this.fail(isNaNNumber(escape) ? 'Unterminated string starting' : 'Invalid \\escape', isNaNNumber(escape) ? start - 1 : i);
        }
        chunkStart = i;
        continue;
      }
      if (c < 0x20) this.fail('Invalid control character', i);
      if (isNaNNumber(c)) this.fail('Unterminated string starting', start - 1);
      i++;
    }
  }

  private skipWhitespace(): void {
    const text = this.text;
    let i = this.i;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === Ch.Space || c === Ch.Newline || c === Ch.Return || c === Ch.Tab) i++;
      else break;
    }
    this.i = i;
  }

  private fail(reason: string, position = this.i): never {
    throw new JsonSyntaxError(reason, this.text, position);
  }
}

function isDigit(c: number): boolean {
  return c >= Ch.Zero && c <= Ch.Nine;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

// ---------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------

/** Options of {@link stringifyJson}. */
export interface StringifyJsonOptions {
  /**
   * Spaces per nesting level, as `JSON.stringify`'s third argument (clamped to
   * 0..10; 0 or omitted: everything on one line, no spaces).
   */
  indent?: number;
}

/**
 * Writes a value as JSON in Python's dialect: the inverse of {@link parseJson}.
 * `parseJson(stringifyJson(v))` deep-equals `v` for every value `parseJson`
 * returns, and Python's `json.loads` reads the text back as the same values.
 *
 * Output is `JSON.stringify(value, null, indent)` (same string escaping, key
 * order, spacing and indentation) except for numbers `JSON.stringify` cannot
 * write faithfully:
 * - `bigint` → its decimal digits (`JSON.stringify` throws);
 * - `NaN`, `Infinity`, `-Infinity` → those tokens, as Python writes them
 *   (`JSON.stringify` writes `null`);
 * - `-0` → `-0.0` (Python reads a float minus zero; `JSON.stringify` writes `0`);
 * - an integral number outside the safe integer range (only a float literal
 *   such as `1e20` parses to one) → written as a float, `100000000000000000000.0`,
 *   so that neither Python nor `parseJson` reads it back as an integer.
 *
 * Known loss (in the values, not here): a Python float with an integral value
 * inside the safe range (`1.0`) parses to the number `1` and is written `1`,
 * which Python reads as an int; integer-like object keys come first (JavaScript
 * orders them). Copy documents with {@link replaceMember} to keep every byte.
 *
 * Other values follow `JSON.stringify`: `toJSON()` is called, `undefined`,
 * functions and symbols are left out of objects and written `null` in arrays
 * (and `null` at the top level). Nesting depth is unlimited (no recursion).
 *
 * @param value - what to write; normally what `parseJson` returned.
 * @param options - {@link StringifyJsonOptions}.
 * @returns the JSON text (no trailing newline).
 * @throws {@link InvalidOptionError} (`option` = `value`) for a cyclic structure
 *   (never for a value `parseJson` returned); whatever a `toJSON()` throws.
 */
export function stringifyJson(value: unknown, options: StringifyJsonOptions = {}): string {
  const width = Math.min(10, Math.max(0, Math.floor(Number(options.indent ?? 0)) || 0));
  const gap = ' '.repeat(width);
  const out: string[] = [];

  interface Frame {
    container: object;
    array: boolean;
    /** Object keys to write (own enumerable string keys), or undefined for arrays. */
    keys: string[] | undefined;
    next: number;
    /** Whether something was written yet (for the comma). */
    wrote: boolean;
    indent: string;
  }
  const stack: Frame[] = [];
  const open = new Set<object>();

  /** Writes a scalar, or opens a container frame. Returns false when the value is skipped (object member). */
  const write = (raw: unknown, key: string, inArray: boolean, indent: string): boolean => {
    let v = raw;
    if (v !== null && (typeof v === 'object' || typeof v === 'bigint') && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
      v = (v as { toJSON: (key: string) => unknown }).toJSON.call(v, key);
    }
    switch (typeof v) {
      case 'string':
        out.push(quote(v));
        return true;
      case 'number':
        out.push(numberText(v));
        return true;
      case 'bigint':
        out.push(v.toString());
        return true;
      case 'boolean':
        out.push(v ? 'true' : 'false');
        return true;
      case 'object': {
        if (v === null) {
          out.push('null');
          return true;
        }
        if (v instanceof toNumber) {
          out.push(numberText(toNumber(v)));
          return true;
        }
        if (v instanceof toText) {
          out.push(quote(toText(v)));
          return true;
        }
        if (v instanceof BooleanObject) {
          out.push(v.valueOf() ? 'true' : 'false');
          return true;
        }
        if (open.has(v)) throw new InvalidOptionError('value', `stringifyJson: the value contains itself (a cycle closes at key ${quote(key)}); JSON cannot hold cycles`);
        const array = isArray(v);
        const keys = array ? undefined : keysOf(v);
        if (array ? (v as unknown[]).length === 0 : keys!.length === 0) {
          out.push(array ? '[]' : '{}');
          return true;
        }
        open.add(v);
        out.push(array ? '[' : '{');
        stack.push({ container: v, array, keys, next: 0, wrote: false, indent: indent + gap });
        return true;
      }
      default:
        // undefined, function, symbol
        if (inArray) {
          out.push('null');
          return true;
        }
        return false;
    }
  };

  if (!write(value, '', true, '')) return 'null';
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    const length = frame.array ? (frame.container as unknown[]).length : frame.keys!.length;
    if (frame.next >= length) {
      stack.pop();
      open.delete(frame.container);
      if (gap !== '' && frame.wrote) out.push('\n', frame.indent.slice(0, frame.indent.length - gap.length));
      out.push(frame.array ? ']' : '}');
      continue;
    }
    const index = frame.next++;
    const separator = (frame.wrote ? ',' : '') + (gap === '' ? '' : `\n${frame.indent}`);
    if (frame.array) {
      out.push(separator);
      frame.wrote = true;
      write((frame.container as unknown[])[index], String(index), true, frame.indent);
    } else {
      const key = frame.keys![index]!;
      const mark = out.length;
      out.push(separator, quote(key), gap === '' ? ':' : ': ');
      if (write((frame.container as Record<string, unknown>)[key], key, false, frame.indent)) frame.wrote = true;
      else out.length = mark;
    }
  }
  return out.join('');
}

function numberText(n: number): string {
  if (isNaNNumber(n)) return 'NaN';
  if (n === Number.POSITIVE_INFINITY) return 'Infinity';
  if (n === Number.NEGATIVE_INFINITY) return '-Infinity';
  if (n === 0) return Object.is(n, -0) ? '-0.0' : '0';
  const text = toText(n);
  if (isInteger(n) && !isSafeInteger(n) && !text.includes('e')) return `${text}.0`;
  return text;
}

// ---------------------------------------------------------------------------
// Checking what we write
// ---------------------------------------------------------------------------

const identifier = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function memberPath(parent: string, key: string): string {
  return identifier.test(key) ? `${parent}.${key}` : `${parent}[${quote(key)}]`;
}

/** What to pass instead of a non-plain object (`undefined`: not a known kind). */
function nonPlainAdvice(value: object): string {
  if (value instanceof Date) return 'a Date: pass date.toISOString() (a string) instead';
  if (value instanceof Map) return 'a Map: pass Object.fromEntries(map) (a plain object) instead';
  if (value instanceof Set) return 'a Set: pass [...set] (an array) instead';
  if (value instanceof RegExp) return 'a RegExp: pass regexp.source (a string) instead';
  if (typeof Buffer !== 'undefined' && Buffer.isBuffer(value)) return "a Buffer: pass buffer.toString('base64') (a string) or Array.from(buffer) instead";
  if (ArrayBuffer.isView(value)) return `a ${value.constructor?.name ?? 'typed array'}: pass Array.from(...) (an array of numbers) or a base64 string instead`;
  if (value instanceof ArrayBuffer) return 'an ArrayBuffer: pass Array.from(new Uint8Array(buffer)) or a base64 string instead';
  if (value instanceof Number || value instanceof String || value instanceof Boolean) return `a boxed ${typeof value.valueOf()}: pass the primitive value (${typeof value.valueOf()}) instead`;
  if (value instanceof Error) return `an Error (${value.name}): pass { name, message } or error.message (a string) instead`;
  if (value instanceof Promise) return 'a Promise: await it and pass its value instead';
  const name = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  const what = typeof name === 'string' && name !== '' ? `an instance of ${name}` : 'an object with a custom prototype';
  return `${what}: pass a plain object (e.g. { ...value } with only JSON values) or a string instead`;
}

/**
 * Checks that a value this library is about to write (a user's
 * `extraMetadata`) is strict JSON that `JSON.parse` reads back exactly, so that
 * neither `JSON.stringify` nor Python's `json.loads` silently changes it.
 *
 * The top-level value must be a plain object (prototype `Object.prototype` or
 * `null`). Nested values may be `null`, booleans, strings, finite numbers,
 * arrays and plain objects. Refused, with the path of the first bad value
 * (e.g. `extraMetadata.metrics[2].loss`):
 * - `NaN`, `Infinity`, `-Infinity` (strict JSON cannot hold them);
 * - `bigint` (pass it as a string: `JSON.parse` would round it);
 * - `undefined`, functions and symbols (`JSON.stringify` drops them from
 *   objects and writes `null` in arrays), holes of sparse arrays;
 * - objects whose prototype is neither `Object.prototype` nor `null` and that
 *   are not arrays: `Date`, `Map`, `Set`, `RegExp`, `Buffer` and typed arrays,
 *   boxed primitives, class instances (the message says what to pass instead);
 * - symbol keys (JSON has none);
 * - a cycle (the path where it closes on one of its ancestors).
 *
 * Accepted as is: integral numbers outside the safe integer range (they were
 * rounded before they got here), `-0` (written `0`), strings with lone
 * surrogates (`JSON.stringify` escapes them), the same object reached twice
 * without a cycle (written twice). Own non-enumerable properties and extra
 * non-index properties of arrays are ignored, as by `JSON.stringify`.
 * Nesting depth is unlimited (no recursion).
 *
 * @param value - the value to check.
 * @param name - the option's name: the path's root in messages and the error's `option`.
 * @throws {@link InvalidOptionError} (`option` = `name`) naming the path and what to do, e.g.
 *   `extraMetadata.metrics[2].loss is NaN: JSON cannot hold NaN or Infinity; store it as a string or null`.
 */
export function checkJsonValue(value: unknown, name: string): void {
  const refuse = (path: string, reason: string): never => {
    throw new InvalidOptionError(name, `${path} ${reason}`);
  };
  if (typeof value !== 'object' || value === null || isArray(value)) {
    refuse(name, `must be a plain object, got ${value === null ? 'null' : isArray(value) ? 'an array' : typeof value}`);
  }

  // Depth-first walk; `ancestors` holds the objects on the current path (a cycle closes on one of them).
  interface Frame {
    value: object;
    path: string;
    keys: string[] | undefined; // undefined for arrays
    next: number;
  }
  const ancestors = new Set<object>();
  const stack: Frame[] = [];

  const enter = (child: unknown, path: string): void => {
    switch (typeof child) {
      case 'string':
      case 'boolean':
        return;
      case 'number':
        if (!isFiniteNumber(child)) refuse(path, `is ${String(child)}: JSON cannot hold NaN or Infinity; store it as a string or null`);
        return;
      case 'bigint':
        refuse(path, `is a bigint (${child}n): pass it as a string (JSON.parse would round it to the nearest number)`);
        return;
      case 'undefined':
        refuse(path, 'is undefined: JSON.stringify would drop it (or write null in an array); leave the key out or use null');
        return;
      case 'function':
        refuse(path, 'is a function: JSON cannot hold functions; pass a JSON value (string, number, boolean, null, array or plain object)');
        return;
      case 'symbol':
        refuse(path, 'is a symbol: JSON cannot hold symbols; pass a string instead');
        return;
      default:
        break;
    }
    if (child === null) return;
    const object = child as object;
    if (ancestors.has(object)) refuse(path, 'closes a cycle (it contains itself): JSON cannot hold cycles; pass a copy without the back reference');
    const array = isArray(object);
    if (!array) {
      const proto = prototypeOf(object) as unknown;
      if (proto !== objectPrototype && proto !== null) refuse(path, `is ${nonPlainAdvice(object)}`);
    }
    const symbols = symbolsOf(object);
    for (const symbol of symbols) {
      if (Object.prototype.propertyIsEnumerable.call(object, symbol)) {
        refuse(path, `has a symbol key (${String(symbol)}): JSON.stringify would drop it; use a string key`);
      }
    }
    ancestors.add(object);
    stack.push({ value: object, path, keys: array ? undefined : keysOf(object), next: 0 });
  };

  enter(value, name);
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.keys === undefined) {
      const array = frame.value as unknown[];
      if (frame.next >= array.length) {
        ancestors.delete(frame.value);
        stack.pop();
        continue;
      }
      const index = frame.next++;
      if (!(index in array)) refuse(`${frame.path}[${index}]`, 'is a hole of a sparse array: JSON.stringify would write null; fill it (null or a value)');
      enter(array[index], `${frame.path}[${index}]`);
    } else {
      if (frame.next >= frame.keys.length) {
        ancestors.delete(frame.value);
        stack.pop();
        continue;
      }
      const key = frame.keys[frame.next++]!;
      enter((frame.value as Record<string, unknown>)[key], memberPath(frame.path, key));
    }
  }
}

// ---------------------------------------------------------------------------
// Editing a document without touching its other bytes
// ---------------------------------------------------------------------------

/**
 * Replaces the value of one top-level member of a JSON object text, leaving
 * every other character as it was (Python's float spellings, spacing, key
 * order, escapes). Used to copy a metadata document written by Python to
 * another store, where only `storage` changes.
 *
 * When `key` occurs more than once at the top level, the last occurrence is
 * replaced: it is the one Python's `json.loads` (and {@link parseJson}) keeps.
 *
 * @param text - a JSON object text in Python's dialect (see {@link parseJson}).
 * @param key - the top-level member name (compared after unescaping, so `"\u0073torage"` matches `storage`).
 * @param valueJson - the new value as JSON text in the same dialect, inserted verbatim (e.g. `stringifyJson(location)`).
 * @returns `text` with the member's value replaced.
 * @throws {@link JsonSyntaxError} (a `SyntaxError`) when `text` or `valueJson`
 *   is not valid JSON in this dialect, when `text` is not an object, or when
 *   it has no top-level member `key`.
 * @throws {@link InvalidOptionError} when an argument is not a string.
 */
export function replaceMember(text: string, key: string, valueJson: string): string {
  if (typeof key !== 'string') throw new InvalidOptionError('key', `replaceMember expects the member name as a string, got ${key === null ? 'null' : typeof key}`);
  if (typeof valueJson !== 'string') throw new InvalidOptionError('valueJson', `replaceMember expects the new value as JSON text (a string), got ${valueJson === null ? 'null' : typeof valueJson}`);
  const document = parseJson(text); // validates the whole text: the scan below can trust it
  parseJson(valueJson);
  const start0 = skipSpace(text, 0);
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new JsonSyntaxError('Expecting a JSON object', text, start0);
  }
  if (!Object.prototype.hasOwnProperty.call(document, key)) {
    throw new JsonSyntaxError(`The object has no top-level member ${JSON.stringify(key)}`, text, start0);
  }

  // Scan the top-level members, remembering the span of the last value whose key matches.
  let found: [number, number] | undefined;
  let i = start0 + 1; // after '{'
  for (;;) {
    i = skipSpace(text, i);
    if (text.charCodeAt(i) === Ch.CloseBrace) break;
    const keyEnd = stringEnd(text, i);
    const memberKey = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skipSpace(text, keyEnd) + 1; // past ':'
    const valueStart = skipSpace(text, i);
    const valueEnd = valueEndAt(text, valueStart);
    if (memberKey === key) found = [valueStart, valueEnd];
    i = skipSpace(text, valueEnd);
    if (text.charCodeAt(i) === Ch.Comma) i++;
    else break; // '}'
  }
  // parseJson found the key, so the scan did too.
  const [from, to] = found!;
  return text.slice(0, from) + valueJson + text.slice(to);
}

function skipSpace(text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === Ch.Space || c === Ch.Newline || c === Ch.Return || c === Ch.Tab) i++;
    else return i;
  }
}

/** Index after the closing quote of the string starting at `i` (valid JSON assumed). */
function stringEnd(text: string, i: number): number {
  let j = i + 1;
  for (;;) {
    const c = text.charCodeAt(j);
    if (c === Ch.Quote) return j + 1;
    j += c === Ch.Backslash ? 2 : 1;
  }
}

/** Index after the value starting at `i` (valid JSON assumed): strings skipped, brackets counted. */
function valueEndAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === Ch.Quote) return stringEnd(text, i);
  if (c === Ch.OpenBrace || c === Ch.OpenBracket) {
    let depth = 0;
    let j = i;
    for (;;) {
      const d = text.charCodeAt(j);
      if (d === Ch.Quote) {
        j = stringEnd(text, j);
        continue;
      }
      if (d === Ch.OpenBrace || d === Ch.OpenBracket) depth++;
      else if (d === Ch.CloseBrace || d === Ch.CloseBracket) {
        depth--;
        if (depth === 0) return j + 1;
      }
      j++;
    }
  }
  // A number or a bare token: up to the next delimiter or whitespace.
  let j = i;
  for (;;) {
    const d = text.charCodeAt(j);
    if (d === Ch.Comma || d === Ch.CloseBrace || d === Ch.CloseBracket || d === Ch.Space || d === Ch.Newline || d === Ch.Return || d === Ch.Tab || Number.isNaN(d)) return j;
    j++;
  }
}
