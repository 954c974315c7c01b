/**
 * A small seeded mutator: every case is a pure function of (seed, target, index), so a
 * finding is reproduced from three numbers and the runner never has to ship inputs
 * between threads to know what hung.
 */

/** splitmix32: fast, good enough to drive mutations, and reproducible across runs. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x9e3779b9) >>> 0;
    let z = this.s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  }
  /** 0 ≤ n < max */
  int(max: number): number {
    return max <= 0 ? 0 : this.next() % max;
  }
  chance(p: number): boolean {
    return this.next() / 0x100000000 < p;
  }
  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)]!;
  }
  /** Small counts more often than big ones: 1, 2, 4... up to max. */
  count(max: number): number {
    let n = 1;
    while (n < max && this.chance(0.5)) n *= 2;
    return 1 + this.int(n);
  }
}

/** FNV-1a of the case's coordinates: the seed of that case's Rng. */
export function caseRng(seed: number, target: string, index: number): Rng {
  let h = 0x811c9dc5;
  for (const c of `${seed}:${target}:${index}`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return new Rng(h);
}

/** Tokens worth inserting into any text input; targets add their own. */
export const COMMON_TOKENS: readonly string[] = [
  '\\',
  '\\\\',
  '`',
  '$',
  '${',
  '}',
  '{{',
  '}}',
  '{{.Foo',
  '"',
  "'",
  '[',
  ']',
  '[]',
  '["',
  '"]',
  '=',
  ',',
  ':',
  '@',
  '/',
  '//',
  '..',
  '../',
  './',
  '*',
  '**',
  '?',
  '!',
  '#',
  '%',
  '\n',
  '\r',
  '\r\n',
  '\t',
  '\v',
  '\f',
  '\0',
  ' ',
  '   ',
  '-',
  '--',
  '\\\n',
  '\\ \n',
  '\u00e9',
  '\u65e5\u672c',
  '\u{1F600}',
  '\u200b',
  '\uFEFF',
  '\u2028',
  '\uD800',
  '\uDFFF',
  '\u0085',
  '\u00a0',
  '\x7f',
  '\x1b[0m',
  '0',
  '-1',
  '99999999999999999999',
  '1e400',
  'NaN',
];

/** Inputs are cut to this many UTF-16 units: long enough for every quadratic path to show. */
export const MAX_TEXT = 256 * 1024;

const ALPHABET = 'aZ09_-./:@=$\\`"\'{}[]()<>!*?#%&|;~ \t\n\r\0\u00e9\u2028\uD800';

export interface TextMutatorOptions {
  readonly tokens: readonly string[];
  /** Other seeds, for splices. */
  readonly corpus: readonly string[];
}

function position(rng: Rng, s: string): number {
  // Line starts and ends are where a Dockerfile's structure lives: favour them.
  if (s.length && rng.chance(0.3)) {
    const starts: number[] = [0];
    for (let i = s.indexOf('\n'); i !== -1 && starts.length < 256; i = s.indexOf('\n', i + 1)) starts.push(i + 1);
    const at = rng.pick(starts);
    if (rng.chance(0.5)) return at;
    const end = s.indexOf('\n', at);
    return end === -1 ? s.length : end;
  }
  return rng.int(s.length + 1);
}

function range(rng: Rng, s: string): [number, number] {
  const a = rng.int(s.length + 1);
  const len = rng.chance(0.8) ? rng.count(16) : rng.int(s.length - a + 1);
  return [a, Math.min(s.length, a + len)];
}

const MUTATIONS: ReadonlyArray<(rng: Rng, s: string, o: TextMutatorOptions) => string> = [
  // replace one char
  (rng, s) => {
    const i = rng.int(s.length);
    const c = rng.chance(0.7) ? rng.pick([...ALPHABET]) : String.fromCharCode(rng.int(0x10000));
    return s.slice(0, i) + c + s.slice(i + 1);
  },
  // insert a token
  (rng, s, o) => {
    const i = position(rng, s);
    return s.slice(0, i) + rng.pick(rng.chance(0.6) ? o.tokens : COMMON_TOKENS) + s.slice(i);
  },
  // delete a range
  (rng, s) => {
    const [a, b] = range(rng, s);
    return s.slice(0, a) + s.slice(b);
  },
  // repeat a range: long lines, deep nesting
  (rng, s) => {
    const [a, b] = range(rng, s);
    const times = rng.chance(0.1) ? 1000 + rng.int(20000) : rng.count(64);
    return s.slice(0, a) + s.slice(a, b).repeat(Math.min(times, Math.floor(MAX_TEXT / Math.max(1, b - a)))) + s.slice(b);
  },
  // splice a piece of another seed in
  (rng, s, o) => {
    if (!o.corpus.length) return s;
    const other = rng.pick(o.corpus);
    const [a, b] = range(rng, other);
    const i = position(rng, s);
    return s.slice(0, i) + other.slice(a, b) + s.slice(rng.chance(0.5) ? i : Math.min(s.length, i + (b - a)));
  },
  // line surgery: swap, duplicate or drop a line
  (rng, s) => {
    const lines = s.split('\n');
    const i = rng.int(lines.length);
    const j = rng.int(lines.length);
    const op = rng.int(3);
    if (op === 0) [lines[i], lines[j]] = [lines[j]!, lines[i]!];
    else if (op === 1) lines.splice(i, 0, lines[j]!);
    else lines.splice(i, 1);
    return lines.join('\n');
  },
  // a long run or a deep nesting of one construct
  (rng, s) => {
    const unit = rng.pick(['a', ' ', '\\\n', '[', '{', '${', '${a:-', '"', '(', '**/', '../', 'a/', '<<EOF ', '\t', '$', '\\', '*']);
    const times = rng.chance(0.5) ? 100 + rng.int(5000) : 10_000 + rng.int(100_000);
    const i = position(rng, s);
    return s.slice(0, i) + unit.repeat(Math.ceil(times / unit.length)) + s.slice(i);
  },
  // change case of a range (keywords, hex, registries)
  (rng, s) => {
    const [a, b] = range(rng, s);
    const piece = s.slice(a, b);
    return s.slice(0, a) + (rng.chance(0.5) ? piece.toUpperCase() : piece.toLowerCase()) + s.slice(b);
  },
];

/** One to a few mutations of `seed`. */
export function mutateText(rng: Rng, seed: string, o: TextMutatorOptions): string {
  let s = seed;
  const n = rng.count(8);
  for (let k = 0; k < n; k++) {
    s = rng.pick(MUTATIONS)(rng, s, o);
    if (s.length > MAX_TEXT) s = s.slice(0, MAX_TEXT);
  }
  return s;
}
