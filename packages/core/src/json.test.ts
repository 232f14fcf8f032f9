import { describe, expect, it, jest } from '@jest/globals';
import { createHash } from 'node:crypto';
import { InvalidOptionError } from './errors.js';
import { checkJsonValue, JsonSyntaxError, parseJson, parseJsonExact, replaceMember, stringifyJson } from './json.js';

/**
 * Seeded numbers in [0, 1), the same documents on every run: sha256 of the seed and a
 * counter, eight numbers per digest. (The suites' `seededRandom` lives in
 * storage-conformance, which depends on core: core's tests cannot import it.)
 */
function random(seed: number): () => number {
  let digest = Buffer.alloc(32);
  let block = 0;
  let offset = 32;
  return () => {
    if (offset === 32) {
      digest = createHash('sha256').update(`${seed}/${block++}`).digest();
      offset = 0;
    }
    offset += 4;
    return digest.readUInt32BE(offset - 4) / 2 ** 32;
  };
}

interface GenOptions {
  /** Include NaN, ±Infinity, -0, bigints and unsafe integral numbers. */
  special: boolean;
}

/** A random JSON-ish value: nested objects and arrays, every kind of string, many kinds of number. */
function generate(rand: () => number, depth: number, options: GenOptions): unknown {
  const pick = (n: number) => Math.floor(rand() * n);
  const r = pick(depth <= 0 ? 6 : 9);
  switch (r) {
    case 0:
      return null;
    case 1:
      return rand() < 0.5;
    case 2:
    case 3:
      return randomString(rand);
    case 4:
    case 5:
      return randomNumber(rand, options);
    case 6:
    case 7: {
      const object: Record<string, unknown> = {};
      const n = pick(6);
      for (let i = 0; i < n; i++) {
        const key = rand() < 0.15 ? String(pick(20)) : rand() < 0.05 ? '__proto__' : randomString(rand);
        const value = generate(rand, depth - 1, options);
        if (key === '__proto__') Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
        else object[key] = value;
      }
      return object;
    }
    default: {
      const n = pick(6);
      return Array.from({ length: n }, () => generate(rand, depth - 1, options));
    }
  }
}

function randomString(rand: () => number): string {
  const n = Math.floor(rand() * 8);
  let s = '';
  for (let i = 0; i < n; i++) {
    const r = rand();
    if (r < 0.5) s += String.fromCharCode(0x61 + Math.floor(rand() * 26));
    else if (r < 0.6) s += '"\\/\b\f\n\r\t'[Math.floor(rand() * 9)];
    else if (r < 0.7)
      s += String.fromCharCode(Math.floor(rand() * 0x20)); // control characters
    else if (r < 0.78)
      s += String.fromCharCode(0xd800 + Math.floor(rand() * 0x800)); // lone surrogates
    else if (r < 0.86)
      s += String.fromCodePoint(0x10000 + Math.floor(rand() * 0xfffff)); // non-BMP
    else if (r < 0.93)
      s += String.fromCharCode(0x80 + Math.floor(rand() * 0xd700)); // BMP
    else s += String.fromCharCode(0x2028 + Math.floor(rand() * 2));
  }
  return s;
}

function randomNumber(rand: () => number, options: GenOptions): number | bigint {
  const r = rand();
  if (options.special && r < 0.2) {
    const specials = [Number.NaN, Infinity, -Infinity, -0, 2n ** 53n, -(2n ** 53n) - 1n, 2n ** 64n - 1n, 10n ** 30n, -(10n ** 30n), 1e20, -1e300, 2 ** 53];
    return specials[Math.floor(rand() * specials.length)]!;
  }
  if (r < 0.4) return Math.floor(rand() * 1000) - 500;
  if (r < 0.55) return Math.floor((rand() - 0.5) * 1e15); // up to 15 digits
  if (r < 0.75) return Math.round((rand() - 0.5) * 1e6) / 1000; // short floats
  // Up to 9e15 (safe) unless special: JSON.stringify writes 6e16 as 60000000000000000, which is an integer literal.
  if (r < 0.85) return Number(`${Math.floor(rand() * 9) + 1}e${Math.floor(rand() * (options.special ? 40 : 36)) - 20}`);
  // A full double: often 17 significant digits.
  return (rand() - 0.5) * 10 ** Math.floor(rand() * 30 - 15);
}

