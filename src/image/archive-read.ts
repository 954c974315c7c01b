/**
 * Reading image archives (`load`): a docker-archive (manifest.json, as `docker save`
 * writes) or an OCI image layout (index.json + oci-layout), as a tar or a directory.
 * A tar is first unpacked into a private temp dir — plain files only, names checked —
 * because its entries come in any order and manifest.json is often last.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { BerthError, errnoCode } from '../errors/index.ts';
import { decompressAuto } from '../layer/index.ts';
import { isGzip as isGzipHead } from '../layer/magic.ts';
import { isDigest, type Digest } from '../oci/digest.ts';
import { isIndexMediaType, MediaType } from '../oci/mediatypes.ts';
import { indexSchema, type Descriptor } from '../oci/schema.ts';
import { createSha256, digestOfHash } from '../sys/crypto.ts';
import type { ImageSource, RawManifest } from './transfer.ts';

export async function unpackArchive(input: Readable, dir: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
  const extract = tar.extract();
  const done = pipeline(input, decompressAuto(), extract, { signal: opts.signal });
  // A truncated input fails the pipeline while an entry is half read: every wait on an
  // entry races `failed`, or it would wait for the missing bytes forever.
  let current: { destroy(e?: Error): void } | undefined;
  done.catch(() => undefined); // the loop reports the failure
  // tar-stream is a streamx stream: without its own error listener a failure is uncaught.
  const failed = new Promise<never>((_, reject) =>
    extract.on('error', (e: Error) => {
      current?.destroy(e);
      reject(e);
    }),
  );
  failed.catch(() => undefined);
  const corrupt = (e: unknown) =>
    e instanceof BerthError ? e : new BerthError('DATA_CORRUPT', `cannot read the image archive: ${(e as Error).message}`, { cause: e });
  try {
    for await (const entry of extract) {
      current = entry;
      const name = normalize(entry.header.name).replace(/^\.\/+/, '');
      if (name.startsWith('..') || name.startsWith('/')) {
        entry.resume();
        throw new BerthError('UNSAFE_PATH', `archive entry "${entry.header.name}" points outside the archive`);
      }
      if (entry.header.type === 'file' && name !== '.') {
        await mkdir(dirname(join(dir, name)), { recursive: true });
        await Promise.race([pipeline(entry, createWriteStream(join(dir, name))), failed]);
      } else {
        entry.resume();
      }
    }
    await done;
  } catch (e) {
    extract.destroy();
    throw corrupt(e);
  }
}

export interface ArchiveImage {
  readonly source: ImageSource;
  /** Names as written in the archive (docker-archive RepoTags or OCI ref annotations). */
  readonly tags: readonly string[];
}

async function fileDigest(path: string): Promise<{ digest: Digest; size: number }> {
  const h = createSha256();
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return { digest: digestOfHash(h), size: (await stat(path)).size };
}

async function readJson(path: string, what: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') throw new BerthError('DATA_CORRUPT', `the archive has no ${what}`);
    throw new BerthError('DATA_CORRUPT', `the archive's ${what} is not valid JSON`, { cause: e });
  }
}

function safeJoin(dir: string, rel: string): string {
  const n = normalize(rel);
  if (n.startsWith('..') || n.startsWith('/')) throw new BerthError('UNSAFE_PATH', `archive path "${rel}" points outside the archive`);
  return join(dir, n);
}

/** Serves blobs from files: by digest under blobs/, or by the explicit paths of a docker-archive. */
class DirSource implements ImageSource {
  constructor(
    readonly description: string,
    private readonly dir: string,
    private readonly root: RawManifest,
    private readonly paths: ReadonlyMap<string, string> = new Map(),
  ) {}

  async rootManifest(): Promise<RawManifest> {
    return this.root;
  }

  async manifest(digest: Digest): Promise<RawManifest> {
    const bytes = await readFile(this.blobPath(digest));
    return { digest, bytes, mediaType: (JSON.parse(bytes.toString()) as { mediaType?: string }).mediaType ?? MediaType.OciManifest };
  }

  private blobPath(digest: Digest): string {
    return this.paths.get(digest) ?? join(this.dir, 'blobs', 'sha256', digest.slice(7));
  }

