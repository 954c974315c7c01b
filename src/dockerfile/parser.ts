/**
 * Dockerfile text → AST, following BuildKit's parser: parser directives at the top, the
 * escape character and line continuations (comment and blank lines inside a continuation
 * are skipped), instruction flags, per-instruction argument forms, and heredocs read from
 * the lines after the instruction. Errors carry `file:line:col` and the offending line.
 */
import { BerthError } from '../errors/index.ts';
import type { Directive, Heredoc, Node, ParseResult, ParseWarning } from './ast.ts';
import { DISPATCH, extractFlags, NotStringArray, parseWords } from './line-parsers.ts';

// BuildKit's `^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$`, in two steps: as one JavaScript
// RegExp, `(.+?)\s*$` backtracks quadratically over a line of spaces.
const DIRECTIVE_RE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=/;

/** The directive's name and value, or undefined when the line is not one. */
function directive(line: string): [string, string] | undefined {
  const m = DIRECTIVE_RE.exec(line);
  if (!m) return undefined;
  const rest = line.slice(m[0].length);
  if (rest === '' || /[\n\r\u2028\u2029]/.test(rest)) return undefined; // `.` matches none of these
  // `\s*(.+?)\s*$` on a blank rest leaves its last character as the value.
  return [m[1]!, rest.trim() || rest.slice(-1)];
}
const COMMENT_RE = /^#.*$/;
const HEREDOC_INSTRUCTIONS = new Set(['run', 'copy', 'add']);

export function syntaxError(file: string, lines: readonly string[], line: number, message: string, opts: { column?: number; hint?: string } = {}): BerthError {
  const text = lines[line - 1] ?? '';
  const column = opts.column ?? Math.max(1, text.length - text.trimStart().length + 1);
  return new BerthError('SYNTAX', message, { hint: opts.hint, position: { file, line, column, lineText: text } });
}

class Directives {
  done = false;
  escape: '\\' | '`' = '\\';
  readonly list: Directive[] = [];
  private readonly seen = new Set<string>();

  /** Looks at a line for a directive while still at the top of the file; returns an error message. */
  consider(line: string, lineNo: number): string | undefined {
    if (this.done) return undefined;
    const m = directive(line);
    const name = m?.[0].toLowerCase();
    if (!m || (name !== 'syntax' && name !== 'escape' && name !== 'check')) {
      this.done = true;
      return undefined;
    }
    if (this.seen.has(name)) return `only one ${name} parser directive can be used`;
    this.seen.add(name);
    const value = m[1];
    if (name === 'escape') {
      if (value !== '`' && value !== '\\') return `invalid escape token ${value} does not match \` or \\`;
      this.escape = value;
    }
    this.list.push({ name, value, line: lineNo });
    return undefined;
  }
}

interface Continuation {
  test(s: string): boolean;
  strip(s: string): string;
}

/** An escape char ending the line continues it — unless it is itself escaped (`\\\\`). */
function continuation(escape: string): Continuation {
  const e = escape === '\\' ? '\\\\' : '`';
  const single = new RegExp(`${e}[ \\t]*$`);
  const double = new RegExp(`${e}${e}[ \\t]*$`);
  return { test: (s) => single.test(s) && !double.test(s), strip: (s) => s.replace(single, '') };
}

// Built once: the hot loop must not allocate regexes or closures per line.
const CONTINUATION: Readonly<Record<'\\' | '`', Continuation>> = { '\\': continuation('\\'), '`': continuation('`') };

/**
 * Finds `<<[-]WORD` heredoc markers in a shell-form line: whole words only, so `"<<EOF"`
 * inside quotes is not one. Quotes around WORD disable expansion of the body; a bare WORD
 * ends at a shell operator (`<<EOF>out` writes to out).
 */
export function heredocsInLine(line: string, escape = '\\'): Array<Omit<Heredoc, 'content'>> {
  if (!line.includes('<<')) return [];
  const out: Array<Omit<Heredoc, 'content'>> = [];
  for (const word of parseWords(line, escape)) {
    const m = /^(\d*)<<(-?)(?:"([^"\s]+)"|'([^'\s]+)'|([^\s"'<>;&|()]+))/.exec(word);
    if (!m) continue;
    const name = m[3] ?? m[4] ?? m[5]!;
    out.push({ name, chomp: m[2] === '-', expand: m[5] !== undefined, fileDescriptor: m[1] ? Number(m[1]) : 0 });
  }
  return out;
}

