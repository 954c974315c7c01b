/** The .dockerignore matcher against moby/patternmatcher's own cases (corpus). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { IgnoreMatcher, parseIgnoreFile } from '../../src/dockerfile/dockerignore.ts';
import { CORPUS_ABSENT, corpusDir } from '../helpers/corpus.ts';

const dir = corpusDir('dockerignore');
const SKIP = dir ? false : CORPUS_ABSENT;
const corpus = (dir ? JSON.parse(readFileSync(new URL('cases.json', dir), 'utf8')) : { cases: [], ignorefile: [] }) as {
  cases: Array<{ patterns: string[]; path: string; excluded?: boolean; error?: boolean }>;
  ignorefile: Array<{ content: string; patterns: string[] }>;
};

describe('dockerignore corpus: matching', { skip: SKIP }, () => {
  let pass = 0;
  for (const c of corpus.cases) {
    it(`${JSON.stringify(c.patterns)} ${c.path} → ${c.error ? 'error' : c.excluded}`, () => {
      if (c.error) assert.throws(() => new IgnoreMatcher(c.patterns).matches(c.path));
      else assert.equal(new IgnoreMatcher(c.patterns).matches(c.path), c.excluded);
      pass++;
    });
  }
  it('reports the pass count', () => {
    console.log(`# dockerignore corpus: ${pass}/${corpus.cases.length} cases pass`);
    assert.equal(pass, corpus.cases.length);
    assert.ok(corpus.cases.length > 80);
  });
});

describe('dockerignore corpus: ignore files', { skip: SKIP }, () => {
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
    [['data', '!data/*/keep'], 'data/x', false],
    [['data', '!data/*/keep'], 'data', false],
    [['data', '!other/**'], 'data', true],
    [['data', '!**'], 'data', false],
    [['*', '!src'], 'models', true],
    [['*', '!src'], 'src', false],
    [['data', '!data'], 'data', false],
  ];
  for (const [patterns, dir, want] of cases)
    it(`${JSON.stringify(patterns)} ${dir} → ${want}`, () => assert.equal(new IgnoreMatcher(patterns).canSkipDir(dir), want));
  it('never skips a dir holding a file that matching re-includes', () => {
    const patterns = ['data', '!data/a/*.txt', 'models/**', '!models/keep/**'];
    const m = new IgnoreMatcher(patterns);
    const files = ['data/a/x.txt', 'data/b/y.bin', 'models/keep/w', 'models/drop/w'];
    for (const f of files.filter((f) => !m.matches(f))) {
      const parts = f.split('/');
      for (let i = 1; i < parts.length; i++)
        assert.equal(m.canSkipDir(parts.slice(0, i).join('/')), false, `${f} is kept, so ${parts.slice(0, i).join('/')} must be walked`);
    }
    assert.equal(m.canSkipDir('models/drop'), true);
  });
});
