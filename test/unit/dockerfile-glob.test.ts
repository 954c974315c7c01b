/** The one glob converter: COPY source paths and shell patterns (table-driven). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileGlob, pathGlob } from '../../src/dockerfile/glob.ts';

describe('pathGlob (COPY sources)', () => {
  const cases: Array<[string, string, boolean]> = [
    ['*.txt', 'a.txt', true],
    ['*.txt', 'dir/a.txt', false],
    ['dir/*.py', 'dir/app.py', true],
    ['?.md', 'a.md', true],
    ['?.md', 'ab.md', false],
    ['[abc].c', 'b.c', true],
    ['[!abc].c', 'b.c', false],
    ['[!abc].c', 'd.c', true],
    ['[]x].c', '].c', true],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'axb', false],
    ['file.(1)+', 'file.(1)+', true],
    ['[unclosed', '[unclosed', true],
  ];
  for (const [glob, path, want] of cases) {
    it(`${glob} ${want ? 'matches' : 'does not match'} ${path}`, () => assert.equal(pathGlob(glob).test(path), want));
  }
});

describe('compileGlob (shell patterns)', () => {
  const cases: Array<[string, string, boolean]> = [
    ['*', 'a/b', true],
    ['a?c', 'a/c', true],
    ['*.tar.gz', 'x/y.tar.gz', true],
    ['[/]', '/', true],
    ['\\[x', '[x', true],
  ];
  for (const [glob, text, want] of cases) {
    it(`${glob} ${want ? 'matches' : 'does not match'} ${text}`, () => assert.equal(compileGlob(glob, { paths: false }).test(text), want));
  }
});
