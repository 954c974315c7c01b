/**
 * Glob patterns for the three places a build has them: COPY/ADD sources, where `*` and `?`
 * stay within one path component (Go's filepath.Match); `.dockerignore`, which adds `**`
 * (any number of dirs); and the shell-style `${VAR#pattern}` family of word expansion,
 * where `*` and `?` match any character. `[...]` is a character class (`[^...]` negated,
 * and `[!...]` too except in .dockerignore, whose patterns are Go regexps there; `a-z`
 * ranges; a `]` right after the `[` is a member), and `\` makes the next character literal.
 *
 * A pattern is compiled into a Thompson NFA and matched by walking the set of its states
 * over the text: time is bounded by text length × pattern length. Go matches these with
 * RE2 or a non-backtracking loop; a JavaScript RegExp backtracks, exponentially in the
 * number of stars for `*a*a*a…` (or just `****…`) against a name that almost matches.
 */

type Test = (c: string) => boolean;

/** A character test, or the one character a literal matches (no closure per literal). */
type CharTest = Test | string;

/** One pattern element: a single character, any run of them, or `**`'s `(.*\/)?`. */
type Token = { readonly kind: 'one' | 'star'; readonly test: CharTest } | { readonly kind: 'dirs' };

export interface GlobSyntax {
  /** `*` and `?` never match `/`. */
  readonly paths: boolean;
  /** `**` matches across dirs (.dockerignore): `**` at the end anything, `**\/` any dirs. */
  readonly doubleStar?: boolean;
}

const ANY: Test = () => true;
const NOT_SLASH: Test = (c) => c !== '/';
const SLASH: Test = (c) => c === '/';

/** `[...]` starting at chars[i]: the test and the index of its `]`, or undefined when unclosed. */
function charClass(chars: readonly string[], i: number, bang: boolean): { test: Test; end: number } | undefined {
  let j = i + 1;
  const negated = chars[j] === '^' || (bang && chars[j] === '!');
  if (negated) j++;
  const start = j;
  const singles = new Set<string>();
  const ranges: Array<[number, number]> = [];
  for (; j < chars.length; j++) {
    let c = chars[j]!;
    if (c === ']' && j > start) break;
    if (c === '\\' && j + 1 < chars.length) c = chars[++j]!;
    if (chars[j + 1] === '-' && j + 2 < chars.length && chars[j + 2] !== ']') {
      let hi = chars[j + 2]!;
      j += 2;
      if (hi === '\\' && j + 1 < chars.length) hi = chars[++j]!;
      ranges.push([c.codePointAt(0)!, hi.codePointAt(0)!]); // an inverted range matches nothing
    } else singles.add(c);
  }
  if (j >= chars.length) return undefined;
  const member = (c: string) => {
    if (singles.has(c)) return true;
    const cp = c.codePointAt(0)!;
    return ranges.some(([lo, hi]) => cp >= lo && cp <= hi);
  };
  return { test: negated ? (c) => !member(c) : member, end: j };
}

function tokenize(pattern: string, syntax: GlobSyntax): Token[] {
  const chars = [...pattern];
  const one = syntax.paths ? NOT_SLASH : ANY;
  const out: Token[] = [];
  const push = (t: Token) => {
    // Runs of stars are one star (`**` in a path pattern is `*` twice): equal, and smaller.
    const last = out.at(-1);
    if (t.kind === 'star' && last?.kind === 'star' && last.test === t.test) return;
    if (t.kind === 'dirs' && last?.kind === 'dirs') return; // `**/**/` is `**/`
    out.push(t);
  };
  // Once a `[` finds no `]` to close it, no later `[` can: scanning again from each one made
  // `[[[[…` quadratic.
  let unclosedFrom = Infinity;
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '*') {
      if (syntax.doubleStar && chars[i + 1] === '*') {
        i++;
        if (chars[i + 1] === '/') i++;
        push(i + 1 >= chars.length ? { kind: 'star', test: ANY } : { kind: 'dirs' });
      } else push({ kind: 'star', test: one });
    } else if (c === '?') push({ kind: 'one', test: one });
    else if (c === '[' && i < unclosedFrom) {
      const cls = charClass(chars, i, !syntax.doubleStar);
      if (cls) {
        push({ kind: 'one', test: cls.test });
        i = cls.end;
      } else {
        unclosedFrom = i;
        push({ kind: 'one', test: c });
      }
    } else {
      const lit = c === '\\' && i + 1 < chars.length ? chars[++i]! : c;
      push({ kind: 'one', test: lit });
    }
  }
  return out;
}

/** The NFA: node k consumes one character that passes tests[k], or (no test) moves on for free. */
class Nfa {
  readonly tests: Array<CharTest | undefined> = [];
  readonly outs: number[][] = [];
  readonly accept: number;

  constructor(tokens: readonly Token[]) {
    for (const t of tokens) {
      const k = this.tests.length;
      if (t.kind === 'one') this.add(t.test, [k + 1]);
      else if (t.kind === 'star') {
        this.add(undefined, [k + 1, k + 2]);
        this.add(t.test, [k]);
      } else {
        this.add(undefined, [k + 1, k + 4]); // skip the whole (.*/)?
        this.add(undefined, [k + 2, k + 3]);
        this.add(ANY, [k + 1]);
        this.add(SLASH, [k + 4]);
      }
    }
    this.accept = this.tests.length;
  }

