/**
 * A registry repository as an ImageSink (push): blobs the registry already has are skipped,
 * blobs in another repository of the same registry are cross-mounted, the rest are
 * uploaded (monolithic, or in chunks for big layers); manifests go up by digest, and the
 * root once more by tag.
 */
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { BerthError } from '../errors/index.ts';
import type { ImageSink, RawManifest, TransferOptions } from '../image/transfer.ts';
import type { Descriptor } from '../oci/schema.ts';
import type { Reference } from '../reference/index.ts';
import { discard } from './body.ts';
import { registryError, type RegistryClient } from './http.ts';
import { settings } from '../config/index.ts';

/** Blobs above this size go up in PATCH pieces of this size (BERTH_UPLOAD_CHUNK). */
const CHUNK = settings().uploadChunk;

export class RegistrySink implements ImageSink {
  readonly description: string;
  private readonly scope: string;

  constructor(
    private readonly client: RegistryClient,
    private readonly ref: Reference,
    /** Repositories of this registry that may hold the blobs already (cross-repository mount). */
    private readonly mountFrom: readonly string[] = [],
  ) {
    this.description = `${ref.registry}/${ref.repository}`;
    this.scope = `repository:${ref.repository}:pull,push`;
  }

  async hasBlob(desc: Descriptor, opts: TransferOptions = {}): Promise<boolean> {
    const res = await this.client.request('HEAD', `/v2/${this.ref.repository}/blobs/${desc.digest}`, { scope: this.scope, signal: opts.signal });
    discard(res);
    return res.statusCode === 200;
  }

  /** The upload's location, or undefined when the registry mounted the blob from another repository. */
  private async startUpload(desc: Descriptor, opts: TransferOptions): Promise<string | undefined> {
    for (const from of this.mountFrom) {
      if (from === this.ref.repository) continue;
      const res = await this.client.request('POST', `/v2/${this.ref.repository}/blobs/uploads/?mount=${desc.digest}&from=${encodeURIComponent(from)}`, {
        body: Buffer.alloc(0),
        scope: `${this.scope} repository:${from}:pull`,
        signal: opts.signal,
      });
      discard(res);
      if (res.statusCode === 201) return undefined;
      if (res.statusCode === 202 && res.headers.location) return res.headers.location;
    }
    const res = await this.client.request('POST', `/v2/${this.ref.repository}/blobs/uploads/`, {
      body: Buffer.alloc(0),
      scope: this.scope,
      signal: opts.signal,
    });
    if (res.statusCode !== 202 || !res.headers.location) throw await registryError(res, `upload to ${this.description}`);
    discard(res);
    return res.headers.location;
  }

  // biome-ignore lint/suspicious/noConfusingVoidType: the ImageSink contract (image/transfer.ts)
  async putBlob(desc: Descriptor, open: (start?: number) => Promise<Readable>, opts: TransferOptions = {}): Promise<void | 'mounted'> {
    let location = await this.startUpload(desc, opts);
    if (location === undefined) return 'mounted';
    const withDigest = (loc: string) => `${loc}${loc.includes('?') ? '&' : '?'}digest=${encodeURIComponent(desc.digest)}`;
    if (desc.size <= CHUNK) {
      const res = await this.client.request('PUT', withDigest(location), {
        body: await open(),
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': desc.size },
        scope: this.scope,
        signal: opts.signal,
      });
      if (res.statusCode !== 201) throw await registryError(res, `upload of ${desc.digest}`);
      discard(res);
      return;
    }
    // Chunked upload: PATCH pieces in order, then PUT to close with the digest. Each piece
    // streams into its request as the source makes it, so making the blob (a layer's tar
    // regenerated from its dir) and sending it overlap instead of taking turns.
    const src = await open();
    const pieces = slices(src);
    let offset = 0;
    try {
      while (offset < desc.size) {
        const len = Math.min(CHUNK, desc.size - offset);
        // A source that comes out short fails the piece's request; this is the error to report.
        let short: BerthError | undefined;
        const body = Readable.from(
          (async function* () {
            for (let left = len; left > 0; ) {
              const r = await pieces.next(left);
              if (!r.value) throw (short = new BerthError('DATA_CORRUPT', `${desc.digest} ended ${left} bytes short of its size`));
              left -= r.value.length;
              yield r.value;
            }
          })(),
          { objectMode: false },
        );
        const res: IncomingMessage = await this.client
          .request('PATCH', location, {
            body,
            headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': len, 'Content-Range': `${offset}-${offset + len - 1}` },
            scope: this.scope,
            signal: opts.signal,
          })
          .catch((e: unknown) => {
            throw short ?? e;
          });
        if (res.statusCode !== 202) throw await registryError(res, `chunk upload of ${desc.digest}`);
        discard(res);
        location = (res.headers.location as string | undefined) ?? location;
        offset += len;
        opts.onProgress?.({ kind: 'blob-progress', digest: desc.digest, bytes: offset, size: desc.size });
      }
      if (!(await pieces.next(0)).done) throw new BerthError('DATA_CORRUPT', `${desc.digest} is longer than its ${desc.size} bytes`);
    } finally {
      src.destroy();
    }
    const res = await this.client.request('PUT', withDigest(location), {
      body: Buffer.alloc(0),
      headers: { 'Content-Length': 0 },
      scope: this.scope,
      signal: opts.signal,
    });
    if (res.statusCode !== 201) throw await registryError(res, `upload of ${desc.digest}`);
    discard(res);
  }

  private async put(reference: string, m: RawManifest, opts: TransferOptions): Promise<void> {
    const res = await this.client.request('PUT', `/v2/${this.ref.repository}/manifests/${reference}`, {
      body: m.bytes,
      headers: { 'Content-Type': m.mediaType },
      scope: this.scope,
      signal: opts.signal,
    });
    if (res.statusCode !== 201) throw await registryError(res, `manifest ${this.description}:${reference}`);
    const claimed = res.headers['docker-content-digest'];
    discard(res);
    if (claimed && claimed !== m.digest) throw new BerthError('DATA_CORRUPT', `the registry stored manifest ${claimed}, not ${m.digest}`);
  }

  putManifest(m: RawManifest, opts: TransferOptions = {}): Promise<void> {
    return this.put(m.digest, m, opts);
  }

  async finish(root: RawManifest, opts: TransferOptions = {}): Promise<void> {
    if (this.ref.tag) await this.put(this.ref.tag, root, opts);
  }
}

/**
 * The source's bytes as they come: `next(n)` gives up to n bytes (a chunk of the source, or
 * the part of one that fits), keeping the rest for the next call; `next(0)` only tells
 * whether anything is left.
 */
function slices(src: Readable): { next(n: number): Promise<{ done: boolean; value?: Buffer }> } {
  const it = src[Symbol.asyncIterator]();
  let rest: Buffer | undefined;
  return {
    async next(n: number) {
      if (!rest?.length) {
        const r = await it.next();
        if (r.done) return { done: true };
        rest = r.value as Buffer;
      }
      if (n === 0) return { done: false };
      const take = rest.subarray(0, n);
      rest = rest.subarray(take.length);
      return { done: false, value: take };
    },
  };
}
