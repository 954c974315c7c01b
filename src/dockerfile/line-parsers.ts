/**
 * Per-instruction argument parsers, following BuildKit's dispatch table: which
 * instructions take JSON-or-shell form, whitespace-separated words, key=value pairs, a
 * single string, a sub-instruction (ONBUILD) or a health check.
 */
import { BerthError } from '../errors/index.ts';

export interface Parsed {
  readonly next: string[];
  readonly json: boolean;
  readonly sub?: string; // ONBUILD's inner line
}

type LineParser = (rest: string, escape: string) => Parsed;

const WS = /[\t\v\f\r ]+/;
const isSpace = (c: string) => /\s/.test(c);

export class NotStringArray extends Error {}

/** Finds the end of the first JSON value (as Go's json.Decoder reads one value and stops). */
function firstJsonValue(s: string): string | undefined {
  let depth = 0;
  let inStr = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (inStr) {
      if (c === '\\') i++;
      else if (c === '"') inStr = false;
      continue;
    }
    if (c === '"') inStr = true;
    else if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') {
      depth--;
      if (depth === 0) return s.slice(0, i + 1);
    }
  }
  return undefined;
}

export function parseJson(rest: string): Parsed | undefined {
  const t = rest.replace(/^\s+/, '');
  if (!t.startsWith('[')) return undefined;
  const first = firstJsonValue(t);
  if (first === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(first);
  } catch {
    return undefined;
  }
  if (!Array.isArray(v)) return undefined;
  if (!v.every((x) => typeof x === 'string')) throw new NotStringArray('dockerfile: JSON arrays must contain only strings');
  return { next: v as string[], json: true };
}

/** BuildKit's parseWords: splits on unquoted whitespace, keeping quotes and escapes as written. */
export function parseWords(rest: string, escape: string): string[] {
  const words: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let word = '';
  let quote = '';
  let blankOK = false;
  const chars = [...rest];
  for (let pos = 0; pos <= chars.length; pos++) {
    const ch = chars[pos] ?? '';
    const end = pos === chars.length;
    if (phase === 'spaces') {
      if (end) break;
      if (isSpace(ch)) continue;
      phase = 'word';
    }
    if ((phase === 'word' || phase === 'quote') && end) {
      if (blankOK || word.length > 0) words.push(word);
      break;
    }
    if (phase === 'word') {
      if (isSpace(ch)) {
        phase = 'spaces';
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
      }
      if (ch === escape) {
        if (pos + 1 === chars.length) continue;
        word += ch;
        pos++;
        word += chars[pos]!;
        continue;
      }
      word += ch;
      continue;
    }
    // in a quote
    if (ch === quote) phase = 'word';
    if (ch === escape && quote !== "'") {
      if (pos + 1 === chars.length) {
        phase = 'word';
        continue;
      }
      word += ch;
      pos++;
      word += chars[pos]!;
      continue;
    }
    word += ch;
  }
  return words;
}

function nameVal(key: string): LineParser {
  return (rest, escape) => {
    const words = parseWords(rest, escape);
    if (words.length === 0) throw new BerthError('SYNTAX', `${key} requires at least one argument`);
    if (!words[0]!.includes('=')) {
      const parts = rest.split(WS);
      const m = /^(\S+)[\t\v\f\r ]+([\s\S]*)$/.exec(rest);
      if (!m || parts.length < 2) throw new BerthError('SYNTAX', `${key} must have two arguments`);
      return { next: [m[1]!, m[2]!, ''], json: false };
    }
    const next: string[] = [];
    for (const w of words) {
      const i = w.indexOf('=');
      if (i < 0) throw new BerthError('SYNTAX', `Syntax error - can't find = in "${w}". Must be of the form: name=value`);
      next.push(w.slice(0, i), w.slice(i + 1), '=');
    }
    return { next, json: false };
  };
}

const words: LineParser = (rest) => ({ next: rest === '' ? [] : rest.split(WS), json: false });
const single: LineParser = (rest) => ({ next: rest === '' ? [] : [rest], json: false });
const maybeJson: LineParser = (rest) => (rest === '' ? { next: [], json: false } : (parseJson(rest) ?? { next: [rest], json: false }));
const maybeJsonToList: LineParser = (rest, escape) => parseJson(rest) ?? words(rest, escape);
const nameOrNameVal: LineParser = (rest, escape) => ({ next: parseWords(rest, escape), json: false });
const subCommand: LineParser = (rest) => ({ next: [], json: false, sub: rest === '' ? undefined : rest });

const health: LineParser = (rest, escape) => {
  const m = /^(\S+)\s*([\s\S]*)$/.exec(rest);
  if (!m) return { next: [], json: false };
  const cmd = maybeJson(m[2]!, escape);
  return { next: [m[1]!, ...cmd.next], json: cmd.json };
};

export const DISPATCH: Readonly<Record<string, LineParser>> = {
  add: maybeJsonToList,
  arg: nameOrNameVal,
  cmd: maybeJson,
  copy: maybeJsonToList,
  entrypoint: maybeJson,
  env: nameVal('ENV'),
  expose: words,
  from: words,
  healthcheck: health,
  label: nameVal('LABEL'),
  maintainer: single,
  onbuild: subCommand,
  run: maybeJson,
  shell: maybeJson,
  stopsignal: single,
  user: single,
  volume: maybeJsonToList,
  workdir: single,
};

export const INSTRUCTIONS = Object.keys(DISPATCH);

/** BuildKit's extractBuilderFlags: leading `--name[=value]` words, up to a lone `--`. */
export function extractFlags(line: string): { rest: string; flags: string[] } {
  const flags: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let word = '';
  let quote = '';
  let blankOK = false;
  for (let pos = 0; pos <= line.length; pos++) {
    const ch = line[pos] ?? '';
    if (phase === 'spaces') {
      if (pos === line.length) break;
      if (isSpace(ch)) continue;
      if (ch !== '-' || pos + 1 === line.length || line[pos + 1] !== '-') return { rest: line.slice(pos), flags };
      phase = 'word';
    }
    if ((phase === 'word' || phase === 'quote') && pos === line.length) {
      if (word !== '--' && (blankOK || word.length > 0)) flags.push(word);
      break;
    }
    if (phase === 'word') {
      if (isSpace(ch)) {
        phase = 'spaces';
        if (word === '--') return { rest: line.slice(pos), flags };
        if (blankOK || word.length > 0) flags.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
        continue;
      }
      if (ch === '\\') {
        if (pos + 1 === line.length) continue;
        pos++;
        word += line[pos]!;
        continue;
      }
      word += ch;
      continue;
    }
    if (ch === quote) {
      phase = 'word';
      continue;
    }
    if (ch === '\\') {
      if (pos + 1 === line.length) {
        phase = 'word';
        continue;
      }
      pos++;
      word += line[pos]!;
      continue;
    }
    word += ch;
  }
  return { rest: '', flags };
}
