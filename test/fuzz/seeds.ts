/**
 * Seed inputs for the text targets: a few built in (so the harness runs anywhere), plus the
 * shared corpus when ../shared is there (BuildKit's parser test files and shell vectors,
 * moby's .dockerignore cases, 50 ML Dockerfiles). Always in the same order, so that a case
 * index names the same input in every thread and every run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { corpusDir } from '../helpers/corpus.ts';

/** The shared corpus, found where every corpus reader looks (test/helpers/corpus.ts); undefined in a fresh clone. */
const CORPUS = corpusDir('.');

export function hasCorpus(): boolean {
  return CORPUS !== undefined;
}

function read(rel: string): string | undefined {
  if (!CORPUS) return undefined;
  try {
    return readFileSync(new URL(rel, CORPUS), 'utf8');
  } catch {
    return undefined;
  }
}

function list(rel: string): string[] {
  if (!CORPUS) return [];
  try {
    return readdirSync(new URL(rel, CORPUS)).sort();
  } catch {
    return [];
  }
}

const BUILTIN_DOCKERFILES: readonly string[] = [
  'FROM busybox\nRUN echo hi\n',
  '# syntax=docker/dockerfile:1\n# escape=`\nFROM alpine:3.19 AS base\nENV A=1 B="two words" \\\n    C=${A:-x}\nWORKDIR /app\nCOPY --chown=1:1 --chmod=755 . /app/\nRUN echo `\n  $A\n',
  'ARG BASE=busybox\nARG TAG=latest\nFROM ${BASE}:${TAG} AS build\nARG VERSION=1.0\nLABEL version=$VERSION maintainer="a b"\nRUN --mount=type=cache,target=/root/.cache \\\n    --mount=type=bind,from=build,source=/x,target=/y \\\n    echo ${VERSION%%.*} ${VERSION#*.} ${VERSION/./-}\nFROM scratch\nCOPY --from=build /out /\nCMD ["/app", "--flag"]\n',
  'FROM busybox\nCOPY <<EOF /etc/conf\nhello $HOME\nEOF\nRUN <<-"EOT" bash\n\techo $x\n\tEOT\nRUN cat <<A <<B\na\nA\nb\nB\n',
  'FROM busybox\nONBUILD RUN echo hi\nHEALTHCHECK --interval=5s --retries=3 CMD wget -q localhost || exit 1\nSHELL ["/bin/sh", "-c"]\nEXPOSE 80/tcp 53/udp ${PORT:-8080}\nVOLUME ["/data", "/logs"]\nUSER 1000:1000\nSTOPSIGNAL SIGTERM\nENTRYPOINT ["/bin/sh"]\n',
  'FROM --platform=$BUILDPLATFORM golang:1.22 AS b\nARG TARGETOS TARGETARCH\nRUN GOOS=$TARGETOS GOARCH=$TARGETARCH go build -o /out ./...\nFROM b AS c\nCOPY --from=0 --exclude=*.md --parents a/**/b /dst\nADD --checksum=sha256:0000000000000000000000000000000000000000000000000000000000000000 https://example.com/a.tgz /x\nFROM c\nENV x ${y:?must be set}\n',
];

const BUILTIN_IGNORES: readonly string[] = [
  '*.md\n!README.md\nnode_modules\n**/*.pyc\n.git\n',
  '# comment\n/abs/path\n!important/**/keep\ndocs/[a-c]*\\*.txt\n**\n!src\n',
  '**/.cache/**\n!**/.cache/keep\n?\n[!a]*\n../outside\n./a/./b/../c\n',
];

const BUILTIN_REFERENCES: readonly string[] = [
  'busybox',
  'ubuntu:22.04',
  'library/ubuntu',
  'docker.io/library/ubuntu:latest',
  'index.docker.io/user/app:1',
  'localhost:5000/a/b:c',
  'localhost/a',
  `registry.example.com:443/team/app@sha256:${'a'.repeat(64)}`,
  `ghcr.io/o/n:v1.2.3@sha256:${'0123456789abcdef'.repeat(4)}`,
  '[::1]:5000/x:y',
  'a__b/c-d.e:T_A-G.1',
  'Host.Example/a',
  `sha256:${'f'.repeat(64)}`,
];

const BUILTIN_WORDS: readonly string[] = [
  'hello',
  "he'll'o",
  '"a $B c"',
  '${A:-def}',
  '${A:+alt}',
  '${UNSET?no}',
  '${A#*/}',
  '${A##*/}',
  '${A%.*}',
  '${A%%.*}',
  '${A/x/y}',
  '${A//[a-c]/-}',
  '\\$A',
  "'$A'",
  'a\\ b c',
  '${KOREAN}x',
  '$1$@$#',
];

export interface TextSeeds {
  readonly dockerfiles: readonly string[];
  readonly ignores: readonly string[];
  readonly references: readonly string[];
  readonly words: readonly string[];
}

let cached: TextSeeds | undefined;

/** All text seeds: built in, then the corpus's when present. */
export function textSeeds(): TextSeeds {
  if (cached) return cached;
  const dockerfiles = [...BUILTIN_DOCKERFILES];
  for (const group of ['buildkit-parser/testfiles', 'buildkit-parser/testfiles-negative']) {
    for (const name of list(group)) {
      const text = read(`${group}/${name}/Dockerfile`);
      if (text !== undefined) dockerfiles.push(text);
    }
  }
  const lineFile = read('buildkit-parser/testfile-line/Dockerfile');
  if (lineFile !== undefined) dockerfiles.push(lineFile);
  for (const name of list('ml-dockerfiles')) {
    if (!name.endsWith('Dockerfile')) continue;
    const text = read(`ml-dockerfiles/${name}`);
    if (text !== undefined) dockerfiles.push(text);
  }

  const ignores = [...BUILTIN_IGNORES];
  const cases = read('dockerignore/cases.json');
  if (cases !== undefined) {
    const seen = new Set<string>();
    for (const c of (JSON.parse(cases) as { cases: Array<{ patterns: string[]; path: string }> }).cases) {
      const text = `${c.patterns.join('\n')}\n`;
      if (!seen.has(text)) ignores.push(text);
      seen.add(text);
    }
  }

  // FROM lines of the Dockerfiles are real-world references.
  const references = [...BUILTIN_REFERENCES];
  const refSeen = new Set(references);
  for (const d of dockerfiles) {
    for (const m of d.matchAll(/^\s*FROM\s+(?:--\S+\s+)*(\S+)/gim)) {
      if (!refSeen.has(m[1]!)) references.push(m[1]!);
      refSeen.add(m[1]!);
    }
  }

  const words = [...BUILTIN_WORDS];
  for (const line of (read('buildkit-shell/envVarTest') ?? '').split('\n')) {
    const f = line.split('|');
    if (f.length >= 3 && !line.startsWith('#')) words.push(f[1]!.trim());
  }
  for (const line of (read('buildkit-shell/wordsTest') ?? '').split('\n')) {
    const f = line.split('|');
    if (f.length >= 2 && !line.startsWith('#') && !line.startsWith('ENV ')) words.push(f[0]!.trim());
  }
  cached = { dockerfiles, ignores, references, words };
  return cached;
}
