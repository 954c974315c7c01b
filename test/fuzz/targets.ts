/**
 * The text fuzz targets. Each turns a mutated seed into calls on berth's parsers and says
 * what a good outcome is: success, or a BerthError with a code (a Dockerfile's also with a
 * position inside the file). Anything else thrown — TypeError, RangeError, SyntaxError from
 * a RegExp, a stack overflow — and any broken invariant (`Violation`) is a finding.
 */
import { isDeepStrictEqual } from 'node:util';
import { BerthError } from '../../src/errors/index.ts';
import {
  cleanPath,
  dump,
  IgnoreMatcher,
  parseDockerfile,
  parseIgnoreFile,
  pathGlob,
  processHeredoc,
  processWord,
  processWords,
  resolveBuild,
  ShellError,
  toDockerfile,
} from '../../src/dockerfile/index.ts';
import { lint } from '../../src/lint/index.ts';
import { familiarName, formatReference, parseReference } from '../../src/reference/index.ts';
import { mutateText, type Rng } from './mutate.ts';
import { textSeeds } from './seeds.ts';

/** A broken invariant: the call returned, but with something it must never return. */
export class Violation extends Error {
  override name = 'Violation';
}

export type FuzzInput = string | Buffer;

export interface Target<I extends FuzzInput = FuzzInput> {
  readonly name: string;
  generate(rng: Rng): I;
  /** Runs one case; returns the outcome's label ('ok' or an error code). Throws what is a finding. */
  run(input: I): Promise<string> | string;
  /** The label of an expected error, or undefined when `e` is a finding. */
  expected(e: unknown, input: I): string | undefined;
}

function berthCode(e: unknown): string | undefined {
  return e instanceof BerthError && e.code ? e.code : undefined;
}

const DOCKERFILE_TOKENS = [
  'FROM ',
  'RUN ',
  'COPY ',
  'ADD ',
  'ENV ',
  'ARG ',
  'LABEL ',
  'ONBUILD ',
  'HEALTHCHECK ',
  'SHELL ',
  'CMD ',
  'ENTRYPOINT ',
  'EXPOSE ',
  'VOLUME ',
  'USER ',
  'WORKDIR ',
  'STOPSIGNAL ',
  'MAINTAINER ',
  ' AS ',
  ' as stage',
  'scratch',
  '# escape=`\n',
  '# escape=\\\n',
  '# syntax=docker/dockerfile:1\n',
  '# check=skip=all\n',
  '# berth-ignore\n',
  '<<EOF',
  '<<-EOF',
  "<<'EOF'",
  '<<"EOF"',
  '\nEOF\n',
  '\n\tEOF\n',
  '<<EOF <<EOT',
  '--from=',
  '--from=0 ',
  '--mount=type=cache,target=/x,from=',
  '--mount=from=stage ',
  '--chown=',
  '--chmod=',
  '--platform=$BUILDPLATFORM ',
  '--link ',
  '--link=maybe ',
  '--exclude=',
  '--parents ',
  '--checksum=',
  '--interval=',
  '--network=none ',
  '--unknown ',
  '--=',
  '-- ',
  '${A:-',
  '${A:+',
  '${A:?',
  '${A?',
  '${A#',
  '${A##',
  '${A%',
  '${A%%',
  '${A/',
  '${A//',
  '${TARGETARCH}',
  '$BUILDPLATFORM',
  'A=b ',
  '=',
  '["',
  '", "',
  '[1, 2]',
  '{"a": 1}',
  '[[[[["a"]]]]]',
  'NONE',
  'CMD',
  '\\\n',
  '\\\n\n',
  '\\\n# c\n',
  '`\n',
  '[a-',
  '[z-a]',
  '[]',
  '[!',
  '\\',
];

function lineCount(text: string): number {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines.length && lines.at(-1) === '') lines.pop();
  return Math.max(1, lines.length);
}

/** Parser, instruction model, stage resolution (with word expansion) and lint. */
export const dockerfileTarget: Target<string> = {
  name: 'dockerfile',
  generate(rng) {
    const seeds = textSeeds().dockerfiles;
    return mutateText(rng, rng.pick(seeds), { tokens: DOCKERFILE_TOKENS, corpus: seeds });
  },
  async run(text) {
    const parsed = parseDockerfile(text, 'Dockerfile');
    dump(parsed);
    const df = toDockerfile(parsed);
    const platform = { os: 'linux', architecture: 'arm', variant: 'v7' };
    resolveBuild(df, {
      buildArgs: { A: 'a/b.c', TAG: '1.2', UNUSED: 'x' },
      targetPlatform: platform,
      imageEnv: () => ['PATH=/usr/bin', 'HOME=/root', 'EMPTY='],
    });
    if (df.stages.length > 1) resolveBuild(df, { target: '0' });
    await lint({ file: 'Dockerfile', dockerfile: df });
    return 'ok';
  },
  expected(e, text) {
    if (!(e instanceof BerthError)) return undefined;
    const p = e.position;
    // A wrong target is the caller's, not the file's; everything else points into the file.
    if (e.code === 'NOT_FOUND' && /target stage/.test(e.message)) return e.code;
    if (!p || !Number.isInteger(p.line) || p.line < 1 || p.line > lineCount(text) || !(p.column >= 1)) return undefined;
    return e.code;
  },
};

