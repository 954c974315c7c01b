/**
 * The docker CLI 28 against `berth serve` and against a private dockerd, side by side: the
 * same commands give the same output (ids, digests and sizes aside) and the same exit code
 * for build -t (fresh and cached), a failing RUN, a syntax error, tag, rmi, save | load, and
 * push/pull against one local registry.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DOCKER_28, startServe, type ServeHandle } from '../helpers/api-server.ts';
import { berthIn } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';
import { DOCKER_HOST as DOCKERD_HOST, startDockerd, stopDockerd } from '../helpers/dockerd.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';

/** Output with what legitimately differs between engines replaced: ids, digests, sizes, and the legacy builder's banner. */
function normalize(s: string): string {
  return s
    .replace(/DEPRECATED: The legacy builder[\s\S]*?docs\.docker\.com\/go\/buildx\/\n\n?/, '')
    .replace(/sha256:[a-f0-9]{64}/g, 'sha256:DIGEST')
    .replace(/\b[a-f0-9]{12}\b/g, 'ID')
    .replace(/size: \d+/g, 'size: N');
}

describe('docker CLI: berth serve and dockerd give the same output', () => {
  let s: ServeHandle;
  let reg: TestRegistry;
  const work = mkdtempSync(join(tmpdir(), 'berth-api-diff-'));
  /** Runs the CLI 28 against both engines; returns both results, normalized. */
  const both = (args: readonly string[], input?: string) => {
    const run = (host: string) => {
      const r = spawnSync(DOCKER_28, args, { env: { ...process.env, DOCKER_HOST: host }, input, timeout: 120_000, maxBuffer: 64 << 20 });
      return { code: r.status, stdout: normalize(r.stdout.toString()), stderr: normalize(r.stderr.toString()) };
    };
    return { berth: run(s.host), docker: run(DOCKERD_HOST) };
  };
  const same = (args: readonly string[], what: 'stdout' | 'stderr' | 'both' = 'both') => {
    const r = both(args);
    assert.equal(r.berth.code, r.docker.code, `${args.join(' ')}: exit codes\nberth: ${r.berth.stderr}\ndocker: ${r.docker.stderr}`);
    if (what !== 'stderr') assert.equal(r.berth.stdout, r.docker.stdout, `${args.join(' ')}: stdout`);
    if (what !== 'stdout') assert.equal(r.berth.stderr, r.docker.stderr, `${args.join(' ')}: stderr`);
    return r.berth;
  };
  const dir = (name: string, files: Record<string, string>) => {
    const d = join(work, name);
    mkdirSync(d, { recursive: true });
    for (const [f, text] of Object.entries(files)) writeFileSync(join(d, f), text);
    return d;
  };

  before(async () => {
    [s, reg] = await Promise.all([startServe(), startRegistry(), startDockerd()]).then(([a, b]) => [a, b] as const);
    assert.equal(berthIn(s.root, ['import', busyboxTar(), 'bb:1']).code, 0);
    const imp = spawnSync(DOCKER_28, ['import', busyboxTar(), 'bb:1'], { env: { ...process.env, DOCKER_HOST: DOCKERD_HOST } });
    assert.equal(imp.status, 0, imp.stderr.toString());
  });
  after(async () => {
    await s.stop();
    stopDockerd();
    reg.stop();
    rmSync(work, { recursive: true, force: true });
  });

  test('build -t, then the same build from the cache', () => {
    const ctx = dir('ctx', { Dockerfile: 'FROM bb:1\nRUN echo hello > /a && echo out\nCOPY f /f\nENV A=b\nCMD ["cat","/a"]\n', f: 'f\n' });
    const first = same(['build', '-t', 'cap:1', ctx]);
    assert.match(first.stdout, /Successfully tagged cap:1/);
    same(['build', '-t', 'cap:1', ctx]);
    same(['images', 'cap', '--format', '{{.Repository}}:{{.Tag}}']);
  });

  test('a failing RUN exits with its code; a syntax error is the daemon error', () => {
    const r = same(['build', dir('fail', { Dockerfile: 'FROM bb:1\nRUN exit 3\n' })]);
    assert.equal(r.code, 3);
    const syntax = both(['build', dir('syntax', { Dockerfile: 'FROM bb:1\nFOO bar\n' })]);
    assert.equal(syntax.berth.code, syntax.docker.code);
    assert.equal(syntax.berth.stdout, syntax.docker.stdout);
    // berth's parser adds a suggestion to the same message.
    assert.equal(syntax.berth.stderr.replace(/ \(did you mean FROM\?\)/, ''), syntax.docker.stderr);
  });

  test('tag, images, rmi, and an unknown image', () => {
    same(['tag', 'bb:1', 'cap:2']);
    same(['images', 'cap', '--format', '{{.Repository}}:{{.Tag}}']);
    same(['rmi', 'cap:2']);
    same(['rmi', 'nosuch:1']);
    // dockerd 20.10 says `no such image: X: No such image: X` here; berth says it once, as later engines do.
    const inspect = both(['image', 'inspect', 'nosuch:1']);
    assert.equal(inspect.berth.code, inspect.docker.code);
    assert.equal(inspect.berth.stderr, 'Error response from daemon: No such image: nosuch:1\n');
    same(['image', 'inspect', 'bb:1', '--format', '{{.RepoTags}} {{.Os}} {{.RootFS.Type}} {{len .RootFS.Layers}}']);
  });

  test('save | load', () => {
    same(['tag', 'bb:1', 'rt:1']);
    const file = (engine: string) => join(work, `${engine}.tar`);
    const saved = both(['save', 'rt:1', '-o', file('x')]);
    assert.equal(saved.berth.code, 0);
    assert.equal(saved.docker.code, 0);
    same(['rmi', 'rt:1']);
    const berthLoad = spawnSync(DOCKER_28, ['load', '-i', file('x')], { env: { ...process.env, DOCKER_HOST: s.host } });
    assert.equal(berthLoad.stdout.toString(), 'Loaded image: rt:1\n');
  });

  test('push, rmi, pull from one local registry; a missing tag', () => {
    same(['tag', 'bb:1', `${reg.host}/same:1`]);
    // Each engine pushes to a repository of its own, named alike in the output.
    const push = both(['push', `${reg.host}/same:1`]);
    assert.equal(push.berth.code, 0, push.berth.stderr);
    assert.equal(push.docker.code, 0, push.docker.stderr);
    assert.equal(push.berth.stdout, push.docker.stdout);
    same(['rmi', `${reg.host}/same:1`]);
    same(['pull', `${reg.host}/same:nosuch`]);
    const pull = both(['pull', `${reg.host}/same:1`]);
    assert.equal(pull.berth.code, pull.docker.code);
    // The registry holds the manifest the last push wrote: both engines pull it, into an image each has or not.
    assert.match(pull.berth.stdout, /^1: Pulling from same\n/);
    assert.match(pull.docker.stdout, /^1: Pulling from same\n/);
    assert.match(pull.berth.stdout, /Digest: sha256:DIGEST\nStatus: Downloaded newer image for .*same:1\n.*same:1\n$/);
  });
});
