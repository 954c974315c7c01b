/**
 * `berth serve`'s image endpoints through real clients: the docker CLI 28 (images, inspect,
 * history, tag, rmi, save/load, pull/push against a local registry, commit, login) and
 * dockerode (pull with followProgress), plus raw requests for the wire shapes and hostile input.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import { jsonMessages as messages, startServe, type ServeHandle } from '../helpers/api-server.ts';
import { berthIn } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';

/** The JSON messages of a progress stream, one per `\r\n`-ended line. */

const auth = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('berth serve: images', () => {
  let s: ServeHandle;
  let reg: TestRegistry;
  let bbId: string;
  const dir = mkdtempSync(join(tmpdir(), 'berth-api-images-'));
  const berth = (args: readonly string[]) => berthIn(s.root, args);
  const json = async (method: string, path: string, opts?: Parameters<ServeHandle['request']>[2]) => {
    const r = await s.request(method, path, opts);
    return { status: r.status, headers: r.headers, body: r.body.length ? JSON.parse(r.body.toString()) : undefined };
  };

  before(async () => {
    s = await startServe();
    reg = await startRegistry();
    const imp = berth(['import', busyboxTar(), 'bb:1']);
    assert.equal(imp.code, 0, imp.stderr);
    bbId = imp.stdout.trim();
  });
  after(async () => {
    await s.stop();
    reg.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('docker images lists bb:1 with its short id; a reference filter narrows the list', () => {
    const all = s.docker(['images']);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE/);
    assert.match(all.stdout, new RegExp(`bb\\s+1\\s+${bbId.slice(7, 19)}`));
    const one = s.docker(['images', 'bb', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
    assert.equal(one.stdout.trim(), `bb:1 ${bbId.slice(7, 19)}`);
    assert.equal(s.docker(['images', 'nosuch', '-q']).stdout, '');
  });

  test('GET /images/json rows have dockerd 20.10 fields; dangling and label filters apply', async () => {
    const r = await json('GET', '/v1.41/images/json');
    assert.equal(r.status, 200);
    const row = r.body.find((i: { Id: string }) => i.Id === bbId);
    assert.deepEqual(row.RepoTags, ['bb:1']);
    assert.equal(row.Containers, -1);
    assert.equal(row.SharedSize, -1);
    assert.equal(row.ParentId, '');
    assert.equal(typeof row.Created, 'number');
    assert.ok(Math.abs(row.Created - Date.now() / 1000) < 3600, String(row.Created));
    assert.ok(row.Size > 1_000_000 && row.VirtualSize === row.Size);
    const dangling = await json('GET', `/images/json?filters=${encodeURIComponent('{"dangling":{"true":true}}')}`);
    assert.ok(!dangling.body.some((i: { Id: string }) => i.Id === bbId));
    const label = await json('GET', `/images/json?filters=${encodeURIComponent('{"label":["nosuch"]}')}`);
    assert.deepEqual(label.body, []);
    const bad = await json('GET', '/images/json?filters=%7Bnot-json');
    assert.equal(bad.status, 400);
    const unknown = await json('GET', `/images/json?filters=${encodeURIComponent('{"colour":["red"]}')}`);
    assert.equal(unknown.status, 400);
  });

  test('image inspect and history show the imported image; an unknown one is a 404', async () => {
    const id = s.docker(['image', 'inspect', 'bb:1', '--format', '{{.Id}} {{.RootFS.Type}} {{.Os}}']);
    assert.equal(id.code, 0, id.stderr);
    assert.equal(id.stdout.trim(), `${bbId} layers linux`);
    const h = s.docker(['history', 'bb:1']);
    assert.equal(h.code, 0, h.stderr);
    assert.match(h.stdout, new RegExp(`^${bbId.slice(7, 19)}\\s`, 'm'));
    assert.match(h.stdout, /Imported from/);
    const raw = await json('GET', '/images/bb:1/history');
    assert.deepEqual(raw.body[0].Tags, ['bb:1']);
    const missing = await json('GET', '/v1.41/images/nosuch:9/json');
    assert.equal(missing.status, 404);
    assert.match(missing.body.message, /No such image: nosuch:9/);
    const cli = s.docker(['image', 'inspect', 'nosuch:9']);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /No such image: nosuch:9/);
  });

  test('tag stores the normalized target as berth names it; rmi untags, and removes the image with its last tag', async () => {
    const t = s.docker(['tag', 'bb:1', 'cap:2']);
    assert.equal(t.code, 0, t.stderr);
    assert.equal(s.docker(['images', 'cap', '--format', '{{.Repository}}:{{.Tag}}']).stdout.trim(), 'cap:2');
    // The CLI sends the target normalized: the store shows it familiar, as berth's own tag does.
    assert.match(berth(['images', 'cap']).stdout, /cap\s+2\s/);
    const raw = await s.request('POST', '/images/bb:1/tag?repo=docker.io%2Flibrary%2Fcap&tag=3');
    assert.equal(raw.status, 201);
    assert.equal(s.docker(['image', 'inspect', 'cap:3', '--format', '{{.Id}}']).stdout.trim(), bbId);
    const rmi = s.docker(['rmi', 'cap:2', 'cap:3']);
    assert.equal(rmi.code, 0, rmi.stderr);
    assert.equal(rmi.stdout, 'Untagged: cap:2\nUntagged: cap:3\n');
    assert.equal((await s.request('POST', '/images/bb:1/tag')).status, 400);
    assert.equal((await s.request('POST', '/images/nosuch:1/tag?repo=x&tag=1')).status, 404);
    // The last name of an image: the image goes too.
    assert.equal(berth(['import', busyboxTar(), 'gone:1']).code, 0);
    const last = await json('DELETE', '/images/gone:1');
    assert.equal(last.status, 200);
    assert.deepEqual(last.body[0], { Untagged: 'gone:1' });
    assert.match(last.body.at(-1).Deleted, /^sha256:[a-f0-9]{64}$/);
    const again = s.docker(['rmi', 'gone:1']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /No such image: gone:1/);
  });

  test('rmi of an image a container uses is a 409 with docker message', () => {
    assert.equal(berth(['tag', 'bb:1', 'used:1']).code, 0);
    const c = berth(['create', '--name', 'user-of-used', 'used:1', 'true']);
    assert.equal(c.code, 0, c.stderr);
    try {
      // used:1 is the image's only other name after bb:1 is... kept: remove by id to reach the conflict.
      assert.equal(berth(['rmi', 'used:1']).code, 0);
      const r = s.docker(['rmi', bbId.slice(7, 19)]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /conflict: unable to (remove repository reference|delete)/);
      const named = s.docker(['rmi', 'bb:1']);
      assert.equal(named.code, 1);
      assert.match(
        named.stderr,
        new RegExp(
          `conflict: unable to remove repository reference "bb:1" \\(must force\\) - container [a-f0-9]{12} is using its referenced image ${bbId.slice(7, 19)}`,
        ),
      );
      assert.equal(s.docker(['images', 'bb', '-q']).stdout.trim(), bbId.slice(7, 19));
    } finally {
      berth(['rm', '-f', 'user-of-used']);
    }
  });

  test('save | load round trip keeps the image id; get streams application/x-tar', async () => {
    const imp = berth(['import', busyboxTar(), 'rt:1']);
    assert.equal(imp.code, 0, imp.stderr);
    const rtId = imp.stdout.trim();
    const file = join(dir, 'rt.tar');
    const save = s.docker(['save', 'rt:1', '-o', file]);
    assert.equal(save.code, 0, save.stderr);
    assert.ok(readFileSync(file).length > 1_000_000);
    const raw = await s.request('GET', '/v1.41/images/get?names=rt%3A1');
    assert.equal(raw.status, 200);
    assert.equal(raw.headers['content-type'], 'application/x-tar');
    assert.equal(raw.body.subarray(257, 262).toString(), 'ustar');
    const byPath = await s.request('GET', '/images/rt:1/get');
    assert.equal(byPath.status, 200);
    assert.equal((await s.request('GET', '/images/get?names=nosuch:1')).status, 404);
    const rmi = s.docker(['rmi', 'rt:1']);
    assert.match(rmi.stdout, /Deleted: sha256:/); // the image is gone, not only its name
    const load = s.docker(['load', '-i', file]);
    assert.equal(load.code, 0, load.stderr);
    assert.equal(load.stdout.trim(), 'Loaded image: rt:1');
    assert.equal(s.docker(['images', 'rt', '-q', '--no-trunc']).stdout.trim(), rtId);
    const quiet = await s.request('POST', '/images/load?quiet=1', { body: readFileSync(file), headers: { 'Content-Type': 'application/x-tar' } });
    assert.equal(quiet.status, 200);
    assert.equal(quiet.headers['content-type'], 'application/json');
    assert.deepEqual(messages(quiet.body), [{ stream: 'Loaded image: rt:1\n' }]);
  });

  test('a load body that is garbage is a clear 400 and stores nothing', async () => {
    const before = (await json('GET', '/images/json')).body.length;
    const garbage = await json('POST', '/images/load', { body: Buffer.alloc(4096, 'x') });
    assert.equal(garbage.status, 400);
    assert.match(garbage.body.message, /not an image archive/);
    // A real tar that holds no image, and a truncated gzip.
    const tarNoImage = await s.request('POST', '/images/load', { body: readFileSync(busyboxTar()).subarray(0, 10240) });
    assert.equal(tarNoImage.status, 400);
    const cli = s.docker(['load'], { input: 'not an archive at all' });
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /not an image archive/);
    assert.equal((await json('GET', '/images/json')).body.length, before);
  });

  test('push and pull through a local registry, with dockerd stream messages', async () => {
    const name = `${reg.host}/x`;
    assert.equal(s.docker(['tag', 'bb:1', `${name}:1`]).code, 0);
    const push = s.docker(['push', `${name}:1`]);
    assert.equal(push.code, 0, push.stderr);
    assert.match(push.stdout, new RegExp(`The push refers to repository \\[${reg.host}/x\\]`));
    assert.match(push.stdout, /[a-f0-9]{12}: Pushed/);
    assert.match(push.stdout, /1: digest: sha256:[a-f0-9]{64} size: \d+/);
    const rawPush = messages((await s.request('POST', `/images/${name}/push?tag=1`, { headers: { 'X-Registry-Auth': 'e30=' } })).body);
    const aux = rawPush.at(-1)!.aux as { Tag: string; Digest: string; Size: number };
    assert.equal(aux.Tag, '1');
    assert.match(aux.Digest, /^sha256:[a-f0-9]{64}$/);
    assert.ok(rawPush.some((m) => m.status === 'Layer already exists'));

    assert.equal(s.docker(['rmi', `${name}:1`]).code, 0);
    const pull = s.docker(['pull', `${name}:1`]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.match(pull.stdout, /1: Pulling from x/);
    assert.match(pull.stdout, new RegExp(`Status: Downloaded newer image for ${reg.host}/x:1`));
    assert.equal(s.docker(['images', name, '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']).stdout.trim(), `${name}:1 ${bbId.slice(7, 19)}`);
    const again = s.docker(['pull', `${name}:1`]);
    assert.match(again.stdout, new RegExp(`Status: Image is up to date for ${reg.host}/x:1`));
    const raw = messages(
      (await s.request('POST', `/images/create?fromImage=${encodeURIComponent(name)}&tag=1`, { headers: { 'X-Registry-Auth': 'e30=' } })).body,
    );
    assert.deepEqual(raw[0], { status: 'Pulling from x', id: '1' });
    assert.match(String(raw.at(-2)!.status), /^Digest: sha256:[a-f0-9]{64}$/);
  });

  test('a pull of a missing tag is a 404 with docker message; an unreachable registry a 500', async () => {
    const cli = s.docker(['pull', `${reg.host}/x:nosuch`]);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, new RegExp(`manifest for ${reg.host}/x:nosuch not found: manifest unknown: manifest unknown`));
    const raw = await json('POST', `/images/create?fromImage=${encodeURIComponent(`${reg.host}/x`)}&tag=nosuch`);
    assert.equal(raw.status, 404);
    const down = await json('POST', '/images/create?fromImage=127.0.0.1%3A1%2Fx&tag=1');
    assert.equal(down.status, 500);
    assert.ok(down.body.message.length > 0);
  });

  test('dockerode pull with followProgress ends cleanly and names the image', async () => {
    const docker = new Docker({ socketPath: s.socket });
    assert.equal(s.docker(['rmi', `${reg.host}/x:1`]).code, 0);
    const stream = await docker.pull(`${reg.host}/x:1`);
    const events: Array<{ status?: string }> = await new Promise((resolve, reject) =>
      docker.modem.followProgress(stream, (err: Error | null, out: Array<{ status?: string }>) => (err ? reject(err) : resolve(out))),
    );
    assert.ok(events.some((e) => e.status === `Status: Downloaded newer image for ${reg.host}/x:1`));
    const info = await docker.getImage(`${reg.host}/x:1`).inspect();
    assert.equal(info.Id, bbId);
  });

  test('commit makes an image of a container changes; prune removes an untagged image', async () => {
    const run = berth(['run', '--name', 'to-commit', 'bb:1', 'sh', '-c', 'echo committed > /c; rm /bin/true']);
    assert.equal(run.code, 0, run.stderr);
    try {
      const c = s.docker(['commit', '-c', 'CMD ["cat","/c"]', '-m', 'a note', 'to-commit', 'cap:c']);
      assert.equal(c.code, 0, c.stderr);
      assert.match(c.stdout.trim(), /^sha256:[a-f0-9]{64}$/);
      const out = berth(['run', '--rm', 'cap:c']);
      assert.equal(out.stdout, 'committed\n', out.stderr);
      assert.notEqual(berth(['run', '--rm', 'cap:c', 'ls', '/bin/true']).code, 0); // the deletion is in the layer
      assert.match(s.docker(['history', 'cap:c']).stdout, /a note/);
      // berth's own commit is the same use case, and the server sees its image at once.
      const cli = berth(['commit', '-c', 'CMD ["cat","/c"]', 'to-commit', 'cap:cli']);
      assert.equal(cli.code, 0, cli.stderr);
      assert.equal(s.docker(['images', 'cap:cli', '-q', '--no-trunc']).stdout.trim(), cli.stdout.trim());
      const untagged = await json('POST', '/commit?container=to-commit');
      assert.equal(untagged.status, 201);
      const pruned = await json('POST', '/images/prune?filters=%7B%22dangling%22%3A%7B%22true%22%3Atrue%7D%7D');
      assert.equal(pruned.status, 200);
      assert.ok(pruned.body.ImagesDeleted.some((d: { Deleted: string }) => d.Deleted === untagged.body.Id));
      assert.equal(typeof pruned.body.SpaceReclaimed, 'number');
      assert.equal((await json('POST', '/commit?container=nosuch')).status, 404);
    } finally {
      berth(['rm', '-f', 'to-commit']);
    }
  });

  test('docker import (fromSrc=-) makes an image of a rootfs tarball; docker image prune removes untagged ones', async () => {
    const imp = s.docker(['import', '-c', 'CMD ["echo","imported"]', '-m', 'via api', busyboxTar(), 'imp:1']);
    assert.equal(imp.code, 0, imp.stderr);
    assert.match(imp.stdout.trim(), /^sha256:[a-f0-9]{64}$/);
    assert.equal(berth(['run', '--rm', 'imp:1']).stdout, 'imported\n');
    const notTar = await json('POST', '/images/create?fromSrc=-&repo=imp&tag=2', { body: 'plain text, no tar' });
    assert.equal(notTar.status, 400);
    assert.equal((await json('POST', '/images/create?fromSrc=http%3A%2F%2Fexample.com%2Fx.tar')).status, 501);
    const untagged = s.docker(['import', busyboxTar()]);
    assert.equal(untagged.code, 0, untagged.stderr);
    const prune = s.docker(['image', 'prune', '-f']);
    assert.equal(prune.code, 0, prune.stderr);
    assert.match(prune.stdout, new RegExp(`deleted: ${untagged.stdout.trim()}`));
    assert.match(prune.stdout, /Total reclaimed space:/);
    assert.equal(s.docker(['images', 'imp', '-q']).stdout.trim().length, 12); // tagged: kept
  });

  test('hostile input: bad X-Registry-Auth, names with .. or control characters', async () => {
    for (const header of ['!!!not base64', `${auth({}).replace(/=*$/, '')}%`, Buffer.from('not json').toString('base64'), auth({ username: 5 })]) {
      const r = await json('POST', `/images/create?fromImage=${encodeURIComponent(`${reg.host}/x`)}&tag=1`, { headers: { 'X-Registry-Auth': header } });
      assert.equal(r.status, 400, header);
      assert.match(r.body.message, /X-Registry-Auth/);
    }
    const push = await json('POST', `/images/${reg.host}/x/push?tag=1`, { headers: { 'X-Registry-Auth': 'bm90IGpzb24=' } });
    assert.equal(push.status, 400);
    for (const path of ['/images/..%2F..%2Fetc/json', '/images/a..b/json', '/images/bb%0a:1/json', '/images/bb%00/history']) {
      const r = await json('GET', path);
      assert.equal(r.status, 400, path);
    }
    assert.equal((await json('POST', '/images/create?fromImage=..%2Fx&tag=1')).status, 400);
    assert.equal((await json('POST', '/images/bb:1/tag?repo=a%0ab&tag=1')).status, 400);
    assert.equal((await json('DELETE', '/images/a%2F..%2Fb')).status, 400);
    // The server is still up.
    assert.equal((await s.request('GET', '/_ping')).status, 200);
  });
});

describe('berth serve: /auth and credentials the client sends', () => {
  let s: ServeHandle;
  let reg: TestRegistry;
  const config = mkdtempSync(join(tmpdir(), 'berth-api-auth-'));
  before(async () => {
    reg = await startRegistry({ auth: { user: 'alice', password: 's3cret' }, tls: true });
    // The server's own docker config holds nothing: what it reaches, it reaches with the client's credentials.
    s = await startServe({ env: { DOCKER_CONFIG: join(config, 'server') } });
    assert.equal(berthIn(s.root, ['import', busyboxTar(), `${reg.host}/priv:1`]).code, 0);
  });
  after(async () => {
    await s.stop();
    reg.stop();
    rmSync(config, { recursive: true, force: true });
  });
  const env = { DOCKER_CONFIG: join(config, 'client') };

  test('docker login checks the credentials at the registry: 401 on bad ones', async () => {
    const bad = s.docker(['login', reg.host, '-u', 'alice', '--password-stdin'], { input: 'wrong\n', env });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /unauthorized|incorrect/i);
    const raw = await s.request('POST', '/auth', { body: JSON.stringify({ username: 'alice', password: 'nope', serveraddress: reg.host }) });
    assert.equal(raw.status, 401);
    const ok = s.docker(['login', reg.host, '-u', 'alice', '--password-stdin'], { input: 's3cret\n', env });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /Login Succeeded/);
    // The CLI stored them, the server did not.
    assert.match(readFileSync(join(config, 'client', 'config.json'), 'utf8'), new RegExp(reg.host.replace(/\./g, '\\.')));
    assert.equal((await s.request('POST', '/auth', { body: '{"username":' })).status, 400);
  });

  test('push and pull use X-Registry-Auth; without it the registry refuses', async () => {
    const anon = s.docker(['push', `${reg.host}/priv:1`], { env: { DOCKER_CONFIG: join(config, 'anon') } });
    assert.equal(anon.code, 1);
    const push = s.docker(['push', `${reg.host}/priv:1`], { env });
    assert.equal(push.code, 0, push.stderr + push.stdout);
    assert.equal(s.docker(['rmi', `${reg.host}/priv:1`]).code, 0);
    const pull = s.docker(['pull', `${reg.host}/priv:1`], { env });
    assert.equal(pull.code, 0, pull.stderr);
    assert.match(pull.stdout, /Downloaded newer image/);
  });

  test("a build's FROM pulls with the credentials of X-Registry-Config, and only those", () => {
    assert.equal(s.docker(['rmi', `${reg.host}/priv:1`]).code, 0);
    const ctx = join(config, 'ctx');
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, 'Dockerfile'), `FROM ${reg.host}/priv:1\nRUN echo built\n`);
    const anon = s.docker(['build', '-t', 'fromprivate:1', ctx], { env: { DOCKER_CONFIG: join(config, 'anon') } });
    assert.equal(anon.code, 1, anon.stdout);
    const ok = s.docker(['build', '-t', 'fromprivate:1', ctx], { env });
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
    assert.match(ok.stdout, /Successfully tagged fromprivate:1/);
  });
});
