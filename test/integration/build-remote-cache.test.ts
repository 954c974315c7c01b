/**
 * build --cache-to / --cache-from: two state roots stand for two CI runners and a local
 * registry for the team's. Runner A exports its layers (mode=max) and its cache mount;
 * runner B, empty, runs only the step whose input changed, with the cache mount warm.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { busyboxTar } from '../helpers/busybox.ts';
import { tempRoot } from '../helpers/berth.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';

const DOCKERFILE = (base: string) => `FROM ${base} AS deps
RUN echo wheels > /deps.txt && echo ran-deps-stage
FROM ${base}
RUN --mount=type=cache,id=pip,target=/root/.cache/pip,sharing=locked echo fill > /root/.cache/pip/wheel-1 && echo ran-install
COPY --from=deps /deps.txt /deps.txt
COPY app.py /app/app.py
RUN --mount=type=cache,id=pip,target=/root/.cache/pip sh -c 'if [ -f /root/.cache/pip/wheel-1 ]; then echo pip-cache-hit; else echo pip-cache-miss; fi > /app/pip-state; echo ran-app-step'
`;

describe('build remote cache (registry, local)', () => {
  let reg: TestRegistry;
  const a = tempRoot('berth-cache-a-');
  const b = tempRoot('berth-cache-b-');
  const work = mkdtempSync(join(tmpdir(), 'berth-cache-ctx-'));
  let base = '';
  before(async () => {
    reg = await startRegistry();
    base = `${reg.host}/bb:base`;
    assert.equal(a.run(['import', busyboxTar(), base]).code, 0);
    assert.equal(a.run(['push', base]).code, 0);
    mkdirSync(join(work, 'ctx'));
    writeFileSync(join(work, 'ctx', 'Dockerfile'), DOCKERFILE(base));
    writeFileSync(join(work, 'ctx', 'app.py'), 'print(1)\n');
  });
  after(() => {
    reg?.stop();
    a.cleanup();
    b.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  it("runner B builds from runner A's registry cache: only the changed step runs, its cache mount warm", () => {
    const ref = `${reg.host}/cache:ml`;
    const ra = a.run(['build', '--progress', 'plain', '--cache-to', `type=registry,ref=${ref},mode=max,mounts=true`, '-t', 'ml:a', join(work, 'ctx')]);
    assert.equal(ra.code, 0, ra.stderr);
    assert.match(ra.stderr, /#\d+ [\d.]+ ran-deps-stage/);
    assert.match(ra.stderr, /exporting cache to/);
    writeFileSync(join(work, 'ctx', 'app.py'), 'print(2)\n');
    const rb = b.run(['build', '--progress', 'plain', '--cache-from', `type=registry,ref=${ref}`, '-t', 'ml:b', join(work, 'ctx')]);
    assert.equal(rb.code, 0, rb.stderr);
    assert.doesNotMatch(rb.stderr, /#\d+ [\d.]+ ran-deps-stage/, 'the deps stage (mode=max) came from the cache');
    assert.doesNotMatch(rb.stderr, /#\d+ [\d.]+ ran-install/, 'the install step came from the cache');
    assert.match(rb.stderr, /#\d+ [\d.]+ ran-app-step/, 'the step after the changed file ran');
    const state = b.run(['run', '--rm', 'ml:b', 'cat', '/app/pip-state']);
    assert.equal(state.stdout.trim(), 'pip-cache-hit', state.stderr);
  });
});