const IGNORE_TOKENS = [
  '**',
  '**/',
  '/**',
  '*',
  '?',
  '[a-c]',
  '[!a]',
  '[^a]',
  '[z-a]',
  '[',
  ']',
  '\\',
  '\\*',
  '!',
  '!!',
  '#',
  '/',
  '../',
  './',
  '.',
  '\n!',
  '\n',
  ' ',
  '{a,b}',
  '(',
  ')',
  '|',
  '+',
  '$',
  '^',
];

/** A pattern made concrete: a path it should match (globs filled in with plain letters). */
function concrete(pattern: string): string {
  return pattern
    .replace(/^!/, '')
    .replace(/\*\*/g, 'x/y')
    .replace(/\*/g, 'x')
    .replace(/\?/g, 'q')
    .replace(/\[!?\^?(.)[^\]]*\]/g, '$1')
    .replace(/\\(.)/g, '$1');
}

/** The .dockerignore parser and matcher, and COPY's source globs. */
export const dockerignoreTarget: Target<string> = {
  name: 'dockerignore',
  generate(rng) {
    const seeds = textSeeds().ignores;
    return mutateText(rng, rng.pick(seeds), { tokens: IGNORE_TOKENS, corpus: seeds });
  },
  run(text) {
    const patterns = parseIgnoreFile(text);
    const m = new IgnoreMatcher(patterns);
    // Paths as a context walk gives them: clean, relative, at most PATH_MAX long.
    const paths = ['a', 'a/b', 'docs/README.md', '.git', 'node_modules/x/y', 'x/y/z.pyc', ...patterns.slice(0, 20).map(concrete)]
      .map((p) => p.slice(0, 4096))
      .filter((p) => p !== '' && p !== '.' && cleanPath(p) === p && !p.startsWith('/') && !p.startsWith('../'));
    for (const p of paths) {
      m.matches(p);
      if (!m.canSkipDir(p)) continue;
      // Skipping a dir must lose nothing: everything below it is excluded too.
      for (const c of [`${p}/x`, `${p}/x/y`, ...paths.filter((q) => q.startsWith(`${p}/`))]) {
        if (!m.matches(c)) throw new Violation(`canSkipDir("${p}") but "${c}" below it is not excluded`);
      }
    }
    for (const p of patterns.slice(0, 20)) {
      const re = pathGlob(p.replace(/^!/, ''));
      for (const q of paths) re.test(q);
    }
    return 'ok';
  },
  expected: (e) => berthCode(e),
};

const REFERENCE_TOKENS = [
  ':',
  '@',
  '/',
  '@sha256:',
  `sha256:${'a'.repeat(64)}`,
  'localhost',
  'localhost:5000/',
  '[::1]:5000/',
  '[fe80::1%eth0]:5000/',
  'docker.io/',
  'index.docker.io/',
  'library/',
  '.',
  '-',
  '_',
  '__',
  '--',
  'A',
  ':latest',
  'a'.repeat(128),
  'a'.repeat(256),
];

/** Image references: parse, and what berth prints must parse back to the same reference. */
export const referenceTarget: Target<string> = {
  name: 'reference',
  generate(rng) {
    const seeds = textSeeds().references;
    return mutateText(rng, rng.pick(seeds), { tokens: REFERENCE_TOKENS, corpus: seeds });
  },
  run(s) {
    const r = parseReference(s);
    for (const printed of [formatReference(r), familiarName(r)]) {
      let again: ReturnType<typeof parseReference>;
      try {
        again = parseReference(printed);
      } catch (e) {
        throw new Violation(`"${s}" parses, but its printed form "${printed}" does not: ${(e as Error).message}`);
      }
      if (!isDeepStrictEqual(again, r)) throw new Violation(`"${s}" → ${JSON.stringify(r)}, but "${printed}" → ${JSON.stringify(again)}`);
    }
    return 'ok';
  },
  expected: (e) => berthCode(e),
};

const ENV = new Map([
  ['PWD', '/home'],
  ['SHELL', 'bash'],
  ['KOREAN', '\ud55c\uad6d\uc5b4'],
  ['NULL', ''],
  ['A', 'a/b.c-d'],
  ['SPACE', ' x  y '],
]);

/** Word expansion alone, with both escape characters; a ShellError is its typed error. */
export const shellTarget: Target<string> = {
  name: 'shell',
  generate(rng) {
    const seeds = textSeeds().words;
    return mutateText(rng, rng.pick(seeds), { tokens: DOCKERFILE_TOKENS.filter((t) => t.includes('$') || t.includes('[')), corpus: seeds });
  },
  run(w) {
    for (const escape of ['\\', '`']) {
      for (const f of [processWord, processWords, processHeredoc]) {
        try {
          f(w, ENV, escape);
        } catch (e) {
          if (!(e instanceof ShellError)) throw e;
        }
      }
    }
    return 'ok';
  },
  expected: (e) => (e instanceof ShellError ? 'ShellError' : berthCode(e)),
};
