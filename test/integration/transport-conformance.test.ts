/**
 * One contract, every transport: each ImageSource/ImageSink pair (the local store, an image
 * archive, a registry) copies a two-layer image, config and all, from every source into
 * every sink and back, by the one copy loop (image/copy.ts), and keeps its digests; and
 * every sink refuses a missing blob, a tampered blob, and a manifest over the size limit.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';
import { BerthError } from '../../src/errors/index.ts';
import { openEngine, type Engine } from '../../src/engine.ts';
import { archiveImages, unpackArchive } from '../../src/image/archive-read.ts';
import { ArchiveImageSink, ArchiveWriter } from '../../src/image/archive-write.ts';
import { copyImage } from '../../src/image/copy.ts';
import { StoreImageSink, StoreImageSource } from '../../src/image/store-transport.ts';
import type { ImageSink, ImageSource, RawManifest } from '../../src/image/transfer.ts';
import type { Digest } from '../../src/oci/digest.ts';
import { sha256 } from '../../src/sys/crypto.ts';
import { MAX_DOCUMENT_BYTES } from '../../src/oci/limits.ts';
import { MediaType } from '../../src/oci/mediatypes.ts';
import type { Descriptor } from '../../src/oci/schema.ts';
import { parseReference } from '../../src/reference/index.ts';
import { RegistryClient, RegistrySink, RegistrySource } from '../../src/registry/index.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';

/** A tar of the given files, as a layer. */
async function tarOf(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, body] of Object.entries(files)) pack.entry({ name, mode: 0o644, mtime: new Date(0) }, body);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const desc = (mediaType: string, bytes: Buffer): Descriptor => ({ mediaType, digest: sha256(bytes), size: bytes.length });

/** An image held in memory: the seed every transport is filled from. */
class MemorySource implements ImageSource {
  readonly description = 'memory';
  constructor(
    readonly root: RawManifest,
    readonly blobs: Map<Digest, Buffer>,
  ) {}
  async rootManifest(): Promise<RawManifest> {
    return this.root;
  }
  async manifest(digest: Digest): Promise<RawManifest> {
    const bytes = this.blobs.get(digest);
    if (!bytes) throw new BerthError('NOT_FOUND', `manifest ${digest} not found`);
    return { digest, bytes, mediaType: (JSON.parse(bytes.toString()) as { mediaType: string }).mediaType };
  }
  async openBlob(d: Descriptor, opts: { start?: number } = {}): Promise<Readable> {
    const bytes = this.blobs.get(d.digest);
    if (!bytes) throw new BerthError('NOT_FOUND', `blob ${d.digest} not found`);
    return Readable.from([bytes.subarray(opts.start ?? 0)]);
  }
}

interface TestImage {
  readonly source: MemorySource;
  readonly manifest: RawManifest;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
}

/** A two-layer linux/amd64 image with an OCI index over it. `salt` makes each one distinct. */
async function testImage(salt: string): Promise<TestImage> {
  const tars = [await tarOf({ 'a.txt': `a ${salt}\n` }), await tarOf({ 'b.txt': `b ${salt}\n`, 'dir/c.txt': 'c\n' })];
  const gz = tars.map((t) => gzipSync(t));
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/bin'] },
      rootfs: { type: 'layers', diff_ids: tars.map((t) => sha256(t)) },
      history: [],
    }),
  );
  const layers = gz.map((g) => desc(MediaType.OciLayerGzip, g));
  const manifestBytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: desc(MediaType.OciConfig, config), layers }));
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: [{ ...desc(MediaType.OciManifest, manifestBytes), platform: { architecture: 'amd64', os: 'linux' } }],
    }),
  );
  const blobs = new Map<Digest, Buffer>([config, manifestBytes, ...gz].map((b) => [sha256(b), b]));
  const manifest = { digest: sha256(manifestBytes), bytes: manifestBytes, mediaType: MediaType.OciManifest };
  return {
    source: new MemorySource({ digest: sha256(index), bytes: index, mediaType: MediaType.OciIndex }, blobs),
    manifest,
    config: desc(MediaType.OciConfig, config),
    layers,
  };
}

