/**
 * Word expansion as BuildKit's shell lexer does it: quotes, the escape character, `$VAR`,
 * `${VAR}` and the modifiers `:-` `-` `:+` `+` `:?` `?`, plus the pattern forms `#` `##` `%`
 * `%%` `/` `//`. `processWord` gives one word with quotes removed; `processWords` splits on
 * unquoted whitespace, including whitespace that an unquoted variable expands to.
 */
import { ShellPattern } from './glob.ts';

export class ShellError extends Error {}

export type Env = ReadonlyMap<string, string> | Readonly<Record<string, string>>;

function lookup(env: Env, name: string): string | undefined {
  return env instanceof Map ? env.get(name) : (env as Record<string, string>)[name];
}

const SPECIAL = new Set(['@', '*', '#', '?', '-', '$', '!', '0']);
const isSpace = (c: string) => /\s/.test(c);
const isNameChar = (c: string) => /[\p{L}\p{N}_]/u.test(c);

class Words {
  private buf = '';
  private inWord = false;
  readonly words: string[] = [];
  addChar(ch: string): void {
    if (isSpace(ch)) {
      if (this.inWord && this.buf.length) {
        this.words.push(this.buf);
        this.buf = '';
        this.inWord = false;
      }
    } else this.addRaw(ch);
  }
  addRaw(s: string): void {
    this.buf += s;
    this.inWord = true;
  }
  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }
  finish(): string[] {
    if (this.buf.length) {
      this.words.push(this.buf);
      this.buf = '';
      this.inWord = false;
    }
    return this.words;
  }
}

function removePattern(value: string, pat: string, op: '#' | '##' | '%' | '%%'): string {
  const chars = [...value];
  const p = new ShellPattern(pat);
  if (op === '#' || op === '##') {
    const n = p.prefix(chars, op === '##');
    return n === undefined ? value : chars.slice(n).join('');
  }
  const n = p.suffix(chars, op === '%%');
  return n === undefined ? value : chars.slice(0, chars.length - n).join('');
}

/** `${VAR/pat/repl}` and `//`: leftmost, longest matches, as a global RegExp replace walks them. */
function replacePattern(value: string, pat: string, repl: string, all: boolean): string {
  if (pat === '') return value;
  const chars = [...value];
  const p = new ShellPattern(pat);
  let out = '';
  let at = 0;
  while (at <= chars.length) {
    const m = p.find(chars, at);
    if (!m) break;
    out += chars.slice(at, m[0]).join('') + repl;
    if (!all) return out + chars.slice(m[1]).join('');
    // An empty match replaces nothing in between: step over one character.
    at = m[1] > m[0] ? m[1] : m[1] + 1;
    if (m[1] === m[0] && m[1] < chars.length) out += chars[m[1]];
  }
  return out + chars.slice(at).join('');
}

/**
 * How deep `${…}` may nest. The lexer recurses once per level, as BuildKit's does; Go's
 * stacks grow, Node's do not, so a hostile Dockerfile could end it with a RangeError.
 */
const MAX_NESTING = 256;

class Lexer {
  private pos = 0;
  private depth = 0;
  private readonly chars: string[];
  constructor(
    text: string,
    private readonly env: Env,
    private readonly escape: string,
  ) {
    this.chars = [...text];
  }

  private peek(): string | undefined {
    return this.chars[this.pos];
  }
  private next(): string | undefined {
    return this.chars[this.pos++];
  }

  /** Processes until `stop` (unescaped, unquoted) or the end; returns the text and the words. */
  processStopOn(stop: string | undefined): { text: string; words: string[] } {
    let result = '';
    const words = new Words();
    while (this.peek() !== undefined) {
      const ch = this.peek()!;
      if (stop !== undefined && ch === stop) {
        this.next();
        return { text: result, words: words.finish() };
      }
      if (ch === "'" || ch === '"' || ch === '$') {
        const tmp = ch === "'" ? this.singleQuote() : ch === '"' ? this.doubleQuote() : this.dollar();
        result += tmp;
        if (ch === '$') words.addString(tmp);
        else words.addRaw(tmp);
        continue;
      }
      this.next();
      if (ch === this.escape) {
        const escaped = this.next();
        if (escaped === undefined) break;
        words.addRaw(escaped);
        result += escaped;
        continue;
      }
      words.addChar(ch);
      result += ch;
    }
    if (stop !== undefined) throw new ShellError(`unexpected end of statement while looking for matching ${stop}`);
    return { text: result, words: words.finish() };
  }