/** Exact comparison: Object.is on numbers (NaN, -0), bigints by value, object key order. */
function same(a: unknown, b: unknown): boolean {
  return stringifyJson(a) === stringifyJson(b) && deepIs(a, b);
}

function deepIs(a: unknown, b: unknown): boolean {
  const stack: Array<[unknown, unknown]> = [[a, b]];
  while (stack.length > 0) {
    const [x, y] = stack.pop()!;
    if (typeof x !== typeof y) return false;
    if (typeof x !== 'object' || x === null || y === null) {
      if (!Object.is(x, y)) return false;
      continue;
    }
    if (Array.isArray(x) !== Array.isArray(y)) return false;
    if (Object.getPrototypeOf(x) !== Object.getPrototypeOf(y)) return false;
    const kx = Object.keys(x);
    const ky = Object.keys(y as object);
    if (kx.join('\u0000') !== ky.join('\u0000')) return false;
    for (const k of kx) stack.push([(x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k]]);
  }
  return true;
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('parseJson', () => {
  it('reads every kind of value', () => {
    const value = parseJson(' {"a": [1, -2.5, 3e2, true, false, null, "x"], "b": {}, "c": [], "d": {"e": {"f": []}}} \n');
    expect(value).toEqual({ a: [1, -2.5, 300, true, false, null, 'x'], b: {}, c: [], d: { e: { f: [] } } });
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(parseJson('"only a string"')).toBe('only a string');
    expect(parseJson('\t\r\n 7 \t\r\n')).toBe(7);
  });

  it("reads Python's NaN, Infinity and -Infinity tokens", () => {
    const value = parseJson('{"loss": NaN, "hi": Infinity, "lo": -Infinity, "xs": [NaN,Infinity,-Infinity]}') as Record<string, unknown>;
    expect(value.loss).toBeNaN();
    expect(value.hi).toBe(Infinity);
    expect(value.lo).toBe(-Infinity);
    expect(value.xs).toEqual([NaN, Infinity, -Infinity]);
    expect(parseJson('NaN')).toBeNaN();
  });

  it('keeps integers outside the safe range exactly, as bigint, and only those', () => {
    expect(parseJson('9007199254740991')).toBe(9007199254740991); // 2^53 - 1
    expect(parseJson('-9007199254740991')).toBe(-9007199254740991);
    expect(parseJson('9007199254740992')).toBe(9007199254740992n); // 2^53
    expect(parseJson('-9007199254740992')).toBe(-9007199254740992n);
    expect(parseJson('-9007199254740993')).toBe(-9007199254740993n); // JSON.parse gives -9007199254740992
    expect(parseJson('18446744073709551615')).toBe(2n ** 64n - 1n);
    expect(parseJson('1000000000000000000000000000000')).toBe(10n ** 30n);
    expect(parseJson('[1234567890123456789]')).toEqual([1234567890123456789n]);
    expect(parseJson('{"size": 123456789012345678901234567890}')).toEqual({ size: 123456789012345678901234567890n });
    // Any size (Python's json.loads stops at 4,300 digits by default; reading more costs nothing here).
    const huge = `-${'9'.repeat(5000)}`;
    expect(parseJson(`[${huge}]`)).toEqual([BigInt(huge)]);
    expect(stringifyJson(parseJson(huge))).toBe(huge);
    // Float literals stay numbers, however large: Python reads them as floats.
    expect(parseJson('9007199254740993.0')).toBe(9007199254740992);
    expect(parseJson('1e20')).toBe(1e20);
    expect(parseJson('1E+20')).toBe(1e20);
    expect(parseJson('100000000000000000000.0')).toBe(1e20);
  });

  it('reads numbers as Python does: 1e400 is Infinity, -0.0 is minus zero', () => {
    // python3 -c "import json; print(json.loads('1e400'), json.loads('-1e400'), json.loads('1e-400'))" -> inf -inf 0.0
    expect(parseJson('1e400')).toBe(Infinity);
    expect(parseJson('-1e400')).toBe(-Infinity);
    expect(parseJson('1e-400')).toBe(0);
    expect(Object.is(parseJson('-0.0'), -0)).toBe(true);
    // The integer -0 is Python's int 0 (JSON.parse gives -0); float spellings keep the sign.
    expect(Object.is(parseJson('-0'), 0)).toBe(true);
    expect(parseJson('[-0, -0.0, -0e0, -0E+1, "-0"]')).toEqual([0, -0, -0, -0, '-0']);
    expect(Object.is((parseJsonExact('[-0]') as unknown[])[0], 0)).toBe(true);
    for (const text of ['-0', ' -0', '[-0]', '[1,-0]', '{"a":-0}', '{"a":\n\t-0}', '{"a": -0 }']) {
      const value = parseJson(text);
      expect(stringifyJson(value)).not.toContain('-0');
    }
    expect(Object.is(parseJson('[-0.0, 1234567890123456789]'), undefined)).toBe(false);
    expect(Object.is((parseJson('[-0.0, 1234567890123456789]') as unknown[])[0], -0)).toBe(true); // exact path too
    expect(parseJson('[0, 0.5, -0.5, 1.5e-7, 2E3, 1e-2]')).toEqual([0, 0.5, -0.5, 1.5e-7, 2000, 0.01]);
  });

  it('reads every string escape, lone surrogates and non-BMP characters as JSON.parse does', () => {
    const text = String.raw`"\" \\ \/ \b \f \n \r \t \u0000 \u001f \u00e9 \u2028 \ud800 \udfff x\ud83d\ude00y \uD83D\uDE00"`;
    const expected = '" \\ / \b \f \n \r \t \u0000 \u001f é \u2028 \ud800 \udfff x😀y 😀';
    expect(parseJson(text)).toBe(expected);
    expect(parseJsonExact(text)).toBe(expected);
    expect(parseJsonExact(text)).toBe(JSON.parse(text));
    // Raw non-ASCII and a raw lone surrogate in the text are kept.
    expect(parseJsonExact('"é😀\ud800\u2028"')).toBe('é😀\ud800\u2028');
    expect(parseJsonExact('{"\\u006bey": "v"}')).toEqual({ key: 'v' });
  });

  it('keeps a "__proto__" key as an own property and never sets the prototype (both paths)', () => {
    for (const text of [
      '{"__proto__": {"polluted": true}, "a": 1}',
      '{"__proto__": {"polluted": true}, "a": NaN}', // exact parser
      '{"a": [{"__proto__": {"polluted": true}}], "big": 12345678901234567890}',
    ]) {
      const value = parseJson(text) as Record<string, unknown>;
      const holder = 'a' in value && Array.isArray(value.a) ? (value.a[0] as Record<string, unknown>) : value;
      expect(Object.getPrototypeOf(holder)).toBe(Object.prototype);
      expect(Object.prototype.hasOwnProperty.call(holder, '__proto__')).toBe(true);
      expect(Object.getOwnPropertyDescriptor(holder, '__proto__')?.value).toEqual({ polluted: true });
      expect((holder as { polluted?: unknown }).polluted).toBeUndefined();
      expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
      expect(Object.keys(holder)[0]).toBe('__proto__');
    }
  });

  it('keeps the last of duplicate keys, at the place of the first (as Python and JSON.parse)', () => {
    for (const text of ['{"a": 1, "b": 2, "a": 3}', '{"a": 1, "b": NaN, "a": 3}', '{"__proto__": 1, "__proto__": 2}']) {
      const value = parseJson(text) as Record<string, unknown>;
      const jsonParse = JSON.parse(text.replace('NaN', '0')) as Record<string, unknown>;
      expect(Object.keys(value)).toEqual(Object.keys(jsonParse));
      expect(value[Object.keys(value)[0]!]).toBe(jsonParse[Object.keys(jsonParse)[0]!]);
    }
    expect(parseJson('{"a": 1, "b": 2, "a": 3}')).toEqual({ a: 3, b: 2 });
  });

  it("rejects what Python's json.loads rejects, with the position Python reports", () => {
    // [text, python's char position] from python3 -c "import json; json.loads(text)"
    const cases: Array<[string, number]> = [
      ['', 0],
      ['   ', 3],
      ['-NaN', 0],
      ['+1', 0],
      ['01', 1],
      ['[01]', 2],
      ['[1,]', 3],
      ['{"a":1,}', 7],
      ["'a'", 0],
      ['0x1', 1],
      ['"a\u001fb"', 2],
      ['nan', 0],
      ['-inf', 0],
      ['1.', 1],
      ['.5', 0],
      ['1e', 1],
      ['-', 0],
      ['[1 2]', 3],
      ['{"a" 1}', 5],
      ['{a: 1}', 1],
      ['/* c */ 1', 0],
      ['1 // c', 2],
      ['tru', 0],
      ['"\\x"', 1],
      ['"\\u12g4"', 2],
      ['"abc', 0],
      ['[1, 2', 5],
      ['{"a": 1', 7],
      ['[', 1],
      ['\ufeff1', 0],
      ['{"a": 1}}', 8],
      ['[Infinityx]', 9],
    ];
    for (const [text, position] of cases) {
      const error = thrown(() => parseJson(text));
      expect(error).toBeInstanceOf(SyntaxError);
      expect(error).toBeInstanceOf(JsonSyntaxError);
      expect([text, (error as JsonSyntaxError).position]).toEqual([text, position]);
      expect((error as Error).message).toContain(`(char ${position})`);
    }
  });

  it('says the line and column of an error in a multi-line document', () => {
    const error = thrown(() => parseJson('{\n  "a": 1,\n  "b": nope\n}')) as JsonSyntaxError;
    expect(error.message).toBe('Expecting value at line 3 column 8 (char 19)');
    expect([error.line, error.column, error.position]).toEqual([3, 8, 19]);
    expect(error.name).toBe('SyntaxError');
  });

  it('reads 100,000 nested arrays and objects without overflowing the stack (both paths)', () => {
    const depth = 100_000;
    const arrays = '['.repeat(depth) + ']'.repeat(depth);
    const withNaN = '['.repeat(depth) + 'NaN' + ']'.repeat(depth);
    const objects = '{"a":'.repeat(depth) + '12345678901234567890' + '}'.repeat(depth);
    for (const text of [arrays, withNaN, objects]) {
      let value = parseJson(text);
      let levels = 0;
      while (typeof value === 'object' && value !== null) {
        value = Array.isArray(value) ? value[0] : (value as Record<string, unknown>).a;
        levels++;
      }
      expect(levels).toBe(text === arrays ? depth : depth);
      expect(stringifyJson(parseJson(text))).toBe(text);
    }
    expect(() => parseJsonExact(arrays)).not.toThrow();
    expect((thrown(() => parseJson('['.repeat(depth))) as JsonSyntaxError).position).toBe(depth);
  });

  it('gives the same result as JSON.parse on 1000 random documents without a 16-digit run (the fast path is exact)', () => {
    const rand = random(20260101);
    let compared = 0;
    let longRuns = 0;
    for (let n = 0; n < 1000; n++) {
      const value = generate(rand, 5, { special: false });
      const indent = [0, 2, 4][n % 3]!;
      const text = JSON.stringify(value, null, indent);
      const exact = parseJsonExact(text);
      if (/\d{16}|(?:^|[:,[\s])-0(?![.eE\d])/.test(text)) {
        longRuns++;
        // Still no integer beyond the safe range: the exact parser agrees with JSON.parse anyway.
        expect(same(exact, JSON.parse(text))).toBe(true);
        continue;
      }
      compared++;
      const fast = JSON.parse(text) as unknown;
      if (!same(exact, fast)) throw new Error(`exact and JSON.parse differ on ${text}`);
      expect(same(parseJson(text), fast)).toBe(true);
    }
    expect(compared).toBeGreaterThan(500);
    expect(longRuns).toBeGreaterThan(10);
  });
});

describe('stringifyJson', () => {
  it('writes what JSON.stringify writes for strict JSON values (random documents, indents 0, 2, 4)', () => {
    const rand = random(7);
    for (let n = 0; n < 1000; n++) {
      const value = generate(rand, 5, { special: false });
      for (const indent of [undefined, 0, 2, 4]) {
        const ours = stringifyJson(value, indent === undefined ? undefined : { indent });
        const theirs = JSON.stringify(value, null, indent);
        if (ours !== theirs) throw new Error(`differ (indent ${indent}): ${ours} vs ${theirs}`);
      }
    }
  });

  it("writes Python's tokens, bigint digits, -0.0, and unsafe integral numbers as floats", () => {
    expect(stringifyJson([NaN, Infinity, -Infinity])).toBe('[NaN,Infinity,-Infinity]');
    expect(stringifyJson({ big: 2n ** 64n - 1n, neg: -(10n ** 30n) })).toBe('{"big":18446744073709551615,"neg":-1000000000000000000000000000000}');
    expect(stringifyJson(-0)).toBe('-0.0');
    expect(stringifyJson(0)).toBe('0');
    expect(stringifyJson(1e20)).toBe('100000000000000000000.0');
    expect(stringifyJson(-(2 ** 53))).toBe('-9007199254740992.0');
    expect(stringifyJson(2 ** 53 - 1)).toBe('9007199254740991');
    expect(stringifyJson(1e21)).toBe('1e+21');
    expect(stringifyJson(1.5e-7)).toBe('1.5e-7');
    expect(stringifyJson(0.1 + 0.2)).toBe('0.30000000000000004');
    // The Python-dialect parts read back as the same values.
    for (const v of [NaN, Infinity, -Infinity, -0, 1e20, -(2 ** 53), 2n ** 64n - 1n, 2n ** 53n, -(2n ** 53n) - 1n]) {
      expect(Object.is(parseJson(stringifyJson(v)), v)).toBe(true);
    }
  });

  it('round-trips every value parseJson returns (random documents with NaN, Infinity, -0, bigints)', () => {
    const rand = random(99);
    for (let n = 0; n < 1000; n++) {
      const value = generate(rand, 5, { special: true });
      for (const indent of [0, 2]) {
        const text = stringifyJson(value, { indent });
        const back = parseJson(text);
        if (!deepIs(back, value)) throw new Error(`round trip changed ${text}`);
        expect(stringifyJson(back, { indent })).toBe(text);
      }
    }
  });

  it('follows JSON.stringify for toJSON, undefined, functions, symbols and empty containers', () => {
    const date = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6));
    expect(stringifyJson({ date })).toBe('{"date":"2026-01-02T03:04:05.006Z"}');
    const value = { a: undefined, b: () => 1, c: Symbol('s'), d: [undefined, () => 1, Symbol('s')], e: {} as Record<string, unknown>, f: { g: undefined } };
    for (const indent of [0, 2]) expect(stringifyJson(value, { indent })).toBe(JSON.stringify(value, null, indent));
    expect(stringifyJson(undefined)).toBe('null');
    expect(stringifyJson({ n: new Number(NaN), s: new String('x'), b: new Boolean(false) })).toBe('{"n":NaN,"s":"x","b":false}');
    expect(stringifyJson(Object.assign(Object.create(null) as object, { x: 1 }))).toBe('{"x":1}');
    expect(stringifyJson([1], { indent: 40 })).toBe(JSON.stringify([1], null, 40));
  });

  it('refuses a cycle with an InvalidOptionError, and writes a shared (acyclic) object twice', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = { back: cyclic };
    const error = thrown(() => stringifyJson(cyclic));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as Error).message).toMatch(/cycle closes at key "back"/);
    const shared = { x: 1 };
    expect(stringifyJson([shared, { shared }])).toBe('[{"x":1},{"shared":{"x":1}}]');
  });
});

