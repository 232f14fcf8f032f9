// Python's JSON dialect against the real Python: the pinned interpreter's `json` module (the one
// Python modelstore writes every registry document with) and @modelstore/core's parseJson and
// stringifyJson, in both directions, on seeded random documents holding NaN, ±Infinity, -0.0,
// integral floats, integers of any size and every kind of string (escapes, control characters,
// lone surrogates, non-BMP characters).
import { describe, expect, it } from '@jest/globals';
import { JsonSyntaxError, parseJson, replaceMember, stringifyJson } from '@modelstore/core';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { interopEnv, workDir } from './helpers.js';

/**
 * Python's half of the test. Modes:
 *   generate <dir> <count> <seed>   writes py-<i>.json: json.dumps of seeded random documents
 *                                   (default dumps, ensure_ascii=False, indent=2, sort_keys=True)
 *   compare <dir> <count>           for each i, json.loads of py-<i>.json and of node-<i>.json
 *                                   (Node's stringifyJson of its parseJson) must be the same values:
 *                                   NaN-aware, sign of zero, int vs float; the one loss allowed (and
 *                                   counted) is an integral float within 2**53 becoming an int.
 *                                   JavaScript puts integer-like keys first: key order is checked
 *                                   against that rule. Writes compare.json.
 *   echo <dir> <count>              json.loads of each rev-<i>.json (Node's stringifyJson), then
 *                                   json.dumps of it into echo-<i>.json, plus each value's Python
 *                                   type tree (int/float/...) into echo-types.json.
 *   replaced <dir> <count>          for each i, replaced-<i>.json (py-<i>.json with its "doc" member
 *                                   replaced by Node's replaceMember) must hold the new "doc" and
 *                                   exactly the original "value": no loss at all, floats stay floats,
 *                                   keys keep Python's order.
 *   errors <file>                   json.loads of each text of a JSON list; writes the error
 *                                   position of each (or null when accepted) to <file>.out.
 *   texts <file>                    json.loads then json.dumps of each text of a JSON list; writes
 *                                   the list of dumps to <file>.out.
 */
