/**
 * Issue 24's acceptance for accounting and freeing: a root with two images sharing a base, a
 * running and a stopped container, volumes and a build cache with a cache mount. Every
 * figure of `system df -v` is checked against `du -sb` of what is behind it; `builder prune
 * -a` brings the build cache to 0 B and `du` agrees; `system prune -a --volumes` leaves only
 * what the running container uses. The Engine API's `GET /system/df` gives the same numbers.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openEngine } from '../../src/engine.ts';
import { pullImage } from '../../src/registry/index.ts';
import { diskUsageDetail } from '../../src/services/disk-usage.ts';
import { humanSize as goUnits } from '../../src/progress/units.ts';
import { startServe } from '../helpers/api-server.ts';
import { tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';
import { waitFor } from '../helpers/wait.ts';

const t = tempRoot('berth-df-');
const layersDir = join(t.root, 'snapshots', 'layers');
const blobsDir = join(t.root, 'content', 'blobs', 'sha256');
const mountsDir = join(t.root, 'build-cache-mounts');

type Row = Record<string, unknown>;
type Detail = { LayersSize: number; Images: Row[]; Containers: Row[]; Volumes: Row[]; BuildCache: Row[]; BuilderSize: number };

/** `du -sb PATH`, each path in its own du: the independent measure every figure is held to. */
function du(path: string): number {
  if (!existsSync(path)) return 0;
  const r = spawnSync('du', ['-sb', path], { encoding: 'utf8' });
  return Number(r.stdout.split('\t')[0]);
}

const blobFile = (digest: string) => join(blobsDir, digest.replace(/^sha256:/, ''));
const blobBytes = (digest: string) => (existsSync(blobFile(digest)) ? statSync(blobFile(digest)).size : 0);
const layerDirs = () => readdirSync(layersDir).filter((n) => /^[0-9a-f]{64}$/.test(n));

async function detail(): Promise<Detail> {
  const engine = await openEngine({ root: t.root, puller: { pull: pullImage } });
  try {
    return (await diskUsageDetail(engine)) as unknown as Detail;
  } finally {
    engine.close();
  }
}

