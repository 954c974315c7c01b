/** The parser against BuildKit's own test files, the ML corpus, error cases and a fuzz run. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { BerthError } from '../../src/errors/index.ts';
import { dump, loadDockerfile, parseDockerfile, resolveBuild } from '../../src/dockerfile/index.ts';
import { CORPUS_ABSENT, corpusDir } from '../helpers/corpus.ts';

const PARSER = corpusDir('buildkit-parser');
const ML = corpusDir('ml-dockerfiles');
const SKIP = PARSER && ML ? false : CORPUS_ABSENT;
const norm = (s: string) =>
  s
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
    .trim();

// Cases we cannot match, with the reason: none at the moment.
const KNOWN_DIFFERENCES: Record<string, string> = {};

describe('BuildKit parser corpus: testfiles dump exactly to result', { skip: SKIP }, () => {
  if (!PARSER) return;
  const names = readdirSync(new URL('testfiles/', PARSER));
  let pass = 0;
  for (const name of names) {
    it(name, { todo: KNOWN_DIFFERENCES[name] }, () => {
      const src = readFileSync(new URL(`testfiles/${name}/Dockerfile`, PARSER), 'utf8');
      const want = readFileSync(new URL(`testfiles/${name}/result`, PARSER), 'utf8');
      assert.equal(norm(dump(parseDockerfile(src, name))), norm(want));
      pass++;
    });
  }
  it('reports the pass count', () => {
    console.log(`# buildkit parser corpus: ${pass}/${names.length} dumps match`);
    assert.equal(pass, names.length);
  });
});

describe('BuildKit parser corpus: negative cases are rejected', { skip: SKIP }, () => {
  if (!PARSER) return;
  for (const name of readdirSync(new URL('testfiles-negative/', PARSER))) {
    it(name, () => {
      const src = readFileSync(new URL(`testfiles-negative/${name}/Dockerfile`, PARSER), 'utf8');
      assert.throws(
        () => parseDockerfile(src, name),
        (e) => e instanceof BerthError && e.code === 'SYNTAX' && e.position !== undefined,
      );
    });
  }
});

describe('line numbers survive continuations, comments and blank lines', () => {
  it('testfile-line', { skip: SKIP }, () => {
    if (!PARSER) return;
    const r = parseDockerfile(readFileSync(new URL('testfile-line/Dockerfile', PARSER), 'utf8'));
    assert.deepEqual(
      r.children.map((c) => [c.startLine, c.endLine]),
      [
        [5, 5],
        [11, 12],
        [17, 31],
      ],
    );
  });
  it('heredocs extend the instruction to the terminator', () => {
    const r = parseDockerfile('FROM x\nRUN <<EOF\necho a\necho b\nEOF\nRUN <<-A cat && cat <<"B"\n\tone\n\tA\ntwo $X\nB\n');
    assert.deepEqual(
      r.children.map((c) => [c.value, c.startLine, c.endLine]),
      [
        ['from', 1, 1],
        ['run', 2, 5],
        ['run', 6, 10],
      ],
    );
    assert.equal(r.children[1]!.heredocs[0]!.content, 'echo a\necho b\n');
    assert.deepEqual(
      r.children[2]!.heredocs.map((h) => [h.name, h.chomp, h.expand, h.content]),
      [
        ['A', true, true, '\tone\n'],
        ['B', false, false, 'two $X\n'],
      ],
    );
  });
});

describe('heredocs', () => {
  const cases: Array<[string, string, Array<[string, boolean, boolean, string]>]> = [
    ['quoted <<EOF is an argument, not a heredoc', 'FROM x\nRUN echo "a <<EOF"\n', []],
    [
      'several on one line, quoted delimiters',
      "FROM x\nRUN cat <<A <<'B'\n1\nA\n$2\nB\n",
      [
        ['A', false, true, '1\n'],
        ['B', false, false, '$2\n'],
      ],
    ],
    [
      'COPY with <<-, redirect right after the name',
      'FROM x\nCOPY <<-EOF /a\n\tx\n\tEOF\nRUN cat <<EOF>out\ny\nEOF\n',
      [
        ['EOF', true, true, '\tx\n'],
        ['EOF', false, true, 'y\n'],
      ],
    ],
    ['not in exec form', 'FROM x\nRUN ["cat", "<<EOF"]\n', []],
  ];
  for (const [name, src, want] of cases) {
    it(name, () => {
      const hs = parseDockerfile(src).children.flatMap((c) => c.heredocs.map((h) => [h.name, h.chomp, h.expand, h.content]));
      assert.deepEqual(hs, want);
    });
  }
});

describe('directives, continuations and forms', () => {
  it('directives only at the top; the last escape wins for the file', () => {
    const r = parseDockerfile('# syntax=docker/dockerfile:1\n#check=skip=all\n# escape=`\nFROM a\n# escape=\\\nRUN echo `\n  hi\n');
    assert.deepEqual(
      r.directives.map((d) => [d.name, d.value, d.line]),
      [
        ['syntax', 'docker/dockerfile:1', 1],
        ['check', 'skip=all', 2],
        ['escape', '`', 3],
      ],
    );
    assert.equal(dump(r), '(from "a")\n(run "echo   hi")\n');
  });
  it('a comment or blank line ends the directives', () => {
    assert.equal(parseDockerfile('# hello\n# escape=`\nFROM a\n').escape, '\\');
    assert.equal(parseDockerfile('\n# escape=`\nFROM a\n').escape, '\\');
  });
  it('comments and blank lines inside a continuation are skipped', () => {
    const r = parseDockerfile('FROM a\nRUN a \\\n# note\n\n  && b\n');
    assert.deepEqual([r.children[1]!.next, r.children[1]!.startLine, r.children[1]!.endLine], [['a   && b'], 2, 5]);
    assert.equal(r.warnings.length, 1);
  });
  it('ENV legacy and = forms, flags, ONBUILD', () => {
    const src =
      'FROM --platform=$BUILDPLATFORM a AS b\nENV A b c\nENV x=1 y="2 3"\nCOPY --from=b --chown=1:1 --link --parents --exclude=*.md --exclude=*.txt a b\nRUN --mount=type=cache,target=/c --mount=type=secret,id=s --network=none --security=insecure make\nADD --checksum=sha256:00 --keep-git-dir=true https://x/y /z\nHEALTHCHECK --start-period=3s CMD ["true"]\nONBUILD RUN echo hi\n';
    assert.equal(
      dump(parseDockerfile(src)),
      [
        '(from ["--platform=$BUILDPLATFORM"] "a" "AS" "b")',
        '(env "A" "b c" "")',
        '(env "x" "1" "=" "y" "\\"2 3\\"" "=")',
        '(copy ["--from=b" "--chown=1:1" "--link" "--parents" "--exclude=*.md" "--exclude=*.txt"] "a" "b")',
        '(run ["--mount=type=cache,target=/c" "--mount=type=secret,id=s" "--network=none" "--security=insecure"] "make")',
        '(add ["--checksum=sha256:00" "--keep-git-dir=true"] "https://x/y" "/z")',
        '(healthcheck ["--start-period=3s"] "CMD" "true")',
        '(onbuild (run "echo hi"))',
        '',
      ].join('\n'),
    );
    const df = loadDockerfile(src);
    const copy = df.stages[0]!.instructions[2]!;
    assert.ok(copy.kind === 'copy');
    assert.deepEqual(copy.flags, { from: ['b'], chown: ['1:1'], link: ['true'], parents: ['true'], exclude: ['*.md', '*.txt'] });
  });
});

describe('every ML corpus file parses and types', { skip: SKIP }, () => {
  if (!ML) return;
  const files = readdirSync(ML).filter((f) => f.endsWith('Dockerfile'));
  for (const f of files) it(f, () => assert.ok(dump(loadDockerfile(readFileSync(new URL(f, ML), 'utf8'), f).parsed).length > 0));
});

describe('errors carry file:line:col and a hint', () => {
  const cases: Array<[string, string, RegExp, number]> = [
    ['unknown instruction', 'FROM a\nRUNN echo\n', /unknown instruction: RUNN \(did you mean RUN\?\)/, 2],
    ['unterminated heredoc', 'FROM a\nRUN <<EOF\necho\n', /unterminated heredoc/, 2],
    ['unknown flag', 'FROM a\nCOPY --form=b x y\n', /unknown flag: --form/, 2],
    ['missing FROM', 'RUN echo\n', /no build stage in current context/, 1],
    ['no instructions', '# only a comment\n', /file with no instructions/, 1],
    ['nested JSON', 'FROM a\nCMD ["a", ["b"]]\n', /JSON arrays must contain only strings/, 2],
    ['ENV without value', 'FROM a\nENV PATH\n', /ENV must have two arguments/, 2],
    ['bad healthcheck', 'FROM a\nHEALTHCHECK FOO x\n', /unknown type for healthcheck/, 2],
    ['FROM with two args', 'FROM a b\n', /either one or three arguments/, 1],
    ['duplicate stage', 'FROM a AS x\nFROM b AS x\n', /duplicate stage name/, 2],
    ['SHELL needs JSON', 'FROM a\nSHELL /bin/bash -c\n', /SHELL requires the arguments to be in JSON form/, 2],
    ['only ARGs, no FROM', 'ARG a=1\n', /no FROM instruction/, 1],
    ['instruction before FROM', 'ARG a=1\nENV b=2\nFROM x\n', /no build stage in current context/, 2],
    ['unknown flag for RUN', 'FROM a\nRUN --mnt=x echo\n', /unknown flag: --mnt/, 2],
    ['ONBUILD with a bad trigger', 'FROM a\nONBUILD RUN --from=x echo\n', /unknown flag: --from/, 2],
    ['ONBUILD ONBUILD', 'FROM a\nONBUILD ONBUILD RUN x\n', /Chaining ONBUILD/, 2],
    ['duplicate escape directive', '# escape=`\n# escape=\\\nFROM a\n', /only one escape parser directive/, 2],
    ['bad escape directive', '# escape=x\nFROM a\n', /invalid escape token/, 1],
  ];
  it('column points at the flag', () => {
    assert.throws(
      () => loadDockerfile('FROM a\nCOPY --chown=1 --form=b x y\n'),
      (e) => e instanceof BerthError && e.position?.column === 16 && e.position.lineText === 'COPY --chown=1 --form=b x y',
    );
  });
  for (const [name, src, msg, line] of cases) {
    it(name, () => {
      assert.throws(
        () => loadDockerfile(src, 'Dockerfile'),
        (e) => {
          assert.ok(e instanceof BerthError && e.code === 'SYNTAX');
          assert.match(e.message, msg);
          assert.equal(e.position?.line, line);
          assert.equal(e.position?.file, 'Dockerfile');
          return true;
        },
      );
    });
  }
});

describe('fuzz: mutated corpus files only ever fail with a positioned BerthError', { skip: SKIP }, () => {
  it('20k mutations through parse, type, dump and resolve', () => {
    if (!PARSER || !ML) return;
    const t0 = Date.now();
    const sources = [
      ...readdirSync(ML)
        .filter((f) => f.endsWith('Dockerfile'))
        .map((f) => readFileSync(new URL(f, ML), 'utf8')),
      ...readdirSync(new URL('testfiles/', PARSER)).map((n) => readFileSync(new URL(`testfiles/${n}/Dockerfile`, PARSER), 'utf8')),
    ];
    let seed = 0x5eed;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const alphabet = [
      '\\',
      '`',
      '"',
      "'",
      '[',
      ']',
      '{',
      '}',
      '$',
      '<<',
      '<<-EOF',
      'EOF',
      '\n',
      ' ',
      '#',
      '--',
      '=',
      'ONBUILD ',
      'FROM ',
      'RUN ',
      '\t',
      '\u00e9',
    ];
    let inputs = 0;
    let failures = 0;
    for (let i = 0; i < 20_000; i++) {
      let s = sources[rand(sources.length)]!;
      const edits = 1 + rand(4);
      for (let k = 0; k < edits; k++) {
        const pos = rand(s.length + 1);
        const op = rand(3);
        if (op === 0) s = s.slice(0, pos) + alphabet[rand(alphabet.length)] + s.slice(pos);
        else if (op === 1) s = s.slice(0, pos) + s.slice(pos + 1 + rand(8));
        else s = s.slice(0, pos) + s.slice(rand(s.length + 1));
      }
      inputs++;
      try {
        const df = loadDockerfile(s, 'fuzz');
        dump(df.parsed);
        resolveBuild(df, { buildPlatform: { os: 'linux', architecture: 'amd64' } });
      } catch (e) {
        failures++;
        if (!(e instanceof BerthError) || !e.position) throw new Error(`non-BerthError for input ${JSON.stringify(s.slice(0, 200))}: ${String(e)}`);
      }
    }
    console.log(`# fuzz: ${inputs} inputs, ${failures} rejected cleanly, ${Date.now() - t0} ms`);
    assert.equal(inputs, 20_000);
  });
});