const script = String.raw`
import json, math, random, sys

def rand_string(r, surrogates):
    out = []
    for _ in range(r.randrange(9)):
        k = r.random()
        if k < 0.4: out.append(chr(r.randrange(0x61, 0x7b)))
        elif k < 0.5: out.append(r.choice('"\\/\b\f\n\r\t'))
        elif k < 0.6: out.append(chr(r.randrange(0x20)))
        elif k < 0.7 and surrogates: out.append(chr(r.randrange(0xd800, 0xe000)))
        elif k < 0.8: out.append(chr(r.randrange(0x10000, 0x110000)))
        elif k < 0.9: out.append(chr(r.randrange(0x80, 0xd800)))
        else: out.append(r.choice(['\u2028', '\u2029', '\x7f', '\ufeff', '\ufffd']))
    return ''.join(out)

def rand_float(r):
    k = r.random()
    if k < 0.15: return r.choice([float('nan'), float('inf'), float('-inf'), -0.0])
    if k < 0.3: return r.choice([0.0, 1.0, -3.0, 1e15, 1e16, 2.0**53, 1e20, -1e300, 5e-324, 1.7976931348623157e308, 0.1 + 0.2])
    if k < 0.5: return float(r.randrange(-10**6, 10**6))
    if k < 0.75: return r.uniform(-1, 1) * 10 ** r.randrange(-30, 30)
    return r.randrange(-10**6, 10**6) / 1000

def rand_int(r):
    k = r.random()
    if k < 0.3: return r.choice([0, 1, -1, 2**53 - 1, 2**53, 2**53 + 1, -(2**53) + 1, -(2**53), -(2**53) - 1, 2**63 - 1, 2**63, 2**64 - 1, -(2**63), 10**30, -(10**30)])
    if k < 0.6: return r.randrange(-1000, 1000)
    if k < 0.8: return r.randrange(-10**15, 10**15)
    return r.randrange(-10**40, 10**40)

def rand_key(r, surrogates):
    k = r.random()
    if k < 0.1: return str(r.randrange(30))
    if k < 0.15: return r.choice(['__proto__', 'constructor', 'toString', '', '-1', '01', '4294967295', '4294967294'])
    return rand_string(r, surrogates)

def rand_value(r, depth, surrogates):
    k = r.randrange(9 if depth > 0 else 6)
    if k == 0: return r.choice([None, True, False])
    if k == 1: return rand_string(r, surrogates)
    if k in (2, 3): return rand_int(r)
    if k in (4, 5): return rand_float(r)
    if k in (6, 7): return {rand_key(r, surrogates): rand_value(r, depth - 1, surrogates) for _ in range(r.randrange(6))}
    return [rand_value(r, depth - 1, surrogates) for _ in range(r.randrange(6))]

def dumps_variant(i, doc):
    variant = i % 4
    if variant == 0: return json.dumps(doc)
    if variant == 1: return json.dumps(doc, ensure_ascii=False)
    if variant == 2: return json.dumps(doc, indent=2)
    return json.dumps(doc, sort_keys=True, separators=(',', ':'))

def is_index(key):
    # An ECMAScript array index: canonical decimal below 2**32 - 1. Objects list these first, ascending.
    return key.isdigit() and key.isascii() and (key == '0' or key[0] != '0') and int(key) < 2**32 - 1

def compare(a, b, path, problems, losses, js_order=True):
    ta, tb = type(a), type(b)
    if ta is float:
        if tb is float:
            same = (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
            if not same: problems.append(f'{path}: float {a!r} became float {b!r}')
        elif tb is int and a.is_integer() and abs(a) < 2**53 and a == b and math.copysign(1, a) == math.copysign(1, b):
            losses.append(path)
        else:
            problems.append(f'{path}: float {a!r} became {tb.__name__} {b!r}')
    elif ta is int or ta is bool or ta is str or a is None:
        if tb is not ta or a != b: problems.append(f'{path}: {ta.__name__} {a!r} became {tb.__name__} {b!r}')
    elif ta is list:
        if tb is not list or len(a) != len(b):
            problems.append(f'{path}: list of {len(a)} became {b!r}')
            return
        for i, (x, y) in enumerate(zip(a, b)): compare(x, y, f'{path}[{i}]', problems, losses, js_order)
    elif ta is dict:
        if tb is not dict:
            problems.append(f'{path}: object became {tb.__name__}')
            return
        expected = sorted([k for k in a if is_index(k)], key=int) + [k for k in a if not is_index(k)] if js_order else list(a.keys())
        if list(b.keys()) != expected: problems.append(f'{path}: keys {list(b.keys())!r}, expected {expected!r}')
        for k in a:
            if k in b: compare(a[k], b[k], f'{path}[{k!r}]', problems, losses, js_order)
    else:
        problems.append(f'{path}: unexpected {ta.__name__}')

def types(v):
    if isinstance(v, bool): return 'bool'
    if isinstance(v, int): return 'int'
    if isinstance(v, float): return 'float'
    if isinstance(v, str): return 'str'
    if v is None: return 'null'
    if isinstance(v, list): return [types(x) for x in v]
    return {k: types(x) for k, x in v.items()}

def read(path):
    with open(path, encoding='utf-8') as f: return f.read()

def write(path, text):
    with open(path, 'w', encoding='utf-8') as f: f.write(text)

mode = sys.argv[1]
if mode == 'generate':
    folder, count, seed = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    r = random.Random(seed)
    for i in range(count):
        # ensure_ascii=False cannot write lone surrogates as UTF-8: only the escaped variants hold them.
        doc = {'doc': i, 'value': rand_value(r, 4, i % 4 != 1)}
        write(f'{folder}/py-{i}.json', dumps_variant(i, doc))
elif mode == 'compare':
    folder, count = sys.argv[2], int(sys.argv[3])
    problems, losses = [], []
    for i in range(count):
        compare(json.loads(read(f'{folder}/py-{i}.json')), json.loads(read(f'{folder}/node-{i}.json')), f'doc {i}', problems, losses)
    write(f'{folder}/compare.json', json.dumps({'problems': problems, 'losses': losses}))
elif mode == 'echo':
    folder, count = sys.argv[2], int(sys.argv[3])
    all_types = []
    for i in range(count):
        value = json.loads(read(f'{folder}/rev-{i}.json'))
        write(f'{folder}/echo-{i}.json', json.dumps(value))
        all_types.append(types(value))
    write(f'{folder}/echo-types.json', json.dumps(all_types))
elif mode == 'replaced':
    folder, count = sys.argv[2], int(sys.argv[3])
    problems, losses = [], []
    for i in range(count):
        original, replaced = json.loads(read(f'{folder}/py-{i}.json')), json.loads(read(f'{folder}/replaced-{i}.json'))
        if list(replaced.keys()) != ['doc', 'value']: problems.append(f'doc {i}: keys {list(replaced.keys())!r}')
        compare({'new': i, 'big': 10**30, 'nan': float('nan')}, replaced['doc'], f'doc {i} doc', problems, losses)
        compare(original['value'], replaced['value'], f'doc {i} value', problems, losses, js_order=False)
    write(f'{folder}/replaced.json', json.dumps({'problems': problems, 'losses': losses}))
elif mode == 'errors':
    texts, out = json.loads(read(sys.argv[2])), []
    for text in texts:
        try:
            json.loads(text)
            out.append(None)
        except json.JSONDecodeError as e:
            out.append(e.pos)
    write(sys.argv[2] + '.out', json.dumps(out))
elif mode == 'texts':
    texts = json.loads(read(sys.argv[2]))
    write(sys.argv[2] + '.out', json.dumps([json.dumps(json.loads(t)) for t in texts]))
`;