  async openBlob(desc: Descriptor, opts: { start?: number } = {}): Promise<Readable> {
    const p = this.blobPath(desc.digest);
    await stat(p).catch(() => {
      throw new BerthError('DATA_CORRUPT', `the archive is missing blob ${desc.digest}`);
    });
    return createReadStream(p, { highWaterMark: 1 << 20, start: opts.start });
  }
}

async function isGzip(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(2);
    await fh.read(b, 0, 2, 0);
    return isGzipHead(b);
  } finally {
    await fh.close();
  }
}

async function dockerArchiveImages(dir: string): Promise<ArchiveImage[]> {
  const entries = (await readJson(join(dir, 'manifest.json'), 'manifest.json')) as Array<{ Config: string; RepoTags?: string[] | null; Layers: string[] }>;
  if (!Array.isArray(entries)) throw new BerthError('DATA_CORRUPT', 'manifest.json is not a list');
  const images: ArchiveImage[] = [];
  for (const e of entries) {
    const paths = new Map<string, string>();
    const configPath = safeJoin(dir, e.Config);
    const config = await fileDigest(configPath);
    paths.set(config.digest, configPath);
    const layers: Descriptor[] = [];
    for (const l of e.Layers) {
      const p = safeJoin(dir, l);
      const d = await fileDigest(p);
      paths.set(d.digest, p);
      layers.push({ mediaType: (await isGzip(p)) ? MediaType.DockerLayerGzip : MediaType.DockerLayer, digest: d.digest, size: d.size });
    }
    const manifest = {
      schemaVersion: 2,
      mediaType: MediaType.DockerManifest,
      config: { mediaType: MediaType.DockerConfig, digest: config.digest, size: config.size },
      layers,
    };
    const bytes = Buffer.from(JSON.stringify(manifest));
    const digest = digestOfHash(createSha256().update(bytes));
    images.push({
      source: new DirSource(`docker-archive image ${config.digest.slice(7, 19)}`, dir, { digest, bytes, mediaType: MediaType.DockerManifest }, paths),
      tags: e.RepoTags ?? [],
    });
  }
  return images;
}

async function ociLayoutImages(dir: string): Promise<ArchiveImage[]> {
  const index = indexSchema.parse(await readJson(join(dir, 'index.json'), 'index.json'));
  const images: ArchiveImage[] = [];
  for (const m of index.manifests) {
    if (!isDigest(m.digest)) throw new BerthError('DATA_CORRUPT', `index.json names an invalid digest ${m.digest}`);
    const bytes = await readFile(join(dir, 'blobs', 'sha256', m.digest.slice(7))).catch(() => {
      throw new BerthError('DATA_CORRUPT', `the archive is missing manifest ${m.digest}`);
    });
    const name = m.annotations?.['io.containerd.image.name'] ?? m.annotations?.['org.opencontainers.image.ref.name'];
    images.push({
      source: new DirSource(`OCI image ${m.digest.slice(7, 19)}`, dir, { digest: m.digest, bytes, mediaType: m.mediaType }),
      tags: name ? [name] : [],
    });
  }
  return images;
}

/**
 * Lists the images of an unpacked archive; docker-archive's manifest.json wins when both exist,
 * unless index.json names a multi-platform image (an index), which only the OCI layout keeps whole.
 */
export async function archiveImages(dir: string): Promise<ArchiveImage[]> {
  if (
    (await stat(join(dir, 'manifest.json')).then(
      () => true,
      () => false,
    )) &&
    !(await namesAnIndex(dir))
  )
    return dockerArchiveImages(dir);
  if (
    await stat(join(dir, 'index.json')).then(
      () => true,
      () => false,
    )
  )
    return ociLayoutImages(dir);
  throw new BerthError('DATA_CORRUPT', 'the input is not an image archive: it has neither manifest.json nor index.json', {
    hint: 'berth load reads what `docker save` or `berth save` writes; use `berth import` for a rootfs tarball',
  });
}

async function namesAnIndex(dir: string): Promise<boolean> {
  const doc = await readJson(join(dir, 'index.json'), 'index.json').catch(() => undefined);
  const parsed = indexSchema.safeParse(doc);
  return parsed.success && parsed.data.manifests.some((m) => isIndexMediaType(m.mediaType));
}