function ok(args: string[]): string {
  const r = t.run(args);
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** An image's layers (diffIDs), config id and manifest digest. */
async function imageParts(ref: string): Promise<{ id: string; layers: string[]; manifest: string }> {
  const [inspect] = JSON.parse(ok(['image', 'inspect', ref])) as Array<{ Id: string; RootFS: { Layers: string[] } }>;
  const engine = await openEngine({ root: t.root, puller: { pull: pullImage } });
  try {
    return { id: inspect!.Id, layers: inspect!.RootFS.Layers, manifest: engine.images.get(inspect!.Id as never)!.manifestDigest };
  } finally {
    engine.close();
  }
}

/** A layer as the store keeps it: its unpacked dir and, when stored, its tar under its diffID. */
const layerBytes = (diffId: string) => du(join(layersDir, diffId.replace(/^sha256:/, ''))) + blobBytes(diffId);

function context(name: string, dockerfile: string): string {
  const dir = join(t.root, '..', `${t.root.split('/').pop()}-${name}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'Dockerfile'), dockerfile);
  return dir;
}

const contexts: string[] = [];

/** docker's df figures: 3 significant digits in the tables' SIZE columns, go-units' HumanSize (4) elsewhere. */
const humanSize = (n: number) => goUnits(n, 4);
const size3 = (n: number) => goUnits(n, 3);

before(async () => {
  ok(['import', busyboxTar(), 'bb:1']);
  contexts.push(
    context('one', 'FROM bb:1\nRUN --mount=type=cache,target=/cache head -c 300000 /dev/zero > /cache/blob && head -c 100000 /dev/zero > /one\n'),
    context('two', 'FROM bb:1\nRUN head -c 150000 /dev/zero > /two\n'),
  );
  ok(['build', '-q', '-t', 'one:1', contexts[0]!]);
  ok(['build', '-q', '-t', 'two:1', contexts[1]!]);
  ok(['volume', 'create', 'data']);
  ok([
    'run',
    '-d',
    '--name',
    'runner',
    '--network',
    'none',
    '-v',
    'data:/d',
    'one:1',
    'sh',
    '-c',
    'head -c 70000 /dev/zero > /d/f; head -c 30000 /dev/zero > /rw; touch /ready; sleep 600',
  ]);
  await waitFor('the runner to write its files', () => (t.run(['exec', 'runner', 'test', '-e', '/ready']).code === 0 ? true : undefined), 20_000);
  ok(['run', '--name', 'stopped', '--network', 'none', '-v', '/anon', 'two:1', 'sh', '-c', 'head -c 40000 /dev/zero > /w; head -c 20000 /dev/zero > /anon/f']);
});

after(() => {
  t.run(['rm', '-f', 'runner', 'stopped']);
  t.cleanup();
  for (const c of contexts) rmSync(c, { recursive: true, force: true });
});

describe('system df and the prunes, held to du', () => {
  it('every figure of system df -v is the du of what is behind it', async () => {
    const d = await detail();
    const bb = await imageParts('bb:1');
    const one = await imageParts('one:1');
    const two = await imageParts('two:1');
    const image = (id: string) => d.Images.find((i) => i.Id === id)!;
    // The base layer is shared by all three; what else each holds is its own.
    const base = layerBytes(bb.layers[0]!);
    for (const img of [one, two]) {
      const own = img.layers.slice(1).reduce((n, l) => n + layerBytes(l), 0) + blobBytes(img.id) + blobBytes(img.manifest);
      assert.equal(image(img.id).SharedSize, base, 'shared: the base layer');
      assert.equal(image(img.id).Size, base + own, 'size: the base and its own layer, config and manifest');
    }
    assert.equal(image(bb.id).Size, base + blobBytes(bb.id) + blobBytes(bb.manifest));
    assert.equal(image(one.id).Containers, 1);
    assert.equal(image(two.id).Containers, 1, 'the stopped container');

    const container = (name: string) => d.Containers.find((c) => (c.Names as string[])[0] === `/${name}`)!;
    for (const name of ['runner', 'stopped']) {
      const id = container(name).Id as string;
      assert.equal(container(name).SizeRw, du(join(t.root, 'snapshots', 'active', id, 'upper')), name);
      assert.ok(Number(container(name).SizeRw) > (name === 'runner' ? 30000 : 40000), name);
    }
    for (const v of d.Volumes) assert.equal((v.UsageData as Row).Size, du(v.Mountpoint as string), String(v.Name));
    assert.ok(Number((d.Volumes.find((v) => v.Name === 'data')!.UsageData as Row).Size) >= 70000);

    const mounts = d.BuildCache.filter((r) => r.Type === 'exec.cachemount');
    assert.equal(mounts.length, 1);
    assert.equal(mounts[0]!.Size, du(join(mountsDir, readdirSync(mountsDir)[0]!)));
    assert.ok(Number(mounts[0]!.Size) >= 300000);
    // Every step layer of the cache is an image's here: shared, so not in the cache's figure.
    assert.ok(d.BuildCache.filter((r) => r.Type === 'regular').every((r) => r.Shared));
    assert.equal(
      d.BuilderSize,
      Number(mounts[0]!.Size) + d.BuildCache.filter((r) => r.Type === 'internal' && !r.Shared).reduce((n, r) => n + Number(r.Size), 0),
    );

    // The figures add up to the du of everything: no byte counted twice or left out.
    const everything = readdirSync(blobsDir).reduce((n, b) => n + blobBytes(b), 0) + layerDirs().reduce((n, l) => n + du(join(layersDir, l)), 0);
    assert.equal(d.LayersSize + d.BuilderSize - Number(mounts[0]!.Size), everything);

    const df = ok(['system', 'df']);
    assert.match(df, new RegExp(`\\nImages +3 +2 +${humanSize(d.LayersSize)} `));
    assert.match(df, /\nContainers +2 +1 +/);
    assert.match(df, /\nLocal Volumes +2 +2 +/);
    assert.match(df, new RegExp(`\\nBuild Cache +${d.BuildCache.length} +0 +${humanSize(d.BuilderSize)} +${humanSize(d.BuilderSize)}\\n`));
    const v = ok(['system', 'df', '-v']);
    assert.match(v, /^Images space usage:\n\nREPOSITORY +TAG +IMAGE ID +CREATED +SIZE +SHARED SIZE +UNIQUE SIZE +CONTAINERS\n/);
    assert.match(v, new RegExp(`\\none +1 +${one.id.slice(7, 19)} +.+ago +${size3(Number(image(one.id).Size))} +${humanSize(base)} +`));
    assert.match(v, new RegExp(`\\ndata +1 +${humanSize(du(d.Volumes.find((x) => x.Name === 'data')!.Mountpoint as string))}\\n`));
    assert.match(v, new RegExp(`\\nBuild cache usage: ${humanSize(d.BuilderSize)}\\n\\nCACHE ID +CACHE TYPE +SIZE +CREATED +LAST USED +USAGE +SHARED\\n`));
    assert.match(v, new RegExp(`\\n[0-9a-f]{12} +exec.cachemount +${size3(Number(mounts[0]!.Size))} `));
    assert.match(v, /\nContainers space usage:\n\nCONTAINER ID +IMAGE +COMMAND +LOCAL VOLUMES +SIZE +CREATED +STATUS +NAMES\n/);
    const json = JSON.parse(ok(['system', 'df', '-v', '--format', 'json'])) as Record<string, Row[]>;
    assert.deepEqual(Object.keys(json).sort(), ['BuildCache', 'Containers', 'Images', 'Volumes']);
    assert.equal(ok(['system', 'df', '--format', '{{.Type}}:{{.Active}}']), 'Images:2\nContainers:1\nLocal Volumes:2\nBuild Cache:0\n');
  });

  it('GET /system/df gives the same numbers, and docker builder prune reaches the cache through the API', async () => {
    const before = await detail();
    const s = await startServe({ root: t.root });
    try {
      const r = await s.request('GET', '/system/df');
      assert.equal(r.status, 200);
      const api = JSON.parse(r.body.toString()) as Detail;
      assert.equal(api.LayersSize, before.LayersSize);
      assert.equal(api.BuilderSize, before.BuilderSize);
      assert.deepEqual(
        api.BuildCache.map((c) => [c.ID, c.Type, c.Size, c.Shared]),
        before.BuildCache.map((c) => [c.ID, c.Type, c.Size, c.Shared]),
      );
      assert.deepEqual(
        api.Images.map((i) => [i.Id, i.Size, i.SharedSize]),
        before.Images.map((i) => [i.Id, i.Size, i.SharedSize]),
      );
      const bad = await s.request('POST', '/build/prune?filters=%7B%22colour%22%3A%5B%22red%22%5D%7D');
      assert.equal(bad.status, 400);
      // Without -a the shared records stay; the cache mount, used by no image, goes.
      const p = s.docker(['builder', 'prune', '-f']);
      assert.equal(p.code, 0, p.stderr);
      assert.match(p.stdout, new RegExp(`Total reclaimed space: ${humanSize(before.BuilderSize).replace('.', '\\.')}\\n$`));
    } finally {
      await s.stop({ keepContainers: true });
    }
    assert.deepEqual(readdirSync(mountsDir), []);
  });

  it('builder prune -a brings the build cache to 0 B, and du agrees', async () => {
    ok(['build', '-q', '--no-cache', '-t', 'one:1', contexts[0]!]); // the cache mount again
    assert.equal(readdirSync(mountsDir).length, 1);
    const r = ok(['builder', 'prune', '-a', '-f']);
    assert.match(r, /^Deleted build cache objects:\n([0-9a-f]{25}\n)+\nTotal reclaimed space: /);
    assert.match(ok(['system', 'df']), /\nBuild Cache +0 +0 +0B +0B\n/);
    const d = await detail();
    assert.equal(d.BuilderSize, 0);
    assert.deepEqual(d.BuildCache, []);
    assert.deepEqual(readdirSync(mountsDir), []);
    assert.equal(du(mountsDir), statSync(mountsDir).size, 'an empty dir is all that is left');
    // The layers are the images' only.
    const ids = ok(['images', '-aq', '--no-trunc']).split('\n').filter(Boolean);
    assert.equal(ids.length, 4, 'bb, two, the new one:1 and the old one the runner holds');
    const imageLayers = new Set((await Promise.all(ids.map(imageParts))).flatMap((p) => p.layers.map((l) => l.slice(7))));
    assert.deepEqual(layerDirs().sort(), [...imageLayers].sort());
    // And the images still run.
    assert.equal(ok(['run', '--rm', '--network', 'none', 'two:1', 'wc', '-c', '/two']).trim(), '150000 /two');
  });

  it('system prune -a --volumes leaves only what the running container uses', async () => {
    const runner = await imageParts(ok(['inspect', '--format', '{{.Image}}', 'runner']).trim());
    const r = ok(['system', 'prune', '-a', '--volumes', '-f']);
    assert.match(r, /Deleted Containers:\n[0-9a-f]{64}\n/);
    assert.match(r, /Deleted Volumes:\n[0-9a-f]{64}\n/);
    assert.match(r, /untagged: two:1/);
    const reclaimed = /Total reclaimed space: (\S+)\n$/.exec(r)![1]!;
    assert.notEqual(reclaimed, '0B');
    const d = await detail();
    assert.deepEqual(
      d.Images.map((i) => i.Id),
      [runner.id],
    );
    assert.deepEqual(
      d.Containers.map((c) => (c.Names as string[])[0]),
      ['/runner'],
    );
    assert.deepEqual(
      d.Volumes.map((v) => v.Name),
      ['data'],
    );
    assert.deepEqual(d.BuildCache, []);
    assert.deepEqual(layerDirs().sort(), runner.layers.map((l) => l.slice(7)).sort());
    const blobs = new Set(readdirSync(blobsDir));
    const wanted = [runner.id, runner.manifest, ...runner.layers.filter((l) => existsSync(blobFile(l)))].map((x) => x.slice(7));
    assert.deepEqual([...blobs].sort(), [...new Set(wanted)].sort());
    const everything = [...blobs].reduce((n, b) => n + blobBytes(b), 0) + layerDirs().reduce((n, l) => n + du(join(layersDir, l)), 0);
    assert.equal(d.LayersSize, everything);
    assert.equal(ok(['exec', 'runner', 'cat', '/d/f']).length, 70000);
  });

  it('hostile filters and sizes are refused before anything goes', () => {
    for (const args of [
      ['builder', 'prune', '-f', '--filter', 'until=1h', '--filter', 'until=2h'],
      ['builder', 'prune', '-f', '--filter', 'shared=maybe'],
      ['builder', 'prune', '-f', '--filter', '../../etc=1'],
      ['builder', 'prune', '-f', '--keep-storage', '-5'],
      ['builder', 'prune', '-f', '--keep-storage', '1e99'],
      ['system', 'df', '--format', '{{.Nope}}'],
      ['system', 'df', '-v', '--format', '{{range .Images}}{{.Nope}}{{end}}'],
    ]) {
      const r = t.run(args);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.doesNotMatch(r.stdout, /Total reclaimed space/);
    }
  });
});

describe('the automatic cache budget', () => {
  const b = tempRoot('berth-df-budget-');
  after(() => b.cleanup());

  it('after a build over budget, the least recently used records go; what the build used stays', () => {
    assert.equal(b.run(['import', busyboxTar(), 'bb:1']).code, 0);
    const dir = (name: string, target: string) => {
      const d = join(b.root, `ctx-${name}`);
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'Dockerfile'), `FROM bb:1\nRUN --mount=type=cache,target=${target} head -c 200000 /dev/zero > ${target}/f && echo ${name} > /n\n`);
      return d;
    };
    assert.equal(b.run(['build', '-q', dir('old', '/old')]).code, 0);
    const mounts = () => readdirSync(join(b.root, 'build-cache-mounts')).length;
    assert.equal(mounts(), 1);
    // Under a generous budget nothing goes.
    const roomy = b.run(['build', '-q', dir('roomy', '/roomy')], { env: { BERTH_BUILDER_KEEP_STORAGE: '1g' } });
    assert.equal(roomy.code, 0, roomy.stderr);
    assert.equal(mounts(), 2);
    // A 100 kB budget: the older cache mounts go, the one this build used stays.
    const tight = b.run(['build', '-q', dir('new', '/new')], { env: { BERTH_BUILDER_KEEP_STORAGE: '100k' } });
    assert.equal(tight.code, 0, tight.stderr);
    assert.equal(mounts(), 1);
    const v = b.run(['system', 'df', '-v', '--format', '{{range .BuildCache}}{{.CacheType}} {{.Size}}\n{{end}}']).stdout;
    assert.equal(v.match(/^exec\.cachemount /gm)?.length, 1, v);
    assert.match(v, /^exec\.cachemount 20\dkB$/m);
    const bad = b.run(['build', '-q', dir('bad', '/bad')], { env: { BERTH_BUILDER_KEEP_STORAGE: 'plenty' } });
    assert.equal(bad.code, 1, 'a build fails with 1, as docker build does');
    assert.match(bad.stderr, /BERTH_BUILDER_KEEP_STORAGE="plenty"/);
    assert.equal(mounts(), 1, 'refused before the build began');
  });
});

describe('the build cache USAGE column', () => {
  const u = tempRoot('berth-df-usage-');
  after(() => u.cleanup());

  it('counts each record as BuildKit does: its making, then each hit; a changed step starts new records', () => {
    assert.equal(u.run(['import', busyboxTar(), 'bb:1']).code, 0);
    const dir = join(u.root, 'ctx-usage');
    mkdirSync(dir, { recursive: true });
    const dockerfile = (second: string) => writeFileSync(join(dir, 'Dockerfile'), `FROM bb:1\nRUN echo a > /a\nRUN echo ${second} > /b\nRUN echo c > /c\n`);
    const build = () => {
      const r = u.run(['build', '-q', '-t', 'usage:1', dir]);
      assert.equal(r.code, 0, r.stderr);
    };
    dockerfile('b');
    build();
    build();
    dockerfile('changed');
    build();
    const [inspect] = JSON.parse(u.run(['image', 'inspect', 'usage:1']).stdout) as Array<{ RootFS: { Layers: string[] } }>;
    const [, first, second, third] = inspect!.RootFS.Layers;
    const rows = u
      .run(['system', 'df', '-v', '--format', '{{range .BuildCache}}{{.CacheType}} {{.UsageCount}} {{.Description}}\n{{end}}'])
      .stdout.split('\n')
      .filter(Boolean)
      .map((l) => l.split(' '));
    const usage = (diffId: string) => rows.find((r) => r[0] === 'regular' && r.at(-1) === diffId)?.[1];
    assert.equal(usage(first!), '3', 'the unchanged first RUN: made, then hit twice');
    assert.equal(usage(second!), '1', 'the changed RUN: a new record');
    assert.equal(usage(third!), '1', 'the RUN after it: a new key, so a new record');
    const counts = (type: string) =>
      rows
        .filter((r) => r[0] === type)
        .map((r) => r[1])
        .sort();
    assert.deepEqual(counts('regular'), ['1', '1', '2', '2', '3'], 'the old second and third RUNs: made and hit once');
    assert.deepEqual(counts('internal'), ['1', '2'], 'the first whole build was used twice');
    // In the table, USAGE is the sixth column, as docker prints it.
    const table = u.run(['system', 'df', '-v']).stdout;
    assert.match(table, /\nCACHE ID +CACHE TYPE +SIZE +CREATED +LAST USED +USAGE +SHARED\n/);
    assert.match(table, /\n[0-9a-f]{12} +regular +\S+ +.+ ago +.+ ago +3 +(true|false)\n/);
  });
});
