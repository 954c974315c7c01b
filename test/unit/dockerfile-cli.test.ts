/** `berth dockerfile parse`: the function the verb calls over the ML corpus, and the verb itself once. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { dump, parseDockerfile } from '../../src/dockerfile/index.ts';
import { CORPUS_ABSENT, corpusDir } from '../helpers/corpus.ts';

const ML = corpusDir('ml-dockerfiles');
const SKIP = ML ? false : CORPUS_ABSENT;
const BERTH = fileURLToPath(new URL('../../bin/berth', import.meta.url));
const files = ML ? readdirSync(ML).filter((f) => f.endsWith('Dockerfile')) : [];

describe('every ML corpus file dumps', { skip: SKIP }, () => {
  let dumped = 0;
  for (const f of files) {
    it(f, () => {
      const src = readFileSync(new URL(f, ML), 'utf8');
      const r = parseDockerfile(src, f);
      const lines = dump(r).trimEnd().split('\n');
      assert.equal(lines.length, r.children.length);
      assert.ok(
        lines.every((l) => /^\([a-z]+( |\)$)/.test(l) && l.endsWith(')')),
        'every line is an S-expression',
      );
      dumped++;
    });
  }
  it('reports the count', () => {
    console.log(`# ML corpus: ${dumped}/${files.length} files dump`);
    assert.equal(dumped, files.length);
  });
});

describe('berth dockerfile parse (spawned)', () => {
  it('prints the same dump as the function', { skip: SKIP }, () => {
    const f = files.find((x) => x.startsWith('ollama'))!;
    const path = fileURLToPath(new URL(f, ML));
    const r = spawnSync(BERTH, ['dockerfile', 'parse', path], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trimEnd(), dump(parseDockerfile(readFileSync(path, 'utf8'), f)).trimEnd());
  });
  it('reads stdin with -', () => {
    const r = spawnSync(BERTH, ['dockerfile', 'parse', '-'], { input: 'FROM a\nENV x=1 y="2 3"\n', encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '(from "a")\n(env "x" "1" "=" "y" "\\"2 3\\"" "=")\n');
  });
  it('a syntax error prints file:line:col, the line and a caret, and exits 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-df-'));
    const path = join(dir, 'Dockerfile');
    writeFileSync(path, 'FROM a\nRUN <<EOF\necho hi\n');
    const r = spawnSync(BERTH, ['dockerfile', 'parse', path], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`${path}:2:1: unterminated heredoc`));
    assert.match(r.stderr, /\n {2}RUN <<EOF\n {2}\^\n/);
  });
});