/** A transport: a sink that writes an image under a name, and a source that reads it back. */
interface Transport {
  readonly name: string;
  /** The sink checks each blob against its digest (an archive's reader does it instead). */
  readonly verifies: boolean;
  /** The manifest's bytes stay as they are (a docker-archive is read back with one of its own making). */
  readonly keepsManifest: boolean;
  write(tag: string): { sink: ImageSink; done(): Promise<void> };
  read(tag: string): Promise<ImageSource>;
}

let engine: Engine;
let registry: TestRegistry;
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'berth-transport-'));
  dirs.push(d);
  return d;
};

before(async () => {
  engine = await openEngine({ root: tempDir() });
  registry = await startRegistry();
});
after(() => {
  registry?.stop();
  engine?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const storeTransport: Transport = {
  name: 'store',
  verifies: true,
  keepsManifest: true,
  write(tag) {
    const sink = new StoreImageSink(engine, { tags: [`example.test/conformance:${tag}`] });
    return { sink, done: async () => undefined };
  },
  async read(tag) {
    const id = engine.images.resolveTag(`example.test/conformance:${tag}`);
    const record = id ? engine.images.get(id) : undefined;
    if (!record) throw new BerthError('NOT_FOUND', `no image tagged ${tag} in the store`);
    return new StoreImageSource(engine, record);
  },
};

const archives = new Map<string, Buffer>();
const archiveTransport: Transport = {
  name: 'archive',
  verifies: false,
  keepsManifest: false,
  write(tag) {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const writer = new ArchiveWriter(out);
    return {
      sink: new ArchiveImageSink(writer, [`example.test/conformance:${tag}`]),
      done: async () => {
        await writer.finish();
        archives.set(tag, Buffer.concat(chunks));
      },
    };
  },
  async read(tag) {
    const bytes = archives.get(tag);
    if (!bytes) throw new BerthError('NOT_FOUND', `no archive for ${tag}`);
    const dir = tempDir();
    await unpackArchive(Readable.from([bytes]), dir);
    const [image] = await archiveImages(dir);
    return image!.source;
  },
};

const registryRef = (tag: string) => parseReference(`${registry.host}/conformance/image:${tag}`);
const registryTransport: Transport = {
  name: 'registry',
  verifies: true,
  keepsManifest: true,
  write(tag) {
    return { sink: new RegistrySink(new RegistryClient(registry.host), registryRef(tag)), done: async () => undefined };
  },
  async read(tag) {
    return new RegistrySource(new RegistryClient(registry.host), registryRef(tag));
  },
};

const transports = [storeTransport, archiveTransport, registryTransport];

async function copyInto(source: ImageSource, t: Transport, tag: string) {
  const w = t.write(tag);
  const result = await copyImage(source, w.sink);
  await w.done();
  return result;
}

/** The manifest, config and layer digests a source serves at its root (an index resolved). */
async function digestsOf(source: ImageSource) {
  const { images } = await copyImage(source, {
    description: 'nowhere',
    hasBlob: async () => true,
    putBlob: async () => undefined,
    putManifest: async () => undefined,
  });
  const img = images[0]!;
  return { manifest: img.manifest.digest, config: img.parsed.config.digest, layers: img.parsed.layers.map((l) => l.digest) };
}

let n = 0;
const nextTag = () => `t${++n}`;

describe('image transports: every source into every sink', () => {
  for (const from of transports) {
    for (const to of transports) {
      it(`${from.name} → ${to.name} → back keeps the config and layer digests`, async () => {
        const image = await testImage(`${from.name}-${to.name}`);
        const a = nextTag();
        await copyInto(image.source, from, a);
        const source = await from.read(a);
        const fromDigests = await digestsOf(source);
        assert.equal(fromDigests.config, image.config.digest);
        assert.deepEqual(
          fromDigests.layers,
          image.layers.map((l) => l.digest),
        );
        if (from.keepsManifest) assert.equal(fromDigests.manifest, image.manifest.digest, 'the index resolves to its image manifest, bytes kept');

        const b = nextTag();
        await copyInto(source, to, b);
        const back = await to.read(b);
        const got = await digestsOf(back);
        assert.equal(got.config, image.config.digest);
        assert.deepEqual(
          got.layers,
          image.layers.map((l) => l.digest),
        );
        if (from.keepsManifest && to.keepsManifest) assert.equal(got.manifest, image.manifest.digest);
        // And back into the first transport, which then holds what it started with.
        const c = nextTag();
        await copyInto(back, from, c);
        assert.deepEqual(
          (await digestsOf(await from.read(c))).layers,
          image.layers.map((l) => l.digest),
        );
      });
    }
  }

  it('an index copied with all its platforms keeps its digest where the sink keeps indexes (registry)', async () => {
    const image = await testImage('index');
    const tag = nextTag();
    const w = registryTransport.write(tag);
    await copyImage(image.source, w.sink, { allPlatforms: true });
    const root = await (await registryTransport.read(tag)).rootManifest();
    assert.equal(root.digest, image.source.root.digest);
    assert.equal(root.mediaType, MediaType.OciIndex);
  });
});

describe('image transports: every sink refuses what is broken', () => {
  for (const to of transports) {
    it(`${to.name}: a missing blob fails the copy, and nothing is readable under the name`, async () => {
      const image = await testImage(`missing-${to.name}`);
      image.source.blobs.delete(image.layers[1]!.digest);
      const tag = nextTag();
      await assert.rejects(
        copyInto(image.source, to, tag),
        (e) => e instanceof BerthError && e.code === 'NOT_FOUND' && e.message.includes(image.layers[1]!.digest),
      );
      await assert.rejects(async () => digestsOf(await to.read(tag)));
    });

    it(`${to.name}: a tampered blob is refused${to.verifies ? '' : ' when the archive is read'}`, async () => {
      const image = await testImage(`tampered-${to.name}`);
      const layer = image.source.blobs.get(image.layers[0]!.digest)!;
      const bad = Buffer.from(layer);
      bad[bad.length - 5]! ^= 0xff; // same size, other bytes
      image.source.blobs.set(image.layers[0]!.digest, bad);
      const tag = nextTag();
      if (to.verifies) {
        await assert.rejects(
          copyInto(image.source, to, tag),
          (e) => e instanceof BerthError && /DATA_CORRUPT|INVALID|UNAVAILABLE/.test(e.code) && /digest|match|hash/i.test(e.message),
        );
        await assert.rejects(async () => digestsOf(await to.read(tag)));
      } else {
        await copyInto(image.source, to, tag);
        await assert.rejects(copyInto(await to.read(tag), storeTransport, nextTag()), (e) => e instanceof BerthError && e.code === 'DATA_CORRUPT');
      }
    });

    it(`${to.name}: a manifest over the size limit is refused before it is read`, async () => {
      const image = await testImage(`big-${to.name}`);
      const index = JSON.parse(image.source.root.bytes.toString()) as { manifests: Array<{ size: number }> };
      index.manifests[0]!.size = MAX_DOCUMENT_BYTES + 1;
      const bytes = Buffer.from(JSON.stringify(index));
      const source = new MemorySource({ digest: sha256(bytes), bytes, mediaType: MediaType.OciIndex }, image.source.blobs);
      await assert.rejects(copyInto(source, to, nextTag()), (e) => e instanceof BerthError && e.code === 'DATA_CORRUPT' && /more than/.test(e.message));
    });
  }

  it('registry: a source refuses a manifest whose body is over the size limit', async () => {
    // docker-registry refuses such a manifest itself: a server of the test's own serves one.
    const body = Buffer.alloc(MAX_DOCUMENT_BYTES + 1, 0x20);
    const server = createServer((req, res) => {
      if (req.url?.includes('/manifests/')) res.writeHead(200, { 'Content-Type': MediaType.OciManifest, 'Content-Length': body.length }).end(body);
      else res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
      const source = new RegistrySource(new RegistryClient(host), parseReference(`${host}/conformance/huge:1`));
      await assert.rejects(source.rootManifest(), (e) => e instanceof BerthError && /larger than 4 MiB/.test(e.message));
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