  private add(test: CharTest | undefined, out: number[]): void {
    this.tests.push(test);
    this.outs.push(out);
  }

  /** Adds state k and every state it reaches for free to the set (marked with `gen`). */
  private close(mark: Int32Array, gen: number, list: number[], k: number): void {
    const stack = [k];
    while (stack.length) {
      const s = stack.pop()!;
      if (mark[s] === gen) continue;
      mark[s] = gen;
      list.push(s);
      if (s !== this.accept && !this.tests[s]) for (const o of this.outs[s]!) stack.push(o);
    }
  }

  /**
   * The leftmost match at or after `from`, the longest one there, in one pass: each state
   * remembers the earliest start that reached it (a Pike VM; states are kept in start order,
   * so the first to reach a state has the earliest start).
   */
  search(chars: readonly string[], from: number): [number, number] | undefined {
    const mark = new Int32Array(this.accept + 1).fill(-1);
    const startOf = new Int32Array(this.accept + 1);
    let gen = 0;
    let list: number[] = [];
    let best: [number, number] | undefined;
    const add = (into: number[], k: number, start: number) => {
      const before = into.length;
      this.close(mark, gen, into, k);
      for (let i = before; i < into.length; i++) startOf[into[i]!] = start;
    };
    for (let p = from; ; p++) {
      if (!best) add(list, 0, p); // a new start, last in priority
      for (const s of list) if (s === this.accept && (!best || startOf[s]! < best[0] || (startOf[s] === best[0] && p > best[1]))) best = [startOf[s]!, p];
      if (best) list = list.filter((s) => startOf[s]! <= best![0]); // a later start can no longer win
      if (p === chars.length || (best && !list.length)) return best;
      const c = chars[p]!;
      const next: number[] = [];
      gen++;
      for (const s of list) {
        const t = s === this.accept ? undefined : this.tests[s];
        if (t !== undefined && (typeof t === 'string' ? t === c : t(c))) add(next, this.outs[s]![0]!, startOf[s]!);
      }
      list = next;
    }
  }

  /** Every end position p (ascending) such that chars[start..p) matches the whole pattern. */
  ends(chars: readonly string[], start: number, firstOnly = false): number[] {
    const found: number[] = [];
    const mark = new Int32Array(this.accept + 1).fill(-1);
    let gen = 0;
    let list: number[] = [];
    this.close(mark, gen, list, 0);
    for (let p = start; ; p++) {
      if (mark[this.accept] === gen) {
        found.push(p);
        if (firstOnly) return found;
      }
      if (p === chars.length || !list.length) return found;
      const c = chars[p]!;
      const next: number[] = [];
      gen++;
      for (const s of list) {
        const t = s === this.accept ? undefined : this.tests[s];
        if (t !== undefined && (typeof t === 'string' ? t === c : t(c))) this.close(mark, gen, next, this.outs[s]![0]!);
      }
      list = next;
    }
  }
}

export interface Glob {
  /** Whether the whole of `text` matches. */
  test(text: string): boolean;
  /** Whether `text` or one of its parent dirs (a prefix that ends before a `/`) matches. */
  testPathOrParent(text: string): boolean;
}

export function compileGlob(pattern: string, syntax: GlobSyntax): Glob {
  // Most patterns are plain names (node_modules, .git): a string compare, no automaton.
  if (!/[*?[\\]/.test(pattern)) {
    const dir = `${pattern}/`;
    return { test: (text) => text === pattern, testPathOrParent: (text) => text === pattern || text.startsWith(dir) };
  }
  const nfa = new Nfa(tokenize(pattern, syntax));
  return {
    test: (text) => {
      const chars = [...text];
      return nfa.ends(chars, 0).at(-1) === chars.length;
    },
    testPathOrParent: (text) => {
      const chars = [...text];
      return nfa.ends(chars, 0).some((e) => e === chars.length || chars[e] === '/');
    },
  };
}

/** A whole-path matcher for a COPY source pattern. */
export function pathGlob(glob: string): Glob {
  return compileGlob(glob, { paths: true });
}

/**
 * A shell pattern for `${VAR#…}`, `%`, `/`: the prefix, suffix or first match of a value.
 * Prefix and suffix give the shortest or the longest; `find` the leftmost, longest match.
 */
export class ShellPattern {
  private readonly forward: Nfa;
  private readonly backward: Nfa;

  constructor(pattern: string) {
    const tokens = tokenize(pattern, { paths: false });
    this.forward = new Nfa(tokens);
    this.backward = new Nfa([...tokens].reverse());
  }

  /** Length in characters (code points) of the shortest or longest matching prefix. */
  prefix(chars: readonly string[], longest: boolean): number | undefined {
    const ends = this.forward.ends(chars, 0, !longest);
    return longest ? ends.at(-1) : ends[0];
  }

  /** Length in characters of the shortest or longest matching suffix. */
  suffix(chars: readonly string[], longest: boolean): number | undefined {
    const ends = this.backward.ends([...chars].reverse(), 0, !longest);
    return longest ? ends.at(-1) : ends[0];
  }

  /** The leftmost match at or after `from`, longest there: [start, end), or undefined. */
  find(chars: readonly string[], from: number): [number, number] | undefined {
    return this.forward.search(chars, from);
  }
}
