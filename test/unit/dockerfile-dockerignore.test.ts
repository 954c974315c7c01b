/** The .dockerignore matcher against moby/patternmatcher's own cases (corpus). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { IgnoreMatcher, parseIgnoreFile } from '../../src/dockerfile/dockerignore.ts';

const corpus = JSON.parse(readFileSync(new URL('../../../shared/corpus/dockerignore/cases.json', import.meta.url), 'utf8')) as {
  cases: Array<{ patterns: string[]; path: string; excluded?: boolean; error?: boolean }>;
  ignorefile: Array<{ content: string; patterns: string[] }>;
};

describe('dockerignore corpus: matching', () => {
  for (const c of corpus.cases) {
    it(`${JSON.stringify(c.patterns)} ${c.path} → ${c.error ? 'error' : c.excluded}`, () => {
      if (c.error) {
        assert.throws(() => new IgnoreMatcher(c.patterns).matches(c.path));
        return;
      }
      assert.equal(new IgnoreMatcher(c.patterns).matches(c.path), c.excluded);
    });
  }
  it(`reports the count (${corpus.cases.length} cases)`, () => {
    console.log(`# dockerignore corpus: ${corpus.cases.length} cases`);
    assert.ok(corpus.cases.length > 80);
  });
});

describe('dockerignore corpus: ignore files', () => {
  for (const f of corpus.ignorefile) it(JSON.stringify(f.content), () => assert.deepEqual(parseIgnoreFile(f.content), f.patterns));
});

describe('canSkipDir', () => {
  const cases: Array<[string[], string, boolean]> = [
    [['data'], 'data', true],
    [['data', '!data/keep.txt'], 'data', false],
    [['data', '!**/*.txt'], 'data', false],
    [['data', '!src'], 'data', true],
    [['*.ckpt'], 'data', false],
    [['**/__pycache__'], 'a/__pycache__', true],
  ];
  for (const [patterns, dir, want] of cases) it(`${JSON.stringify(patterns)} ${dir} → ${want}`, () => assert.equal(new IgnoreMatcher(patterns).canSkipDir(dir), want));
});