describe('checkJsonValue', () => {
  const check = (value: unknown) => checkJsonValue(value, 'extraMetadata');
  const message = (value: unknown): string => {
    const error = thrown(() => check(value));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe('extraMetadata');
    expect((error as InvalidOptionError).code).toBe('INVALID_OPTION');
    return (error as Error).message;
  };

  it('accepts strict JSON: plain and null-prototype objects, arrays, shared objects, unsafe integral numbers, -0', () => {
    const shared = { x: [1, 'a', null, true] };
    const nullProto = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1, nested: Object.create(null) as object });
    expect(() => check({ a: shared, b: shared, c: { d: [shared, [[]]] }, e: 2 ** 60, f: -0, g: '\ud800', nullProto })).not.toThrow();
    expect(() => check(nullProto)).not.toThrow();
    expect(() => check({})).not.toThrow();
  });

  it('names the path of NaN and Infinity', () => {
    expect(message({ metrics: [{ loss: 1 }, { loss: 2 }, { loss: NaN }] })).toBe('extraMetadata.metrics[2].loss is NaN: JSON cannot hold NaN or Infinity; store it as a string or null');
    expect(message({ 'a b': { c: -Infinity } })).toBe('extraMetadata["a b"].c is -Infinity: JSON cannot hold NaN or Infinity; store it as a string or null');
    expect(message({ x: [Infinity] })).toMatch(/^extraMetadata\.x\[0\] is Infinity: /);
  });

  it('refuses bigint, undefined, functions, symbols, sparse holes and symbol keys', () => {
    expect(message({ size: 10n ** 30n })).toBe('extraMetadata.size is a bigint (1000000000000000000000000000000n): pass it as a string (JSON.parse would round it to the nearest number)');
    expect(message({ a: undefined })).toMatch(/^extraMetadata\.a is undefined: JSON\.stringify would drop it/);
    expect(message({ a: [1, undefined] })).toMatch(/^extraMetadata\.a\[1\] is undefined/);
    expect(message({ f() {} })).toMatch(/^extraMetadata\.f is a function/);
    expect(message({ s: Symbol('x') })).toMatch(/^extraMetadata\.s is a symbol/);
    // biome-ignore lint/suspicious/noSparseArray: the hole is the input under test
    expect(message({ holes: [1, , 3] })).toMatch(/^extraMetadata\.holes\[1\] is a hole of a sparse array/);
    expect(message({ nested: { [Symbol('k')]: 1 } })).toMatch(/^extraMetadata\.nested has a symbol key \(Symbol\(k\)\)/);
  });

  it('refuses non-plain objects and says what to pass instead', () => {
    class Point {
      x = 1;
    }
    const cases: Array<[unknown, RegExp]> = [
      [new Date(0), /is a Date: pass date\.toISOString\(\)/],
      [new Map(), /is a Map: pass Object\.fromEntries\(map\)/],
      [new Set(), /is a Set: pass \[\.\.\.set\]/],
      [/x/, /is a RegExp: pass regexp\.source/],
      [Buffer.from('x'), /is a Buffer: pass buffer\.toString\('base64'\)/],
      [new Float32Array(2), /is a Float32Array: pass Array\.from/],
      [new ArrayBuffer(2), /is an ArrayBuffer/],
      [new Point(), /is an instance of Point: pass a plain object/],
      [new Error('x'), /is an Error/],
      [new String('x'), /is a boxed string: pass the primitive/],
      [Object.create({ inherited: 1 }) as object, /is an instance of Object|custom prototype/],
    ];
    for (const [value, pattern] of cases) expect(message({ deep: [{ v: value }] })).toMatch(new RegExp(`^extraMetadata\\.deep\\[0\\]\\.v ${pattern.source}`));
  });

  it('refuses a top level that is not a plain object', () => {
    for (const value of [null, [], 'x', 1, undefined]) expect(message(value)).toMatch(/^extraMetadata must be a plain object/);
    expect(message(new Date(0))).toMatch(/^extraMetadata is a Date/);
  });

  it('names the path where a cycle closes', () => {
    const root: Record<string, unknown> = { a: { b: [0, {}] } };
    ((root.a as { b: unknown[] }).b[1] as Record<string, unknown>).back = root.a;
    expect(message(root)).toMatch(/^extraMetadata\.a\.b\[1\]\.back closes a cycle/);
    const self: Record<string, unknown> = {};
    self.me = self;
    expect(message(self)).toMatch(/^extraMetadata\.me closes a cycle/);
  });

  it('walks 100,000 levels of nesting and a 10,000-key object quickly', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = { a: [deep] };
    expect(() => check(deep)).not.toThrow();
    const wide: Record<string, unknown> = {};
    for (let i = 0; i < 10_000; i++) wide[`key${i}`] = { value: i, name: `n${i}`, tags: ['a', 'b'] };
    let best = Infinity;
    for (let run = 0; run < 5; run++) {
      const start = performance.now();
      check(wide);
      best = Math.min(best, performance.now() - start);
    }
    console.log(`checkJsonValue, 10,000-key object: ${best.toFixed(1)} ms (best of 5)`);
    // A bound that catches a quadratic walk (seconds), not a machine under load (about 10 ms here when idle).
    expect(best).toBeLessThan(1000);
  });
});

