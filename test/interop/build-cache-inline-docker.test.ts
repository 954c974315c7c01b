/**
 * Inline build cache between Docker's BuildKit (the private dockerd, 20.10) and berth, through
 * a local registry. docker → berth: an image docker built with BUILDKIT_INLINE_CACHE=1 serves
 * berth's --cache-from. berth looks steps up by its own keys, not BuildKit's, so it matches
 * such an image's RUN steps by its layers (diffIDs) and history instead (imports.ts). berth → docker: berth's inline cache carries BuildKit's own keys
 * (remote-cache/buildkit-keys.ts), and so does its registry cache, so a fresh dockerd's build
 * finds its steps in either.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';
import { DOCKER_HOST, startDockerd, stopDockerd } from '../helpers/dockerd.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';

function dockerBuildKit(args: string[]) {
  const r = spawnSync('/usr/bin/docker', args, {
    env: { ...process.env, DOCKER_HOST, DOCKER_BUILDKIT: '1' },
    maxBuffer: 64 << 20,
    timeout: 300_000,
    killSignal: 'SIGKILL',
  });
  return { code: r.status ?? 1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

const ran = (out: string, what: string) => new RegExp(`#\\d+ [\\d.]+ ${what}`).test(out);

describe('inline build cache with docker (BuildKit)', () => {
  let reg: TestRegistry;
  const t = tempRoot('berth-inline-docker-');
  const work = mkdtempSync(join(tmpdir(), 'berth-inline-docker-'));
  let base = '';
  before(async () => {
    reg = await startRegistry();
    await startDockerd();
    base = `${reg.host}/bb:base`;
    assert.equal(dockerBuildKit(['import', busyboxTar(), base]).code, 0);
    const push = dockerBuildKit(['push', base]);
    assert.equal(push.code, 0, push.stderr);
    mkdirSync(join(work, 'ctx'));
    writeFileSync(
      join(work, 'ctx', 'Dockerfile'),
      `FROM ${base}\nENV STAGE=one\nRUN echo one > /one && echo ran-step-one\nRUN echo two > /two && echo ran-step-two\n`,
    );
  });
  after(() => {
    stopDockerd();
    reg?.stop();
    t.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  it("docker's BUILDKIT_INLINE_CACHE image serves berth's --cache-from: its RUN steps are cache hits", () => {
    const image = `${reg.host}/dk:inline`;
    const d = dockerBuildKit(['build', '--network', 'none', '--build-arg', 'BUILDKIT_INLINE_CACHE=1', '-t', image, join(work, 'ctx')]);
    assert.equal(d.code, 0, d.stderr);
    assert.equal(dockerBuildKit(['push', image]).code, 0);
    const r = t.run([
      'build',
      '--progress',
      'plain',
      '--network',
      'none',
      '--cache-from',
      `type=registry,ref=${image}`,
      '-t',
      'from-docker:1',
      join(work, 'ctx'),
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!ran(r.stderr, 'ran-step-one') && !ran(r.stderr, 'ran-step-two'), r.stderr);
    assert.match(r.stderr, /CACHED/);
    assert.equal(t.run(['run', '--rm', 'from-docker:1', 'cat', '/two']).stdout.trim(), 'two');
  });

  it("berth's inline and registry caches each serve docker's --cache-from: a fresh dockerd's RUN, COPY and WORKDIR steps are CACHED, with berth's layers", () => {
    const ctx = join(work, 'ctx2');
    mkdirSync(join(ctx, 'sub'), { recursive: true });
    writeFileSync(join(ctx, 'a.txt'), 'hello\n');
    writeFileSync(join(ctx, 'sub', 's.txt'), 'in a dir\n');
    writeFileSync(join(ctx, 'skipped.txt'), 'ignored\n');
    writeFileSync(join(ctx, '.dockerignore'), 'skipped.txt\n');
    writeFileSync(
      join(ctx, 'Dockerfile'),
      `FROM ${base}\nENV STAGE=one\nARG V=1\nWORKDIR /app\nCOPY a.txt ./\nCOPY sub /app/sub\n` +
        'RUN date +%s%N > /stamp && echo ran-step-one\nRUN echo two > /two && echo ran-step-two\n',
    );
    const image = `${reg.host}/bt:inline`;
    const cache = `${reg.host}/bt-cache:1`;
    const b = t.run([
      'build',
      '--progress',
      'plain',
      '--network',
      'none',
      '--cache-to',
      'type=inline',
      '--cache-to',
      `type=registry,ref=${cache}`,
      '-t',
      image,
      ctx,
    ]);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(t.run(['push', image]).code, 0);
    const berthLayers = JSON.parse(t.run(['image', 'inspect', image, '--format', '{{json .RootFS.Layers}}']).stdout) as string[];
    // Each cache alone, in a dockerd with nothing built or pulled: only that cache can make a step CACHED.
    for (const [from, tag] of [
      [image, 'from-berth:inline'],
      [cache, 'from-berth:registry'],
    ] as const) {
      dockerBuildKit(['builder', 'prune', '-af']);
      const local = dockerBuildKit(['images', '-q']).stdout.split('\n').filter(Boolean);
      if (local.length) dockerBuildKit(['rmi', '-f', ...local]);
      const d = dockerBuildKit(['build', '--progress', 'plain', '--network', 'none', '--cache-from', from, '-t', tag, ctx]);
      assert.equal(d.code, 0, d.stderr);
      assert.match(d.stderr, new RegExp(`importing cache manifest from [^\\n]*${from.split('/')[1]}`));
      assert.doesNotMatch(d.stderr, /failed to (import|parse|load)|invalid|ERROR/i, d.stderr);
      for (const step of ['WORKDIR /app', 'COPY a.txt ./', 'COPY sub /app/sub', 'RUN date', 'RUN echo two']) {
        const id = new RegExp(`#(\\d+) \\[\\d+/\\d+\\] ${step}`).exec(d.stderr)?.[1];
        assert.ok(id, `no step ${step} in:\n${d.stderr}`);
        assert.match(d.stderr, new RegExp(`#${id} CACHED`), `${step} not CACHED from ${from}:\n${d.stderr}`);
      }
      assert.ok(!ran(d.stderr, 'ran-step-one') && !ran(d.stderr, 'ran-step-two'), d.stderr);
      // The RUN that writes the time gives berth's very layer: docker ran nothing.
      const dockerLayers = JSON.parse(dockerBuildKit(['image', 'inspect', tag, '--format', '{{json .RootFS.Layers}}']).stdout) as string[];
      assert.deepEqual(dockerLayers, berthLayers);
    }
  });
});
