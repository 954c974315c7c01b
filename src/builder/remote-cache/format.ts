/**
 * BuildKit's cache config (`application/vnd.buildkit.cacheconfig.v0`, its
 * cache/remotecache/v1 types): a list of layers, each naming its parent, and records, each a
 * cache key with the layer chain it resolves to and links to the records it was built on. A
 * berth record's digest is berth's chained step key; BuildKit's are its own LLB keys, so each
 * reads the other's file but hits only on its own keys.
 */
import { BerthError } from '../../errors/index.ts';
import type { Digest } from '../../oci/digest.ts';

export const CACHE_CONFIG_MEDIA_TYPE = 'application/vnd.buildkit.cacheconfig.v0';
/**
 * berth's own cache config in a cache index that also holds BuildKit's keys (in the config of
 * BuildKit's type, which its importer reads; it takes this one for a layer it never asks for).
 */
export const BERTH_CACHE_CONFIG_MEDIA_TYPE = 'application/vnd.dev.berth.cacheconfig.v0';
/** The image config field an inline cache lives in (its records; the layers are the image's). */
export const INLINE_CACHE_FIELD = 'moby.buildkit.cache.v0';
/**
 * Where berth puts its own inline records, in the same format, beside BuildKit's: two records
 * with the same layers in BuildKit's field make its importer load either (byResultID), and
 * berth's record, which links to nothing BuildKit knows, loads nothing ("failed to load deleted cache").
 */
export const BERTH_INLINE_CACHE_FIELD = 'dev.berth.cache.v0';
/** berth's annotation on a cache mount's layer in the cache index: the mount's id. */
export const CACHE_MOUNT_ANNOTATION = 'dev.berth.cache-mount.id';

export interface CacheLayer {
  blob: Digest;
  parent?: number;
  annotations?: { mediaType?: string; diffID?: Digest; size?: number; createdAt?: string };
}

export interface CacheRecord {
  digest: string;
  layers?: { layer: number; createdAt?: string }[];
  chains?: { layers: number[]; createdAt?: string }[];
  inputs?: { selector?: string; link: number }[][];
}

export interface CacheConfig {
  layers?: CacheLayer[];
  records?: CacheRecord[];
}