describe('replaceMember', () => {
  const python = '{"model": {"domain": "d", "loss": NaN, "lr": 1.0, "n": 12345678901234567890}, "storage": {"type": "file_system", "root": "/a"}, "modelstore": "0.0.82", "extra": {"storage": 1}}';

  it('replaces one top-level value and leaves every other byte as it was', () => {
    const out = replaceMember(python, 'storage', '{"type": "aws:s3", "bucket": "b"}');
    expect(out).toBe(python.replace('{"type": "file_system", "root": "/a"}', '{"type": "aws:s3", "bucket": "b"}'));
    expect(out).toContain('"lr": 1.0');
    expect(out).toContain('NaN');
    expect(replaceMember(python, 'modelstore', '"x"')).toBe(python.replace('"0.0.82"', '"x"'));
    expect(replaceMember(python, 'model', 'null')).toBe(`{"model": null${python.slice(python.indexOf(', "storage"'))}`);
  });

  it('handles whitespace, escaped keys, the last member and every kind of value', () => {
    const text = ' {\n  "a" : [1, {"b": "}]"}] ,\n  "\\u0073torage"\t:\t-Infinity \n,"z":"q\\"}"\n} \n';
    expect(replaceMember(text, 'storage', '2')).toBe(text.replace('-Infinity', '2'));
    expect(replaceMember(text, 'a', '[]')).toBe(text.replace('[1, {"b": "}]"}]', '[]'));
    expect(replaceMember(text, 'z', 'true')).toBe(text.replace('"q\\"}"', 'true'));
    expect(replaceMember('{"k":1}', 'k', '{"n": NaN}')).toBe('{"k":{"n": NaN}}');
    expect(replaceMember('{"__proto__":1}', '__proto__', '2')).toBe('{"__proto__":2}');
  });

  it('replaces the last of duplicate top-level keys (the one json.loads keeps), not nested ones', () => {
    const text = '{"storage": 1, "x": {"storage": 2}, "storage": 3, "y": 4}';
    const out = replaceMember(text, 'storage', '"new"');
    expect(out).toBe('{"storage": 1, "x": {"storage": 2}, "storage": "new", "y": 4}');
    expect((parseJson(out) as Record<string, unknown>).storage).toBe('new');
  });

  it('throws a SyntaxError for a text that is not an object, lacks the key, or is malformed, and for bad value text', () => {
    for (const [text, key, valueJson] of [
      ['[1]', 'a', '1'],
      ['"a"', 'a', '1'],
      ['{"a": 1}', 'b', '1'],
      ['{"a": {"b": 1}}', 'b', '1'],
      ['{"a": 1,}', 'a', '1'],
      ['{"a": 1}', 'a', 'nope'],
      ['{"a": 1}', 'a', ''],
    ] as const) {
      expect(thrown(() => replaceMember(text, key, valueJson))).toBeInstanceOf(SyntaxError);
    }
    expect((thrown(() => replaceMember('{"a": 1}', 'b', '1')) as Error).message).toMatch(/no top-level member "b"/);
    // Arguments of the wrong type: a typed error, not a TypeError from deep inside.
    expect(thrown(() => replaceMember('{"a": 1}', 1 as unknown as string, '1'))).toBeInstanceOf(InvalidOptionError);
    expect(thrown(() => replaceMember('{"a": 1}', 'a', undefined as unknown as string))).toBeInstanceOf(InvalidOptionError);
    expect(thrown(() => parseJson(undefined as unknown as string))).toBeInstanceOf(InvalidOptionError);
    expect(thrown(() => parseJson(Buffer.from('{}') as unknown as string))).toBeInstanceOf(InvalidOptionError);
  });
});

