/**
 * The lexer of Go's text/template, item for item: text between actions, and inside `{{ }}`
 * fields, variables, identifiers, keywords, literals and punctuation. Trim markers (`{{- `,
 * ` -}}`) drop the white space next to them here, so the parser never sees it. An item keeps its
 * byte offset in the template (for `:line:col` in errors) and its line (for parse errors).
 */

export type ItemType =
  | 'text'
  | 'leftDelim'
  | 'rightDelim'
  | 'space'
  | 'field'
  | 'variable'
  | 'identifier'
  | 'keyword'
  | 'string'
  | 'rawString'
  | 'char'
  | 'number'
  | 'bool'
  | 'nil'
  | 'dot'
  | 'pipe'
  | 'leftParen'
  | 'rightParen'
  | 'declare'
  | 'assign'
  /** Any other printable ASCII character (`,` in `range $i, $v`); the parser decides. */
  | 'punct'
  | 'comment'
  | 'error'
  | 'eof';

export interface Item {
  readonly type: ItemType;
  readonly val: string;
  /** Byte offset in the template (UTF-16 offset here; the same for ASCII templates). */
  readonly pos: number;
  readonly line: number;
}

export const KEYWORDS = new Set(['block', 'break', 'continue', 'define', 'else', 'end', 'if', 'range', 'nil', 'template', 'with']);

const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isAlnum = (c: string | undefined) => c !== undefined && /[\p{L}\p{Nd}_]/u.test(c);