  /**
   * Heredoc body: only `$` expansions and the escape before `$` or itself are special;
   * quotes and newlines stay as written, as a shell treats an unquoted here-document.
   */
  processHeredoc(): string {
    let out = '';
    while (this.peek() !== undefined) {
      const ch = this.peek()!;
      if (ch === '$') {
        out += this.dollar();
        continue;
      }
      this.next();
      if (ch === this.escape && (this.peek() === '$' || this.peek() === this.escape)) {
        out += this.next()!;
        continue;
      }
      out += ch;
    }
    return out;
  }

  private singleQuote(): string {
    this.next();
    let out = '';
    for (;;) {
      const ch = this.next();
      if (ch === undefined) throw new ShellError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") return out;
      out += ch;
    }
  }

  private doubleQuote(): string {
    this.next();
    let out = '';
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) throw new ShellError('unexpected end of statement while looking for matching double-quote');
      if (ch === '"') {
        this.next();
        return out;
      }
      if (ch === '$') {
        out += this.dollar();
        continue;
      }
      this.next();
      if (ch === this.escape) {
        const p = this.peek();
        if (p === undefined) continue;
        if (p === '"' || p === '$' || p === this.escape) {
          out += this.next()!;
          continue;
        }
      }
      out += ch;
    }
  }

  private name(): string {
    let name = '';
    while (this.peek() !== undefined) {
      const ch = this.peek()!;
      if (name === '' && /\d/.test(ch)) {
        while (this.peek() !== undefined && /\d/.test(this.peek()!)) name += this.next()!;
        return name;
      }
      if (name === '' && SPECIAL.has(ch)) return this.next()!;
      if (!isNameChar(ch)) break;
      name += this.next()!;
    }
    return name;
  }

  private dollar(): string {
    this.next();
    if (this.peek() !== '{') {
      const name = this.name();
      return name === '' ? '$' : (lookup(this.env, name) ?? '');
    }
    this.next();
    if (this.depth >= MAX_NESTING) throw new ShellError(`syntax error: more than ${MAX_NESTING} nested \${...} substitutions`);
    this.depth++;
    try {
      return this.braced();
    } finally {
      this.depth--;
    }
  }

  /** `${...}` after its `${`. */
  private braced(): string {
    const first = this.peek();
    if (first === undefined) throw new ShellError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new ShellError('syntax error: bad substitution');
    const name = this.name();
    const ch = this.next();
    if (ch === undefined) throw new ShellError("syntax error: missing '}'");
    const value = lookup(this.env, name);
    const word = () => {
      try {
        return this.processStopOn('}').text;
      } catch (e) {
        if (this.peek() === undefined) throw new ShellError("syntax error: missing '}'");
        throw e;
      }
    };
    switch (ch) {
      case '}':
        return value ?? '';
      case '?': {
        const w = word();
        if (value === undefined) throw new ShellError(`${name}: ${w || 'is not allowed to be unset'}`);
        return value;
      }
      case '-': {
        const w = word();
        return value === undefined ? w : value;
      }
      case '+': {
        const w = word();
        return value === undefined ? '' : w;
      }
      case ':': {
        const mod = this.next();
        const w = word();
        if (mod === '-') return value ? value : w;
        if (mod === '+') return value ? w : '';
        if (mod === '?') {
          if (value === undefined) throw new ShellError(`${name}: ${w || 'is not allowed to be unset'}`);
          if (value === '') throw new ShellError(`${name}: ${w || 'is not allowed to be empty'}`);
          return value;
        }
        throw new ShellError(`unsupported modifier (${mod ?? 'EOF'}) in substitution`);
      }
      case '#':
      case '%': {
        const double = this.peek() === ch;
        if (double) this.next();
        const pat = word();
        return removePattern(value ?? '', pat, (double ? ch + ch : ch) as '#' | '##' | '%' | '%%');
      }
      case '/': {
        const all = this.peek() === '/';
        if (all) this.next();
        const rest = word();
        const slash = rest.indexOf('/');
        return replacePattern(value ?? '', slash < 0 ? rest : rest.slice(0, slash), slash < 0 ? '' : rest.slice(slash + 1), all);
      }
      default:
        throw new ShellError(`unsupported modifier (${ch ?? 'EOF'}) in substitution`);
    }
  }
}

/** Expands one word: quotes removed, escapes applied, variables substituted. */
export function processWord(word: string, env: Env, escape = '\\'): string {
  return new Lexer(word, env, escape).processStopOn(undefined).text;
}

/** Expands and splits into words on unquoted whitespace. */
export function processWords(line: string, env: Env, escape = '\\'): string[] {
  return new Lexer(line, env, escape).processStopOn(undefined).words;
}

/** Expands an unquoted-delimiter heredoc body (`COPY <<EOF`): variables only, quotes kept. */
export function processHeredoc(content: string, env: Env, escape = '\\'): string {
  return new Lexer(content, env, escape).processHeredoc();
}
