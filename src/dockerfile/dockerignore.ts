/**
 * `.dockerignore` with Docker's semantics (moby/patternmatcher): patterns are cleaned
 * paths; `*` and `?` never cross `/`, `**` crosses any number of dirs; a `!` pattern
 * re-includes; the last matching pattern wins; a pattern that matches a parent dir
 * matches everything below it.
 */
import { BerthError } from '../errors/index.ts';
import { compileGlob, type Glob } from './glob.ts';

/** Go's path.Clean for slash paths. */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length && out.at(-1) !== '..') out.pop();
      else if (!rooted) out.push('..');
    } else out.push(part);
  }
  const s = out.join('/');
  return rooted ? `/${s}` : s || '.';
}

/** Go's path.Dir: everything but the last element, cleaned. */
function goDir(p: string): string {
  const i = p.lastIndexOf('/');
  return cleanPath(i < 0 ? '.' : p.slice(0, i + 1));
}

const MAX_PATTERN = 4096;

interface Pattern {
  readonly text: string;
  readonly exclusion: boolean;
  readonly re: Glob;
  readonly dirs: readonly string[];
}

/** `*` and `?` within a path component, `**` across dirs (glob.ts: matched without backtracking). */
function compile(pattern: string): Glob {
  return compileGlob(pattern, { paths: true, doubleStar: true });
}

export class IgnoreMatcher {
  private readonly patterns: Pattern[] = [];
  readonly hasExclusions: boolean;

  constructor(patterns: readonly string[]) {
    for (const raw of patterns) {
      let p = raw.trim();
      if (p === '') continue;
      p = cleanPath(p);
      let exclusion = false;
      if (p.startsWith('!')) {
        if (p.length === 1)
          throw new BerthError('INVALID_ARGUMENT', 'illegal exclusion pattern: "!"', { hint: 'a lone ! in .dockerignore excludes nothing; remove it' });
        exclusion = true;
        p = p.slice(1);
      }
      // No path is longer than PATH_MAX; a longer line is not a pattern but a way to make
      // every match of a context walk cost (line length × path length).
      if (p.length > MAX_PATTERN)
        throw new BerthError('INVALID_ARGUMENT', `a .dockerignore pattern of ${p.length} characters is longer than any path (${MAX_PATTERN})`);
      const unescaped = p.replace(/\\./g, '');
      if (unescaped.lastIndexOf('[') > unescaped.lastIndexOf(']')) throw new BerthError('INVALID_ARGUMENT', `syntax error in .dockerignore pattern "${p}"`);
      this.patterns.push({ text: p, exclusion, re: compile(p), dirs: p.split('/') });
    }
    this.hasExclusions = this.patterns.some((p) => p.exclusion);
  }

  /** Whether `path` (slash-separated, relative to the context) is left out of the context. */
  matches(path: string): boolean {
    if (!this.patterns.length) return false; // no .dockerignore: the common case, on every path of a walk
    const parent = goDir(path);
    const parentDirs = parent.split('/');
    let matched = false;
    const clean = cleanPath(path) === path;
    for (const p of this.patterns) {
      if (p.exclusion !== matched) continue;
      // A clean path's parents are its prefixes before each `/`: one pass tries them all.
      if (clean) {
        if (p.re.testPathOrParent(path)) matched = !p.exclusion;
        continue;
      }
      let m = p.re.test(path);
      if (!m && parent !== '.') {
        for (let i = 0; i < parentDirs.length && !m; i++) m = p.re.test(parentDirs.slice(0, i + 1).join('/'));
      }
      if (m) matched = !p.exclusion;
    }
    return matched;
  }

  /**
   * True when `dir` is excluded and no `!` pattern could re-include anything below it, so
   * a context walk may skip the whole tree (the datasets-in-the-folder case).
   */
  canSkipDir(dir: string): boolean {
    if (!this.matches(dir)) return false;
    const parts = dir.split('/');
    for (const p of this.patterns) {
      if (!p.exclusion) continue;
      const n = Math.min(parts.length, p.dirs.length);
      if (p.dirs.slice(0, n).some((d) => d.includes('**'))) return false;
      const prefix = compile(p.dirs.slice(0, n).join('/'));
      if (prefix.test(parts.slice(0, n).join('/'))) return false;
    }
    return true;
  }
}

/** The lines of a .dockerignore file as patterns: comments and blanks dropped, leading `/` removed. */
export function parseIgnoreFile(content: string): string[] {
  const out: string[] = [];
  for (const [i, rawLine] of content.split('\n').entries()) {
    let line = i === 0 ? rawLine.replace(/^\uFEFF/, '') : rawLine;
    if (line.startsWith('#')) continue;
    line = line.trim();
    if (line === '') continue;
    const invert = line.startsWith('!');
    if (invert) line = line.slice(1).trim();
    if (line.length > 0) {
      line = cleanPath(line);
      if (line.length > 1 && line.startsWith('/')) line = line.slice(1);
    }
    out.push(invert ? `!${line}` : line);
  }
  return out;
}