/** A layer of a record's chain: the blob, and its diffID where the cache says it. */
export interface ChainLayer {
  readonly blob: Digest;
  readonly diffId?: Digest;
  readonly mediaType?: string;
  readonly size?: number;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;
/** More layers or records than this is not a cache any build made: refused, not walked. */
const MAX_ENTRIES = 100_000;

function corrupt(why: string): BerthError {
  return new BerthError('DATA_CORRUPT', `invalid build cache config: ${why}`);
}

/**
 * The config checked as BuildKit's parser checks it (indexes in range, no loops, digests well
 * formed), then as a map from each record's key to its layer chain, bottom first.
 */
export function cacheChains(config: unknown): Map<string, ChainLayer[]> {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw corrupt('not a JSON object');
  const { layers = [], records = [] } = config as CacheConfig;
  if (!Array.isArray(layers) || !Array.isArray(records)) throw corrupt('layers and records are lists');
  if (layers.length > MAX_ENTRIES || records.length > MAX_ENTRIES) throw corrupt(`more than ${MAX_ENTRIES} layers or records`);
  for (const [i, l] of layers.entries()) {
    if (typeof l !== 'object' || l === null || typeof l.blob !== 'string' || !DIGEST.test(l.blob)) throw corrupt(`layer ${i} has no valid blob digest`);
    if (l.parent !== undefined && (!Number.isInteger(l.parent) || l.parent < -1 || l.parent >= layers.length))
      throw corrupt(`layer ${i} has an invalid parent`);
    const d = l.annotations?.diffID;
    if (d !== undefined && (typeof d !== 'string' || !DIGEST.test(d))) throw corrupt(`layer ${i} has an invalid diffID`);
  }
  const chainOf = (top: number): ChainLayer[] => {
    const out: ChainLayer[] = [];
    const seen = new Set<number>();
    // As in Go, whose `omitempty` drops a parent of 0: an absent parent is 0; a root's is -1.
    for (let i = top; i !== -1; i = layers[i]!.parent ?? 0) {
      if (!Number.isInteger(i) || i < 0 || i >= layers.length) throw corrupt(`invalid layer index ${i}`);
      if (seen.has(i)) throw corrupt('looping layer chain');
      seen.add(i);
      const l = layers[i]!;
      out.push({ blob: l.blob, diffId: l.annotations?.diffID, mediaType: l.annotations?.mediaType, size: l.annotations?.size });
    }
    return out.reverse();
  };
  const out = new Map<string, ChainLayer[]>();
  for (const [i, r] of records.entries()) {
    if (typeof r !== 'object' || r === null || typeof r.digest !== 'string') throw corrupt(`record ${i} has no digest`);
    for (const inputs of r.inputs ?? []) {
      if (!Array.isArray(inputs) || !inputs.length) throw corrupt(`record ${i} has an empty input`);
      for (const inp of inputs)
        if (!Number.isInteger(inp?.link) || inp.link < 0 || inp.link >= records.length) throw corrupt(`record ${i} links to a missing record`);
    }
    const result = r.layers?.[0];
    if (result !== undefined) out.set(r.digest, chainOf(result.layer));
    else if (r.chains?.[0]) {
      const idx = r.chains[0].layers;
      if (!Array.isArray(idx)) throw corrupt(`record ${i} has an invalid chain`);
      out.set(
        r.digest,
        idx.map((n) => {
          if (!Number.isInteger(n) || n < 0 || n >= layers.length) throw corrupt(`invalid layer index ${n}`);
          const l = layers[n]!;
          return { blob: l.blob, diffId: l.annotations?.diffID, mediaType: l.annotations?.mediaType, size: l.annotations?.size };
        }),
      );
    }
  }
  return out;
}

/** One exported step: its key, the key of the step it was built on (if exported), its layer chain. */
export interface ExportRecord {
  readonly key: string;
  readonly parentKey?: string;
  /** Instead of parentKey: per input, the keys of the records it links from (listed before it). */
  readonly inputs?: readonly (readonly string[])[];
  readonly chain: readonly { readonly blob: Digest; readonly diffId: Digest; readonly mediaType: string; readonly size: number }[];
}

/** The cache config for these records: layers shared by chains are listed once. */
export function buildCacheConfig(records: readonly ExportRecord[], createdAt: string): CacheConfig {
  const layers: CacheLayer[] = [];
  const layerIndex = new Map<string, number>();
  const recordIndex = new Map<string, number>();
  const out: CacheRecord[] = [];
  for (const r of records) {
    let parent = -1;
    for (const l of r.chain) {
      const id = `${parent}|${l.blob}`;
      let idx = layerIndex.get(id);
      if (idx === undefined) {
        idx = layers.length;
        layers.push({ blob: l.blob, parent, annotations: { mediaType: l.mediaType, diffID: l.diffId, size: l.size, createdAt } });
        layerIndex.set(id, idx);
      }
      parent = idx;
    }
    const link = r.parentKey !== undefined ? recordIndex.get(r.parentKey) : undefined;
    const links = r.inputs?.map((keys) => keys.flatMap((k) => (recordIndex.has(k) ? [{ selector: '', link: recordIndex.get(k)! }] : [])));
    const inputs = links ? (links.every((l) => l.length) ? links : undefined) : link !== undefined ? [[{ selector: '', link }]] : undefined;
    recordIndex.set(r.key, out.length);
    // A record without layers (BuildKit's FROM or a COPY's source) is a key only.
    out.push({ digest: r.key, ...(r.chain.length ? { layers: [{ layer: parent, createdAt }] } : {}), ...(inputs ? { inputs } : {}) });
  }
  return { layers, records: out };
}

/**
 * The inline form: records only, each result the index of its top layer in the image (whose
 * layers the importer lists itself, bottom first). Records whose chain is not a prefix of the
 * image's layers are left out.
 */
export function inlineRecords(
  records: readonly { key: string; parentKey?: string; diffIds: readonly Digest[] }[],
  imageDiffIds: readonly Digest[],
  createdAt: string,
): CacheRecord[] {
  const out: CacheRecord[] = [];
  const recordIndex = new Map<string, number>();
  for (const r of records) {
    if (!r.diffIds.length || r.diffIds.length > imageDiffIds.length || r.diffIds.some((d, i) => d !== imageDiffIds[i])) continue;
    const link = r.parentKey !== undefined ? recordIndex.get(r.parentKey) : undefined;
    recordIndex.set(r.key, out.length);
    out.push({ digest: r.key, layers: [{ layer: r.diffIds.length - 1, createdAt }], ...(link !== undefined ? { inputs: [[{ selector: '', link }]] } : {}) });
  }
  return out;
}
