/**
 * BuildKit's keys as berth follows them through a whole build (builder/llb-view.ts): a
 * multi-stage Dockerfile with ENV set twice, ARG, USER, SHELL, multi-source COPY, COPY . with
 * a .dockerignore, exec-form RUN and a relative WORKDIR under USER, exported to a local
 * cache. Its BuildKit records are those docker 20.10's BuildKit wrote for the same Dockerfile
 * and context (checked by hand with the private dockerd; test/interop covers the hit itself).
 * No dockerd here: only the FROM record, the image's chain ID, depends on the base image.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';
import { writeBuildkitKeysContext } from '../helpers/buildkit-keys-context.ts';

/** docker's records, by the index of their result layer in its image (none: a key only). */
const DOCKER = {
  'sha256:393737457d5ef6205b0f10cb746dcd4f1fac622590e3abbe4c1bc79d2ea3bf64': 1, // RUN echo base (stage base)
  'sha256:efaf676d3739284a8e9eaff25af58fd11f811d6484e230d2278edcb7eb0c17db': 2, // RUN id, as USER 1000
  'sha256:e20251ca0b442f096a9fdd4d54349349ed92744525049ba1f7d999528f998ab0': 3, // COPY f1 f2 /multi/
  'sha256:ffc4616f37f216797d989a7da4c9d282020dcfe00367819a51da1011db9228d8': 4, // COPY f1 f2 d /three/
  'sha256:4be93e6dab0a2ce34020cb661ba4379d414001305a54d9b432de1eb563523f7c': 5, // COPY . /all
  'sha256:e7ca2e6482d2bafadcebbc26c42cb103996ee0d4f4e95d22aa93a75c1bd2dcd4': 6, // RUN under SHELL -ec
  'sha256:76aab8953b34dd996931ed20aa4bfeb2d507cd829341ce1c960807781443e5a5': 7, // RUN ["/bin/echo", …]
  'sha256:14d81870af829fe6dd2357bfb3885d598093bbbe6664ce93b2d5f3470f87d7e0': 8, // WORKDIR rel (owner root)
  'sha256:8f1b1f94cfa73d3461da400c0957d971ecd91aac9f24ab3b3f76b2c09cb5553f': 9, // RUN pwd
  'sha256:c13d88371b7b94fd6d3296e5f265c7c809e21f864db5bd7b3be85e58883b0564': undefined, // f1 f2
  'sha256:870462dc542d84a2f2bc1870730014b14cbd497f40844e87a6a282c8bf081af6': undefined, // f1 f2 d
  'sha256:f5c1491b86895409c6d97102f0e371643922dc29b26b2bf3f072a3e978026ea0': undefined, // the context, f3 ignored
} as Record<string, number | undefined>;

describe("BuildKit's keys through a build", () => {
  const t = tempRoot('berth-bk-keys-');
  const work = mkdtempSync(join(tmpdir(), 'berth-bk-keys-'));
  after(() => {
    t.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  it("a build's exported BuildKit records are docker's, each with the same layer", () => {
    // The FROM line names the image as docker's build did: the context's checksum covers the Dockerfile.
    assert.equal(t.run(['import', busyboxTar(), '127.0.0.1:5077/bb:base']).code, 0);
    const ctx = join(work, 'ctx');
    writeBuildkitKeysContext(ctx);
    const dest = join(work, 'cache');
    const r = t.run(['build', '--progress', 'plain', '--network', 'none', '--cache-to', `type=local,dest=${dest}`, '-t', 'keys:1', ctx]);
    assert.equal(r.code, 0, r.stderr);
    const blob = (d: string) => JSON.parse(readFileSync(join(dest, 'blobs', 'sha256', d.slice(7)), 'utf8'));
    const index = blob(JSON.parse(readFileSync(join(dest, 'index.json'), 'utf8')).manifests[0].digest) as {
      manifests: { mediaType: string; digest: string }[];
    };
    const config = blob(index.manifests.find((m) => m.mediaType === 'application/vnd.buildkit.cacheconfig.v0')!.digest) as {
      layers: { blob: string; parent?: number }[];
      records: { digest: string; layers?: { layer: number }[] }[];
    };
    // A record's result as its chain's length: docker's layer index + 1.
    const depth = (i: number): number => (i < 0 ? 0 : 1 + depth(config.layers[i]!.parent ?? 0));
    const got = new Map(config.records.map((rec) => [rec.digest, rec.layers?.[0] ? depth(rec.layers[0].layer) - 1 : undefined]));
    for (const [digest, layer] of Object.entries(DOCKER)) {
      assert.ok(got.has(digest), `no record ${digest}`);
      assert.equal(got.get(digest), layer, digest);
    }
    // The rest is the FROM record: one, a key only.
    assert.equal(config.records.length, Object.keys(DOCKER).length + 1);
  });
});
