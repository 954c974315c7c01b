/**
 * One build's imported and exported caches: the RemoteCache the builder calls (types.ts),
 * and the export once the build is done. A cache that cannot be read, or a layer that does
 * not verify, is a warning and a miss: the build goes on cold, as BuildKit's does.
 */
import { isBerthError } from '../../errors/index.ts';
import { parseReference } from '../../reference/index.ts';
import type { Credentials } from '../../registry/index.ts';
import type { LocalLayer } from '../../image/commit.ts';
import { hasLayerBlob } from '../../image/layer-blob.ts';
import type { Digest } from '../../oci/digest.ts';
import { MediaType } from '../../oci/mediatypes.ts';
import type { Descriptor, ImageConfig } from '../../oci/schema.ts';
import type { CachedLayer } from '../cache.ts';
import { type CacheBackend, LocalCacheBackend, RegistryCacheBackend } from './backends.ts';
import { exportCache, type RecordedStep } from './export.ts';
import { BERTH_INLINE_CACHE_FIELD, INLINE_CACHE_FIELD, inlineRecords } from './format.ts';
import { type LlbNode, llbExportRecords, llbInlineRecords } from './buildkit-keys.ts';
import { historyMatch, type ImportedCache, loadCache } from './imports.ts';
import { restoreMount } from './mounts.ts';
import type { CacheExportSpec, CacheImportSpec } from './options.ts';
import type { LayerStep, RemoteCache, RemoteCacheStores } from './types.ts';

/** A registry's credentials for this build: `null` for none; undefined, docker's config file. */
export type CacheCredentials = (registry: string) => Credentials | null | undefined;

function backendOf(spec: CacheImportSpec | Exclude<CacheExportSpec, { type: 'inline' }>, credentials?: CacheCredentials): CacheBackend {
  if (spec.type === 'registry') return new RegistryCacheBackend(spec.ref, credentials?.(parseReference(spec.ref).registry));
  return 'src' in spec ? new LocalCacheBackend(spec.src, spec.tag, spec.digest) : new LocalCacheBackend(spec.dest, spec.tag);
}

const message = (e: unknown) => (isBerthError(e) || e instanceof Error ? e.message : String(e));

export class BuildCacheSession implements RemoteCache {
  private readonly steps = new Map<string, RecordedStep>();
  /** The key of the step whose layers are these (diffIDs joined): a record's parent link. */
  private readonly keyOfChain = new Map<string, string>();
  private readonly mountsUsed = new Map<string, string>();
  private readonly restoring = new Map<string, Promise<void>>();
  /** BuildKit's record of each image's last keyed step, by the image's diffIDs (finishConfig gives it, export reads it). */
  private readonly llbOfImage = new Map<string, LlbNode>();
  /** What was fetched and from where, for the build's output. */
  readonly hits: { key: string; from: string }[] = [];

  private constructor(
    private readonly stores: RemoteCacheStores,
    private readonly imports: readonly ImportedCache[],
    private readonly exports: readonly CacheExportSpec[],
    private readonly warn: (text: string) => void,
  ) {}

  static async open(
    stores: RemoteCacheStores,
    opts: { from: readonly CacheImportSpec[]; to: readonly CacheExportSpec[]; warn: (text: string) => void; credentials?: CacheCredentials },
  ): Promise<BuildCacheSession> {
    const imports: ImportedCache[] = [];
    for (const spec of opts.from) {
      const backend = backendOf(spec, opts.credentials);
      try {
        const cache = await loadCache(backend);
        if (cache) imports.push(cache);
        else opts.warn(`cache ${backend.description} not found; building without it`);
      } catch (e) {
        opts.warn(`failed to import cache ${backend.description}: ${message(e)}; building without it`);
      }
    }
    return new BuildCacheSession(stores, imports, opts.to, opts.warn);
  }

  /** An inline cache changes the image config: the builder keys its config reuse on it. */
  get inline(): boolean {
    return this.exports.some((e) => e.type === 'inline');
  }

  /** Any export writes BuildKit's keys too: the builder follows them (llb-view.ts) only then. */
  get buildkitKeys(): boolean {
    return this.exports.length > 0;
  }

  async lookup(step: LayerStep): Promise<CachedLayer | undefined> {
    const parents = step.parents.map((l) => l.diffId);
    for (const imp of this.imports) {
      const chain = imp.chains.get(step.key);
      if (chain && chain.length === parents.length + 1 && chain.every((l, i) => l.diffId && (i === parents.length || l.diffId === parents[i]))) {
        const top = chain[chain.length - 1]!;
        const listed = imp.blobs.get(top.blob);
        const size = top.size ?? listed?.size;
        if (size !== undefined) {
          const desc = { mediaType: top.mediaType ?? listed?.mediaType ?? MediaType.OciLayerGzip, digest: top.blob, size };
          const got = await this.fetchLayer(imp, desc, top.diffId!);
          if (got) return got;
        }
      }
      if (imp.image && step.kind === 'run') {
        const n = historyMatch(imp.image, parents, step.history);
        if (n !== undefined) {
          const got = await this.fetchLayer(imp, imp.image.layers[n]!, imp.image.diffIds[n]!);
          if (got) return got;
        }
      }
    }
    return undefined;
  }

