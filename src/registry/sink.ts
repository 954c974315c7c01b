/**
 * A registry repository as an ImageSink (push): blobs the registry already has are skipped,
 * blobs in another repository of the same registry are cross-mounted, the rest are
 * uploaded (monolithic, or in chunks for big layers); manifests go up by digest, and the
 * root once more by tag.
 */
import type { Readable } from 'node:stream';
import { BerthError } from '../errors/index.ts';
import type { ImageSink, RawManifest, TransferOptions } from '../image/transfer.ts';
import type { Descriptor } from '../oci/schema.ts';
import type { Reference } from '../reference/index.ts';
import { registryError, type RegistryClient } from './http.ts';

const CHUNK = 64 * 1024 * 1024;

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
    res.resume();
    return res.statusCode === 200;
  }

  private async startUpload(desc: Descriptor, opts: TransferOptions): Promise<string | undefined> {
    for (const from of this.mountFrom) {
      if (from === this.ref.repository) continue;
      const res = await this.client.request('POST', `/v2/${this.ref.repository}/blobs/uploads/?mount=${desc.digest}&from=${encodeURIComponent(from)}`, { body: Buffer.alloc(0), scope: `${this.scope} repository:${from}:pull`, signal: opts.signal });
      res.resume();
      if (res.statusCode === 201) {
        opts.onProgress?.({ kind: 'blob-done', digest: desc.digest, skipped: 'mounted' });
        return undefined;
      }
      if (res.statusCode === 202 && res.headers.location) return res.headers.location;
    }
    const res = await this.client.request('POST', `/v2/${this.ref.repository}/blobs/uploads/`, { body: Buffer.alloc(0), scope: this.scope, signal: opts.signal });
    if (res.statusCode !== 202 || !res.headers.location) throw await registryError(res, `upload to ${this.description}`);
    res.resume();
    return res.headers.location;
  }

  async putBlob(desc: Descriptor, open: (start?: number) => Promise<Readable>, opts: TransferOptions = {}): Promise<void> {
    let location = await this.startUpload(desc, opts);
    if (location === undefined) return;
    const withDigest = (loc: string) => `${loc}${loc.includes('?') ? '&' : '?'}digest=${encodeURIComponent(desc.digest)}`;
    if (desc.size <= CHUNK) {
      const res = await this.client.request('PUT', withDigest(location), { body: await open(), headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': desc.size }, scope: this.scope, signal: opts.signal });
      if (res.statusCode !== 201) throw await registryError(res, `upload of ${desc.digest}`);
      res.resume();
      return;
    }
    // Chunked upload: PATCH pieces in order, then PUT to close with the digest.
    const src = await open();
    let offset = 0;
    let buf: Buffer[] = [];
    let buffered = 0;
    const flush = async (piece: Buffer) => {
      const res = await this.client.request('PATCH', location!, { body: piece, headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': piece.length, 'Content-Range': `${offset}-${offset + piece.length - 1}` }, scope: this.scope, signal: opts.signal });
      if (res.statusCode !== 202) throw await registryError(res, `chunk upload of ${desc.digest}`);
      res.resume();
      location = (res.headers.location as string | undefined) ?? location;
      offset += piece.length;
      opts.onProgress?.({ kind: 'blob-progress', digest: desc.digest, bytes: offset, size: desc.size });
    };
    for await (const c of src) {
      buf.push(c as Buffer);
      buffered += (c as Buffer).length;
      if (buffered >= CHUNK) {
        const all = Buffer.concat(buf);
        await flush(all.subarray(0, CHUNK));
        buf = [all.subarray(CHUNK)];
        buffered = all.length - CHUNK;
      }
    }
    if (buffered) await flush(Buffer.concat(buf));
    const res = await this.client.request('PUT', withDigest(location), { body: Buffer.alloc(0), headers: { 'Content-Length': 0 }, scope: this.scope, signal: opts.signal });
    if (res.statusCode !== 201) throw await registryError(res, `upload of ${desc.digest}`);
    res.resume();
  }

  private async put(reference: string, m: RawManifest, opts: TransferOptions): Promise<void> {
    const res = await this.client.request('PUT', `/v2/${this.ref.repository}/manifests/${reference}`, { body: m.bytes, headers: { 'Content-Type': m.mediaType }, scope: this.scope, signal: opts.signal });
    if (res.statusCode !== 201) throw await registryError(res, `manifest ${this.description}:${reference}`);
    const claimed = res.headers['docker-content-digest'];
    res.resume();
    if (claimed && claimed !== m.digest) throw new BerthError('DATA_CORRUPT', `the registry stored manifest ${claimed}, not ${m.digest}`);
  }

  putManifest(m: RawManifest, opts: TransferOptions = {}): Promise<void> {
    return this.put(m.digest, m, opts);
  }

  async finish(root: RawManifest, opts: TransferOptions = {}): Promise<void> {
    if (this.ref.tag) await this.put(this.ref.tag, root, opts);
  }
}