/** Splits a template into items; an `error` item ends the list, carrying Go's message. */
export function lex(input: string): Item[] {
  const items: Item[] = [];
  let pos = 0;
  let start = 0;
  let line = 1;
  let startLine = 1;
  let parenDepth = 0;

  const emit = (type: ItemType) => {
    items.push({ type, val: input.slice(start, pos), pos: start, line: startLine });
    start = pos;
    startLine = line;
  };
  const ignore = () => {
    line += count(input.slice(start, pos));
    start = pos;
    startLine = line;
  };
  const advance = (n = 1) => {
    line += count(input.slice(pos, pos + n));
    pos += n;
  };
  const fail = (message: string): Item[] => {
    items.push({ type: 'error', val: message, pos: start, line: startLine });
    return items;
  };

  for (;;) {
    // Text up to the next action.
    const open = input.indexOf('{{', pos);
    if (open === -1) {
      advance(input.length - pos);
      if (pos > start) emit('text');
      items.push({ type: 'eof', val: '', pos, line });
      return items;
    }
    const trimLeft = input.startsWith('{{- ', open) || input.startsWith('{{-\t', open) || input.startsWith('{{-\n', open) || input.startsWith('{{-\r', open);
    advance(open - pos);
    let textEnd = pos;
    if (trimLeft) while (textEnd > start && isSpace(input[textEnd - 1])) textEnd--;
    if (textEnd > start) items.push({ type: 'text', val: input.slice(start, textEnd), pos: start, line: startLine });
    start = pos;
    startLine = line;
    advance(trimLeft ? 3 : 2);

    // A comment is a whole action of its own.
    let afterMarker = pos;
    while (trimLeft && isSpace(input[afterMarker])) afterMarker++;
    if (input.startsWith('/*', trimLeft ? afterMarker : pos)) {
      advance((trimLeft ? afterMarker : pos) - pos);
      const end = input.indexOf('*/', pos + 2);
      if (end === -1) return fail('unclosed comment');
      advance(end + 2 - pos);
      const trimRight = input.startsWith(' -}}', pos) || input.startsWith('\t-}}', pos) || input.startsWith('\n-}}', pos) || input.startsWith('\r-}}', pos);
      if (!trimRight && !input.startsWith('}}', pos)) return fail('comment ends before closing delimiter');
      advance(trimRight ? 4 : 2);
      ignore();
      if (trimRight) skipSpace();
      continue;
    }
    emit('leftDelim');
    if (trimLeft) ignore();

    // Inside the action.
    for (;;) {
      const trimRight = isSpace(input[pos]) && input.startsWith('-}}', pos + 1);
      if (trimRight || input.startsWith('}}', pos)) {
        if (parenDepth > 0) return fail('unclosed left paren');
        if (trimRight) {
          advance(1);
          ignore();
        }
        advance(trimRight ? 3 : 2);
        emit('rightDelim');
        if (trimRight) skipSpace();
        break;
      }
      const c = input[pos];
      if (c === undefined) return fail('unclosed action');
      if (c === '\r' || c === '\n' || c === ' ' || c === '\t') {
        while (isSpace(input[pos]) && !(isSpace(input[pos]) && input.startsWith('-}}', pos + 1))) advance();
        emit('space');
      } else if (c === '=') {
        advance();
        emit('assign');
      } else if (c === ':') {
        if (input[pos + 1] !== '=') return fail('expected :=');
        advance(2);
        emit('declare');
      } else if (c === '|') {
        advance();
        emit('pipe');
      } else if (c === '"') {
        advance();
        for (;;) {
          const ch = input[pos];
          if (ch === '\\' && input[pos + 1] !== undefined && input[pos + 1] !== '\n') advance(2);
          else if (ch === undefined || ch === '\n') return fail('unterminated quoted string');
          else if (ch === '"') break;
          else advance();
        }
        advance();
        emit('string');
      } else if (c === '`') {
        const end = input.indexOf('`', pos + 1);
        if (end === -1) return fail('unterminated raw quoted string');
        advance(end + 1 - pos);
        emit('rawString');
      } else if (c === "'") {
        advance();
        for (;;) {
          const ch = input[pos];
          if (ch === '\\' && input[pos + 1] !== undefined && input[pos + 1] !== '\n') advance(2);
          else if (ch === undefined || ch === '\n') return fail('unterminated character constant');
          else if (ch === "'") break;
          else advance();
        }
        advance();
        emit('char');
      } else if (c === '$') {
        advance();
        while (isAlnum(input[pos])) advance();
        if (!atTerminator()) return fail(`bad character ${quoteRune(input[pos]!)}`);
        emit('variable');
      } else if (c === '.') {
        const next = input[pos + 1];
        if (next !== undefined && next >= '0' && next <= '9') {
          if (!scanNumber()) return fail(`bad number syntax: "${input.slice(start, pos)}"`);
          emit('number');
        } else if (isAlnum(next)) {
          advance();
          while (isAlnum(input[pos])) advance();
          if (!atTerminator()) return fail(`bad character ${quoteRune(input[pos]!)}`);
          emit('field');
        } else {
          advance();
          emit('dot');
        }
      } else if (c === '+' || c === '-' || (c >= '0' && c <= '9')) {
        if (!scanNumber()) return fail(`bad number syntax: "${input.slice(start, pos)}"`);
        emit('number');
      } else if (isAlnum(c)) {
        while (isAlnum(input[pos])) advance();
        const word = input.slice(start, pos);
        if (!atTerminator()) return fail(`bad character ${quoteRune(input[pos]!)}`);
        if (KEYWORDS.has(word)) emit(word === 'nil' ? 'nil' : 'keyword');
        else if (word === 'true' || word === 'false') emit('bool');
        else emit('identifier');
      } else if (c === '(') {
        advance();
        parenDepth++;
        emit('leftParen');
      } else if (c === ')') {
        advance();
        parenDepth--;
        if (parenDepth < 0) return fail('unexpected right paren');
        emit('rightParen');
      } else if (c >= ' ' && c <= '~') {
        advance();
        emit('punct');
      } else {
        return fail(`unrecognized character in action: ${quoteRune(c)}`);
      }
    }
  }

  function skipSpace(): void {
    while (isSpace(input[pos])) advance();
    start = pos;
    startLine = line;
  }

  /** Go accepts what strconv accepts (signs, bases, '_', exponents, 'i'); berth the same shapes. */
  function scanNumber(): boolean {
    if (input[pos] === '+' || input[pos] === '-') advance();
    let digits = '0123456789_';
    if (input[pos] === '0' && /[xXoObB]/.test(input[pos + 1] ?? '')) {
      const base = input[pos + 1]!.toLowerCase();
      digits = base === 'x' ? '0123456789abcdefABCDEF_' : base === 'o' ? '01234567_' : '01_';
      advance(2);
    }
    while (digits.includes(input[pos] ?? '#')) advance();
    if (input[pos] === '.') {
      advance();
      while (digits.includes(input[pos] ?? '#')) advance();
    }
    if (digits.length === 11 && /[eE]/.test(input[pos] ?? '')) {
      advance();
      if (input[pos] === '+' || input[pos] === '-') advance();
      while ('0123456789_'.includes(input[pos] ?? '#')) advance();
    }
    if (input[pos] === 'i') advance();
    if (isAlnum(input[pos]) || input[pos] === '.' || ((input[pos] === '-' || input[pos] === '+') && /\d/.test(input.slice(start, pos)))) {
      advance();
      return false;
    }
    return true;
  }

  function atTerminator(): boolean {
    const c = input[pos];
    if (c === undefined || isSpace(c)) return true;
    if ('.,|:)('.includes(c)) return true;
    return input.startsWith('}}', pos);
  }
}

function count(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

/** Go's %#U-like rendering of a rune in lexer errors: `U+0023 '#'`. */
export function quoteRune(c: string): string {
  const cp = c.codePointAt(0)!;
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')} '${c}'`;
}