function runPython(args: string[]): Promise<void> {
  const dir = workDir('json-py');
  const file = path.join(dir, 'json_dialect.py');
  writeFileSync(file, script);
  return new Promise((resolve, reject) => {
    execFile(interopEnv().python, [file, ...args], { maxBuffer: 64 * 1024 * 1024, timeout: 170_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`python failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolve();
    });
  });
}

/** Seeded PRNG (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Values Node builds: what parseJson can return (numbers, bigints beyond the safe range, strings, ...). */
function nodeValue(rand: () => number, depth: number): unknown {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  const k = Math.floor(rand() * (depth > 0 ? 9 : 6));
  if (k === 0) return pick([null, true, false]);
  if (k === 1) return nodeString(rand);
  if (k === 2 || k === 3) {
    if (rand() < 0.5) {
      return pick([NaN, Infinity, -Infinity, -0, 0, 1, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53, 1e20, -1e21, 1e300, 5e-324, Number.MAX_VALUE, 0.1 + 0.2, 1.5e-7]);
    }
    return rand() < 0.5 ? Math.floor((rand() - 0.5) * 2e15) : (rand() - 0.5) * 10 ** Math.floor(rand() * 60 - 30);
  }
  if (k === 4 || k === 5) {
    const bigints = [2n ** 53n, -(2n ** 53n) - 1n, 2n ** 64n - 1n, -(2n ** 63n), 10n ** 30n];
    if (rand() < 0.5) return pick(bigints);
    // 17 digits or more: beyond the safe range, where parseJson returns bigints.
    const digits = Array.from({ length: 17 + Math.floor(rand() * 30) }, (_, i) => (i === 0 ? 1 + Math.floor(rand() * 9) : Math.floor(rand() * 10))).join('');
    return BigInt(digits) * (rand() < 0.5 ? -1n : 1n);
  }
  if (k === 6 || k === 7) {
    const object: Record<string, unknown> = {};
    for (let n = Math.floor(rand() * 6); n > 0; n--) {
      const key = rand() < 0.1 ? pick(['__proto__', '7', 'constructor', '']) : nodeString(rand);
      Object.defineProperty(object, key, { value: nodeValue(rand, depth - 1), enumerable: true, writable: true, configurable: true });
    }
    return object;
  }
  return Array.from({ length: Math.floor(rand() * 6) }, () => nodeValue(rand, depth - 1));
}

function nodeString(rand: () => number): string {
  let s = '';
  for (let n = Math.floor(rand() * 9); n > 0; n--) {
    const k = rand();
    if (k < 0.4) s += String.fromCharCode(0x61 + Math.floor(rand() * 26));
    else if (k < 0.5) s += '"\\/\b\f\n\r\t'[Math.floor(rand() * 9)];
    else if (k < 0.6) s += String.fromCharCode(Math.floor(rand() * 0x20));
    else if (k < 0.7) s += String.fromCharCode(0xd800 + Math.floor(rand() * 0x800));
    else if (k < 0.8) s += String.fromCodePoint(0x10000 + Math.floor(rand() * 0x100000));
    else s += String.fromCharCode(0x80 + Math.floor(rand() * 0xd780));
  }
  return s;
}

/** Exact equality: Object.is on numbers (NaN, -0), bigint vs number distinguished, key order. */
function deepIs(a: unknown, b: unknown, where = '$'): string | undefined {
  if (typeof a !== typeof b) return `${where}: ${typeof a} vs ${typeof b}`;
  if (typeof a !== 'object' || a === null || b === null) return Object.is(a, b) ? undefined : `${where}: ${String(a)} vs ${String(b)}`;
  if (Array.isArray(a) !== Array.isArray(b)) return `${where}: array vs object`;
  const ka = Object.keys(a);
  const kb = Object.keys(b as object);
  if (ka.join('\u0000') !== kb.join('\u0000')) return `${where}: keys ${JSON.stringify(ka)} vs ${JSON.stringify(kb)}`;
  for (const key of ka) {
    const problem = deepIs((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${where}[${JSON.stringify(key)}]`);
    if (problem) return problem;
  }
  return undefined;
}

/** Calls `visit` on every value inside `value` (iteratively). */
function walk(value: unknown, visit: (v: unknown) => void): void {
  const stack = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    visit(v);
    if (typeof v === 'object' && v !== null) stack.push(...Object.values(v));
  }
}

/** The Python type of each value Node wrote, as Python's json.loads will see it: the dialect's contract. */
function expectedTypes(value: unknown): unknown {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'string') return 'str';
  if (typeof value === 'bigint') return 'int';
  if (typeof value === 'number') return Number.isSafeInteger(value) && !Object.is(value, -0) ? 'int' : 'float';
  if (Array.isArray(value)) return value.map(expectedTypes);
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, expectedTypes(v)]));
}

