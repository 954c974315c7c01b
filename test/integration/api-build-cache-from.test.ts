/**
 * `POST /build` with `cachefrom` (docker's `build --cache-from` over the classic API, CLI 28
 * with DOCKER_BUILDKIT=0): the images' inline caches are read from the registry with the
 * credentials the client sends in X-Registry-Config, for that build only; hostile parameters
 * are a 400 before the upload.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startServe, type ServeHandle } from '../helpers/api-server.ts';
import { berthIn, tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';

const USER = 'carol';
const PASSWORD = 'cache-s3cret';

describe('berth serve: POST /build with cachefrom', () => {
  let s: ServeHandle;
  let reg: TestRegistry;
  let open: TestRegistry;
  const runnerA = tempRoot('berth-api-cachefrom-a-');
  const work = mkdtempSync(join(tmpdir(), 'berth-api-cachefrom-'));
  const ctx = join(work, 'ctx');
  const config = (name: string, auths: Record<string, unknown>) => {
    mkdirSync(join(work, name), { recursive: true });
    writeFileSync(join(work, name, 'config.json'), JSON.stringify({ auths }));
    return { DOCKER_CONFIG: join(work, name), DOCKER_BUILDKIT: '0' };
  };
  let authed: NodeJS.ProcessEnv;
  const anon = { DOCKER_CONFIG: join(work, 'anon'), DOCKER_BUILDKIT: '0' };
  let stampA = '';

  before(async () => {
    [reg, open] = await Promise.all([startRegistry({ auth: { user: USER, password: PASSWORD } }), startRegistry()]);
    authed = config('client', { [reg.host]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } });
    mkdirSync(anon.DOCKER_CONFIG, { recursive: true });
    s = await startServe({ env: { DOCKER_CONFIG: join(work, 'server') } });
    // Both runners start from the same base image (the same id: what a step's cache key starts from).
    assert.equal(berthIn(s.root, ['import', busyboxTar(), 'bb:1']).code, 0);
    const archive = join(work, 'bb.tar');
    assert.equal(berthIn(s.root, ['save', '-o', archive, 'bb:1']).code, 0);
    assert.equal(runnerA.run(['load', '-i', archive]).code, 0);
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM bb:1\nRUN cat /proc/sys/kernel/random/uuid > /stamp\nCOPY f /f\n');
    writeFileSync(join(ctx, 'f'), 'f\n');
    // Runner A builds with an inline cache and pushes to both registries.
    const env = { DOCKER_CONFIG: join(work, 'client') };
    const built = runnerA.run(['build', '-q', '--network', 'none', '--cache-to', 'type=inline', '-t', `${reg.host}/app:1`, ctx]);
    assert.equal(built.code, 0, built.stderr);
    assert.equal(runnerA.run(['tag', `${reg.host}/app:1`, `${open.host}/app:1`]).code, 0);
    for (const name of [`${reg.host}/app:1`, `${open.host}/app:1`]) {
      const push = berthIn(runnerA.root, ['push', '-q', name], { env: { ...process.env, ...env } });
      assert.equal(push.code, 0, push.stderr);
    }
    stampA = runnerA.run(['run', '--rm', '--network', 'none', `${reg.host}/app:1`, 'cat', '/stamp']).stdout;
    assert.match(stampA, /^[0-9a-f-]{36}\n$/);
  });
  after(async () => {
    await s?.stop();
    reg?.stop();
    open?.stop();
    runnerA.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  const stampOf = (image: string) => berthIn(s.root, ['run', '--rm', '--network', 'none', image, 'cat', '/stamp']).stdout;
  const forgetBuildCache = () => assert.equal(berthIn(s.root, ['builder', 'prune', '-af']).code, 0);

  test('without credentials the private cache is a warning and a cold build; the client’s credentials make every step a hit', () => {
    const cold = s.docker(['build', '--network', 'none', '--cache-from', `${reg.host}/app:1`, '-t', 'cold:1', ctx], { env: anon });
    assert.equal(cold.code, 0, cold.stderr + cold.stdout);
    assert.match(cold.stdout, /\[WARNING\]: .*cache.*(401|unauthorized|authentication)/i);
    assert.notEqual(stampOf('cold:1'), stampA);
    forgetBuildCache();
    const warm = s.docker(['build', '--network', 'none', '--cache-from', `${reg.host}/app:1`, '-t', 'warm:1', ctx], { env: authed });
    assert.equal(warm.code, 0, warm.stderr + warm.stdout);
    assert.equal(warm.stdout.match(/ ---> Using cache/g)?.length, 2, warm.stdout);
    assert.equal(stampOf('warm:1'), stampA);
    // The credentials were for that build: nothing in the state root or the server's log holds them.
    const grep = spawnSync('grep', ['-rlaF', PASSWORD, s.root], { encoding: 'utf8' });
    assert.equal(grep.status, 1, grep.stdout);
    assert.ok(!s.log().includes(PASSWORD));
  });

  test('a cache in a registry without auth serves a client that sends no credentials', () => {
    forgetBuildCache();
    const r = s.docker(['build', '--network', 'none', '--cache-from', `${open.host}/app:1`, '-t', 'open:1', ctx], { env: anon });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(r.stdout.match(/ ---> Using cache/g)?.length, 2, r.stdout);
    assert.equal(stampOf('open:1'), stampA);
    assert.ok(!s.log().includes(PASSWORD));
  });

  test('a malformed cachefrom or X-Registry-Config is a 400 that says which, before anything is built', async () => {
    const tar = execFileSync('tar', ['-C', ctx, '-cf', '-', 'Dockerfile', 'f']);
    const q = (v: string) => `/build?t=hostile%3A1&cachefrom=${encodeURIComponent(v)}`;
    const cases: Array<[string, RegExp]> = [
      ['[nope', /invalid cachefrom parameter: not JSON/],
      ['{"a":"b"}', /invalid cachefrom parameter: not a JSON array/],
      ['[1]', /each entry is an image reference string/],
      ['["type=local,src=/etc"]', /is not an image reference/],
      ['["BAD NAME"]', /is not an image reference/],
      [JSON.stringify(Array.from({ length: 33 }, (_, i) => `x/y:${i}`)), /more than 32 images/],
    ];
    for (const [value, want] of cases) {
      const r = await s.request('POST', q(value), { body: tar });
      assert.equal(r.status, 400, value);
      assert.match(JSON.parse(r.body.toString()).message, want, value);
    }
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64');
    for (const header of ['%%%', Buffer.from('{"x":').toString('base64'), b64([1]), b64({ [reg.host]: { username: 7 } })]) {
      const r = await s.request('POST', q(`["${reg.host}/app:1"]`), { body: tar, headers: { 'X-Registry-Config': header } });
      assert.equal(r.status, 400, header);
      assert.match(JSON.parse(r.body.toString()).message, /invalid X-Registry-Config header/, header);
    }
    assert.equal(berthIn(s.root, ['image', 'inspect', 'hostile:1']).code, 1);
  });
});