describe('performance', () => {
  /** A metadata-like document of about `bytes` characters: many models with parameters, digests and files. */
  function metadataLike(bytes: number, bigInt: boolean): string {
    const rand = random(3);
    const models: unknown[] = [];
    let size = 0;
    for (let i = 0; size < bytes; i++) {
      const files = Array.from({ length: 8 }, (_, k) => ({ path: `weights/part-${k}.bin`, size: Math.floor(rand() * 1e9), sha256: 'ab12'.repeat(16) }));
      const model = {
        model: {
          domain: 'churn',
          model_id: `model-${i}-0${i % 10}a-${(i * 2654435761).toString(16)}`,
          model_type: { library: 'onnx', type: 'InferenceSession' },
          parameters: { lr: Math.round(rand() * 1e6) / 1e6, epochs: 10, layers: [64, 32, 16], dropout: 0.25 },
        },
        storage: { type: 'aws:s3', bucket: 'bucket', prefix: `operatorai-model-store/churn/2026.01.01-00.00.${i}` },
        modelstore: '0.0.82',
        code: { runtime: 'python:3.11.7', user: 'user', created: '2026/01/01/00:00:00', dependencies: { numpy: '2.4.6', 'scikit-learn': '1.9.1' } },
        extra: { archive: { sha256: 'cd34'.repeat(16), size: 123456789 }, files },
      };
      const text = JSON.stringify(model);
      size += text.length + 1;
      models.push(model);
    }
    const text = JSON.stringify({ models });
    return bigInt ? text.replace('"epochs":10', '"epochs":123456789012345678901234567890') : text;
  }

  function best(fn: () => void): number {
    let result = Infinity;
    for (let run = 0; run < 7; run++) {
      const start = performance.now();
      fn();
      result = Math.min(result, performance.now() - start);
    }
    return result;
  }

  it('parses a 1 MB metadata-like document in < 50 ms without big numbers and < 300 ms with one', () => {
    const plain = metadataLike(1_000_000, false);
    const big = metadataLike(1_000_000, true);
    expect(plain.length).toBeGreaterThan(1_000_000);
    expect(/\d{16}/.test(plain)).toBe(false);
    expect(/\d{16}/.test(big)).toBe(true);
    expect(same(parseJson(plain), JSON.parse(plain))).toBe(true);
    const parsedBig = parseJson(big) as { models: Array<{ model: { parameters: { epochs: unknown } } }> };
    expect(parsedBig.models[0]!.model.parameters.epochs).toBe(123456789012345678901234567890n);

    // The plain document (names such as "model-0-00a-0", dates, sizes) goes to JSON.parse; the other does not.
    expect(plain).toContain('"model-0-00a-0"');
    const spy = jest.spyOn(JSON, 'parse');
    try {
      parseJson(plain);
      expect(spy).toHaveBeenCalledTimes(1);
      spy.mockClear();
      parseJson(big);
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }

    const jsonParse = best(() => JSON.parse(plain));
    const fast = best(() => parseJson(plain));
    const exact = best(() => parseJson(big));
    const stringify = best(() => stringifyJson(parsedBig, { indent: 2 }));
    console.log(
      `1 MB (${plain.length} chars): JSON.parse ${jsonParse.toFixed(1)} ms, parseJson fast path ${fast.toFixed(1)} ms, ` +
        `parseJson with a big int (exact parser) ${exact.toFixed(1)} ms, stringifyJson ${stringify.toFixed(1)} ms (best of 7)`,
    );
    // Bounds that catch a quadratic parser, not a machine under load (idle here: 3 ms and 7 ms).
    expect(fast).toBeLessThan(500);
    expect(exact).toBeLessThan(3000);
  });
});