const count = 300;

describe("Python's json module and parseJson/stringifyJson", () => {
  it('Python json.dumps → Node parseJson → stringifyJson → Python json.loads: the same values (300 seeded documents)', async () => {
    const dir = workDir('json-dialect');
    await runPython(['generate', dir, String(count), '20260301']);
    let bigints = 0;
    let specials = 0;
    for (let i = 0; i < count; i++) {
      const text = readFileSync(path.join(dir, `py-${i}.json`), 'utf8');
      const value = parseJson(text);
      const written = stringifyJson(value, { indent: i % 2 === 0 ? 0 : 2 });
      // Node reads its own text back as the same values.
      const problem = deepIs(parseJson(written), value);
      if (problem) throw new Error(`doc ${i}: parseJson(stringifyJson(v)) differs from v at ${problem}`);
      walk(value, (v) => {
        if (typeof v === 'bigint') bigints++;
        else if (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0))) specials++;
      });
      writeFileSync(path.join(dir, `node-${i}.json`), written);
    }
    // The documents exercise what matters.
    expect(bigints).toBeGreaterThan(30);
    expect(specials).toBeGreaterThan(30);

    await runPython(['compare', dir, String(count)]);
    const result = JSON.parse(readFileSync(path.join(dir, 'compare.json'), 'utf8')) as { problems: string[]; losses: string[] };
    expect(result.problems).toEqual([]);
    // The documented loss: an integral float within 2**53 (Python's 1.0) comes back as an int.
    console.log(`${count} Python documents (${bigints} big ints, ${specials} NaN/±Infinity/-0.0): ${result.losses.length} integral floats came back as ints (the documented loss), no other difference`);
  });

  it('replaceMember on 300 json.dumps documents: Python reads the new member and every other value exactly (1.0 stays a float)', async () => {
    const dir = workDir('json-dialect-replace');
    await runPython(['generate', dir, String(count), '20260302']);
    for (let i = 0; i < count; i++) {
      const text = readFileSync(path.join(dir, `py-${i}.json`), 'utf8');
      const replaced = replaceMember(text, 'doc', stringifyJson({ new: i, big: 10n ** 30n, nan: NaN }));
      // Every byte outside the member's value is unchanged.
      const before = text.indexOf(String(i), text.indexOf('"doc"'));
      expect(replaced.slice(0, before)).toBe(text.slice(0, before));
      expect(replaced.slice(replaced.length - (text.length - before - String(i).length))).toBe(text.slice(before + String(i).length));
      writeFileSync(path.join(dir, `replaced-${i}.json`), replaced);
    }
    await runPython(['replaced', dir, String(count)]);
    const result = JSON.parse(readFileSync(path.join(dir, 'replaced.json'), 'utf8')) as { problems: string[]; losses: string[] };
    expect(result).toEqual({ problems: [], losses: [] });
  });

  it('Node stringifyJson → Python json.loads → json.dumps → Node parseJson: the same values and the types the contract says (300 seeded values)', async () => {
    const dir = workDir('json-dialect-reverse');
    const rand = random(4242);
    const values: unknown[] = [];
    for (let i = 0; i < count; i++) {
      const value = { doc: i, value: nodeValue(rand, 4) };
      values.push(value);
      writeFileSync(path.join(dir, `rev-${i}.json`), stringifyJson(value, { indent: i % 3 === 0 ? 2 : 0 }));
    }
    await runPython(['echo', dir, String(count)]);
    const types = JSON.parse(readFileSync(path.join(dir, 'echo-types.json'), 'utf8')) as unknown[];
    for (let i = 0; i < count; i++) {
      const echoed = parseJson(readFileSync(path.join(dir, `echo-${i}.json`), 'utf8'));
      const problem = deepIs(echoed, values[i]);
      if (problem) throw new Error(`value ${i}: Python read Node's text as something else: ${problem}\n${readFileSync(path.join(dir, `rev-${i}.json`), 'utf8')}\n${readFileSync(path.join(dir, `echo-${i}.json`), 'utf8')}`);
      // bigint and safe integers are Python ints; every other number (NaN, ±Infinity, -0, 1e20, 2.5) a float.
      expect(types[i]).toEqual(expectedTypes(values[i]));
    }
  });

  it('reads edge texts as Python does (1e400, 2**53 + 1, escaped surrogate pairs, duplicate keys, __proto__)', async () => {
    const dir = workDir('json-dialect-texts');
    const texts = [
      '1e400',
      '-1e400',
      '1e-400',
      '-0.0',
      '[-0, -0e0, -0E+1, 0e5]',
      '[9007199254740993, -9007199254740993, 9007199254740993.0]',
      '123456789012345678901234567890',
      '1.0',
      '{"a": 1, "b": 2, "a": 3}',
      '"\\ud83d\\ude00 \\ud800 \\udc00\\ud800"',
      '{"__proto__": {"x": 1}}',
      ' \t\r\n[NaN , -Infinity,Infinity] \n',
      '{"": [], "1": {}, "0": 0}',
    ];
    const file = path.join(dir, 'texts.json');
    writeFileSync(file, JSON.stringify(texts));
    await runPython(['texts', file]);
    const dumps = JSON.parse(readFileSync(`${file}.out`, 'utf8')) as string[];
    texts.forEach((text, i) => {
      const problem = deepIs(parseJson(dumps[i]!), parseJson(text));
      if (problem) throw new Error(`${text}: Python read ${dumps[i]}, Node differs at ${problem}`);
    });
    expect(parseJson('1e400')).toBe(Infinity);
    expect(dumps[texts.indexOf('[-0, -0e0, -0E+1, 0e5]')]).toBe('[0, -0.0, -0.0, 0.0]');
  });

  it("rejects what Python's json.loads rejects, at the same position", async () => {
    const dir = workDir('json-dialect-errors');
    const texts = [
      '',
      ' ',
      '-NaN',
      '+1',
      '01',
      '[01]',
      '[1,]',
      '{"a":1,}',
      "'a'",
      '0x1',
      '"a\u0001b"',
      'nan',
      'infinity',
      '-inf',
      '1.',
      '.5',
      '1e',
      '1e+',
      '-',
      '[1 2]',
      '{"a" 1}',
      '{a: 1}',
      '/* c */ 1',
      '1 // c',
      'tru',
      'nul',
      '"\\x"',
      '"\\u12g4"',
      '"\\u12"',
      '"abc',
      '[1, 2',
      '{"a": 1',
      '[',
      '{',
      '\ufeff1',
      '{"a": 1}}',
      '[Infinityx]',
      '[NaN1]',
      '{"a": 1 "b": 2}',
      '{,}',
      '[,1]',
      '"\t"',
      '1 2',
      'true false',
      '{"a":1}{"b":2}',
      '[1]\n\n  x',
      '{\n  "a": 1,\n  "b": nope\n}',
      '-Infinity1',
      '--1',
      '1.5.2',
      '1e5e5',
    ];
    const file = path.join(dir, 'errors.json');
    writeFileSync(file, JSON.stringify(texts));
    await runPython(['errors', file]);
    const positions = JSON.parse(readFileSync(`${file}.out`, 'utf8')) as Array<number | null>;
    const ours = texts.map((text) => {
      try {
        parseJson(text);
        return null;
      } catch (error) {
        expect(error).toBeInstanceOf(SyntaxError);
        return (error as JsonSyntaxError).position;
      }
    });
    expect(texts.map((text, i) => [text, ours[i]])).toEqual(texts.map((text, i) => [text, positions[i]]));
    expect(positions.every((position) => position !== null)).toBe(true);
  });
});