  /** The layer, from the store if it is there, else downloaded (verified by digest, then by diffID as it unpacks). */
  private async fetchLayer(imp: ImportedCache, desc: Descriptor, diffId: Digest): Promise<CachedLayer | undefined> {
    const { content, images, snapshots, lease } = this.stores;
    lease.add('layer', [diffId]);
    lease.add('blob', [desc.digest]);
    try {
      if ((await snapshots.stat(diffId)) && (await hasLayerBlob(this.stores, diffId))) return { diffId, size: images.layerSize(diffId) ?? 0 };
      await content.put(await imp.backend.openBlob(desc), { expected: desc.digest, expectedSize: desc.size });
      const { size } = await snapshots.unpackLayer(diffId, () => content.open(desc.digest));
      images.putLayer(diffId, size, { digest: desc.digest, mediaType: desc.mediaType, size: desc.size });
      this.hits.push({ key: diffId, from: imp.backend.description });
      return { diffId, size };
    } catch (e) {
      this.warn(`cache ${imp.backend.description}: layer ${desc.digest} not used: ${message(e)}`);
      return undefined;
    }
  }

  record(step: LayerStep, layer: CachedLayer): void {
    const chain = [...step.parents.map((l) => l.diffId), layer.diffId];
    const parentKey = this.keyOfChain.get(chain.slice(0, -1).join(','));
    this.steps.set(step.key, { key: step.key, parentKey, diffIds: chain });
    this.keyOfChain.set(chain.join(','), step.key);
  }

  async cacheMount(id: string, dir: string, sharing: 'shared' | 'private' | 'locked'): Promise<void> {
    // Only shared and locked mounts are exported: a private one is one step's scratch copy.
    if (sharing !== 'private') this.mountsUsed.set(id, dir);
    const imp = this.imports.find((i) => i.mounts.has(id));
    if (!imp) return;
    let p = this.restoring.get(id);
    if (!p) {
      p = restoreMount(this.stores, imp.backend, imp.mounts.get(id)!, dir).catch((e) =>
        this.warn(`cache mount ${id} not restored from ${imp.backend.description}: ${message(e)}`),
      );
      this.restoring.set(id, p);
    }
    await p;
  }

  finishConfig(config: ImageConfig, layers: readonly LocalLayer[], llb?: LlbNode): ImageConfig {
    const diffIds = layers.map((l) => l.diffId);
    if (llb) this.llbOfImage.set(diffIds.join(','), llb);
    if (!this.inline) return config;
    const createdAt = new Date().toISOString();
    const own = inlineRecords([...this.steps.values()], diffIds, createdAt);
    const buildkit = llb ? llbInlineRecords(llb, diffIds, createdAt, 0) : [];
    // Go's encoding/json writes a []byte as base64: the field is the records' JSON, so encoded.
    const field = (records: readonly unknown[]) => Buffer.from(JSON.stringify(records)).toString('base64');
    return {
      ...config,
      [BERTH_INLINE_CACHE_FIELD]: field(own),
      ...(buildkit.length ? { [INLINE_CACHE_FIELD]: field(buildkit) } : {}),
    } as ImageConfig;
  }

  /** Writes every --cache-to but the inline one (which is in the image already). */
  async export(finalLayers: readonly LocalLayer[], progress: (text: string) => void): Promise<void> {
    for (const spec of this.exports) {
      if (spec.type === 'inline') continue;
      const backend = backendOf(spec);
      const finalIds = finalLayers.map((l) => l.diffId);
      // mode=min: the steps of the final image's own layers; mode=max: every stage's.
      const steps = [...this.steps.values()].filter((s) => spec.mode === 'max' || s.diffIds.every((d, i) => d === finalIds[i]));
      const mounts = spec.mounts ? this.mountsUsed : new Map<string, string>();
      // BuildKit's records: those of the final stage and the stages it stands on (mode=max adds no other stage's).
      const llb = this.llbOfImage.get(finalIds.join(','));
      const digest = await exportCache(this.stores, backend, steps, mounts, llb ? llbExportRecords(llb) : []);
      progress(`exporting cache to ${backend.description}: ${steps.length} records, ${mounts.size} cache mounts, index ${digest}`);
    }
  }
}
