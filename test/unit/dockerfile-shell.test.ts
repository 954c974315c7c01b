/** Word expansion against BuildKit's own vectors (envVarTest, wordsTest) plus our cases. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { processHeredoc, processWord, processWords, ShellError } from '../../src/dockerfile/shell.ts';
import { CORPUS_ABSENT, corpusDir } from '../helpers/corpus.ts';

const CORPUS = corpusDir('buildkit-shell');
const SKIP = CORPUS ? false : CORPUS_ABSENT;
const ENV = { PWD: '/home', SHELL: 'bash', KOREAN: '한국어', NULL: '' };

function expandOrError(fn: () => string | string[]): string | string[] {
  try {
    return fn();
  } catch {
    return 'error';
  }
}

describe('envVarTest (BuildKit vectors)', { skip: SKIP }, () => {
  if (!CORPUS) return;
  const lines = readFileSync(new URL('envVarTest', CORPUS), 'utf8').split('\n');
  let pass = 0;
  let total = 0;
  for (const line of lines) {
    if (!line.trim() || line.startsWith('#')) continue;
    const [platform, input, expected] = line.split('|').map((s) => s.trim());
    if (platform === 'W') continue;
    total++;
    it(`${input} → ${expected === '' ? '""' : expected}`, () => {
      assert.equal(
        expandOrError(() => processWord(input!, ENV)),
        expected,
      );
      pass++;
    });
  }
  it('reports the pass count', () => {
    console.log(`# envVarTest: ${pass}/${total} vectors pass`);
    assert.equal(pass, total);
  });
});

describe('wordsTest (BuildKit vectors)', { skip: SKIP }, () => {
  if (!CORPUS) return;
  const env: Record<string, string> = {};
  let pass = 0;
  let total = 0;
  for (const line of readFileSync(new URL('wordsTest', CORPUS), 'utf8').split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    if (line.startsWith('ENV ')) {
      const kv = line.slice(4);
      const i = kv.indexOf('=');
      env[kv.slice(0, i)] = kv.slice(i + 1);
      continue;
    }
    const i = line.indexOf('|');
    const input = line.slice(0, i).trim();
    const expected = line.slice(i + 1).replace(/^ +/, '');
    const snapshot = { ...env };
    total++;
    it(`${input} → ${expected}`, () => {
      const got = expandOrError(() => processWords(input, snapshot));
      assert.equal(Array.isArray(got) ? got.join(',') : got, expected);
      pass++;
    });
  }
  it('reports the pass count', () => {
    console.log(`# wordsTest: ${pass}/${total} vectors pass`);
    assert.equal(pass, total);
  });
});

describe('pattern modifiers and our own cases', () => {
  const env = { F: 'model.tar.gz', P: '/a/b/c', E: '' };
  const cases: Array<[string, string]> = [
    ['${F#*.}', 'tar.gz'],
    ['${F##*.}', 'gz'],
    ['${F%.*}', 'model.tar'],
    ['${F%%.*}', 'model'],
    ['${P/b/x}', '/a/x/c'],
    ['${P//[ab]/_}', '/_/_/c'],
    ['${F/nomatch/x}', 'model.tar.gz'],
    ['${E-def}', ''],
    ['${U-def}', 'def'],
    ['${E+alt}', 'alt'],
    ['${U+alt}', ''],
    ['${E:-def}', 'def'],
    ['pre-${F}-post', 'pre-model.tar.gz-post'],
    ['"${P}/x"', '/a/b/c/x'],
  ];
  for (const [input, want] of cases) it(`${input} → ${want}`, () => assert.equal(processWord(input, env), want));
  it('backtick escape', () => assert.equal(processWord('a`$F', env, '`'), 'a$F'));
});

describe('errors name the variable and the message', () => {
  const cases: Array<[string, RegExp]> = [
    ['${U:?must be set}', /U: must be set/],
    ['${U?}', /U: is not allowed to be unset/],
    ['${E:?}', /E: is not allowed to be empty/],
    ['${U', /missing '}'/],
    ['${:}', /bad substitution/],
    ["'open", /matching single-quote/],
  ];
  for (const [input, msg] of cases)
    it(input, () =>
      assert.throws(
        () => processWord(input, { E: '' }),
        (e) => e instanceof ShellError && msg.test(e.message),
      ),
    );
});

describe('heredoc bodies: variables expand, quotes stay', () => {
  const env = { X: '1', Y: 'a b' };
  const cases: Array<[string, string]> = [
    ['echo "$X" \'$Y\'\n', 'echo "1" \'a b\'\n'],
    ['\\$X and \\\\ and \\n\n', '$X and \\ and \\n\n'],
    ['${U:-def} ${X:+set}\n', 'def set\n'],
  ];
  for (const [input, want] of cases) it(JSON.stringify(input), () => assert.equal(processHeredoc(input, env), want));
});