interface Line {
  readonly text: string;
  readonly no: number;
}

export function parseDockerfile(source: string, file = 'Dockerfile'): ParseResult {
  const lines = source.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines.length && lines.at(-1) === '') lines.pop();
  const d = new Directives();
  const children: Node[] = [];
  const warnings: ParseWarning[] = [];
  let comments: string[] = [];
  let i = 0;
  const next = (): Line | undefined => (i < lines.length ? { text: lines[i]!, no: ++i } : undefined);
  const fail = (line: number, msg: string, opts?: { column?: number; hint?: string }): never => {
    throw syntaxError(file, lines, line, msg, opts);
  };

  for (let cur = next(); cur; cur = next()) {
    const trimmedLeft = cur.text.replace(/^\s+/, '');
    if (COMMENT_RE.test(trimmedLeft)) {
      const c = trimmedLeft.slice(1).trim();
      // Pushed, not copied: copying made a long run of comment lines quadratic.
      if (c) comments.push(c);
      else comments = [];
    }
    const directiveError = d.consider(trimmedLeft, cur.no);
    if (directiveError !== undefined) fail(cur.no, directiveError);
    const startLine = cur.no;
    const contRe = CONTINUATION[d.escape];
    let line = COMMENT_RE.test(trimmedLeft) ? '' : trimmedLeft;
    let ended = !contRe.test(line);
    if (!ended) line = contRe.strip(line);
    if (ended && line.trim() === '') continue;
    let endLine = cur.no;
    while (!ended) {
      const more = next();
      if (!more) break;
      endLine = more.no;
      const t = more.text;
      if (COMMENT_RE.test(t.replace(/^\s+/, ''))) continue;
      if (t.trim() === '') {
        warnings.push({ message: 'Empty continuation line', line: more.no });
        continue;
      }
      ended = !contRe.test(t);
      line += ended ? t : contRe.strip(t);
    }
    d.done = true;
    const node = nodeFromLine(line, d.escape, comments, startLine, endLine, fail);
    comments = [];
    const heredocs: Heredoc[] = [];
    let lastLine = endLine;
    if (HEREDOC_INSTRUCTIONS.has(node.value) && !node.json && line.includes('<<')) {
      for (const h of heredocsInLine(line, d.escape)) {
        let content = '';
        let terminated = false;
        for (let more = next(); more; more = next()) {
          lastLine = more.no;
          const candidate = h.chomp ? more.text.replace(/^\t+/, '') : more.text;
          if (candidate === h.name) {
            terminated = true;
            break;
          }
          content += `${more.text}\n`;
        }
        if (!terminated)
          fail(startLine, `unterminated heredoc: no line "${h.name}" ends the here-document`, { hint: `end it with a line that holds only ${h.name}` });
        heredocs.push({ ...h, content });
      }
    }
    children.push({ ...node, heredocs, endLine: lastLine });
  }
  if (children.length === 0) {
    throw syntaxError(file, lines, Math.max(1, lines.length), 'file with no instructions', { hint: 'a Dockerfile needs at least a FROM instruction' });
  }
  return { file, directives: d.list, escape: d.escape, children, lines, warnings };
}

function nodeFromLine(
  line: string,
  escape: string,
  comments: readonly string[],
  startLine: number,
  endLine: number,
  fail: (line: number, msg: string, opts?: { column?: number; hint?: string }) => never,
): Node {
  const trimmed = line.trim();
  const m = /^(\S+)(?:[\t\v\f\r ]+([\s\S]*))?$/.exec(trimmed);
  const keyword = m?.[1] ?? trimmed;
  const { rest, flags } = m?.[2] !== undefined ? extractFlags(m[2]) : { rest: '', flags: [] as string[] };
  const value = keyword.toLowerCase();
  const parse = DISPATCH[value];
  let parsed = { next: [] as string[], json: false, sub: undefined as string | undefined };
  if (parse) {
    try {
      parsed = { sub: undefined, ...parse(rest.trim(), escape) };
    } catch (e) {
      if (e instanceof NotStringArray) fail(startLine, e.message);
      if (e instanceof BerthError) fail(startLine, e.message, { hint: e.hint });
      throw e;
    }
  }
  const child = parsed.sub !== undefined ? nodeFromLine(parsed.sub, escape, [], startLine, endLine, fail) : undefined;
  return { value, original: line, flags, next: parsed.next, child, heredocs: [], json: parsed.json, startLine, endLine, comments };
}
