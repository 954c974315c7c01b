/** A registry repository as an ImageSource (pull): manifests by tag or digest, blobs by digest. */
import type { IncomingMessage } from 'node:http';
import { Transform, type Readable } from 'node:stream';
import { BerthError } from '../errors/index.ts';
import type { ImageSource, RawManifest, TransferOptions } from '../image/transfer.ts';
import type { Digest } from '../oci/digest.ts';
import { sha256 } from '../sys/crypto.ts';
import { MediaType } from '../oci/mediatypes.ts';
import type { Descriptor } from '../oci/schema.ts';
import type { Reference } from '../reference/index.ts';
import { declaredLength } from './body.ts';
import { registryError, type RegistryClient } from './http.ts';

export const MANIFEST_ACCEPT = [
  MediaType.OciIndex,
  MediaType.OciManifest,
  MediaType.DockerManifestList,
  MediaType.DockerManifest,
  MediaType.DockerManifestSchema1Signed,
].join(', ');

export class RegistrySource implements ImageSource {
  readonly description: string;
  private readonly scope: string;

  constructor(
    private readonly client: RegistryClient,
    private readonly ref: Reference,
  ) {
    this.description = `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
    this.scope = `repository:${ref.repository}:pull`;
  }

  private async fetchManifest(reference: string, opts: TransferOptions = {}): Promise<RawManifest> {
    const res = await this.client.request('GET', `/v2/${this.ref.repository}/manifests/${reference}`, {
      headers: { Accept: MANIFEST_ACCEPT },
      scope: this.scope,
      signal: opts.signal,
    });
    if (res.statusCode !== 200) throw await registryError(res, `manifest ${this.ref.repository}:${reference}`);
    const bytes = await this.client.readDocument(res, `manifest ${this.ref.repository}:${reference} from ${this.ref.registry}`);
    const digest = sha256(bytes);
    const claimed = res.headers['docker-content-digest'] as string | undefined;
    // By digest, the bytes must hash to it; by tag, the registry's claim must match the bytes.
    if (reference.startsWith('sha256:') && digest !== reference) {
      throw new BerthError('DATA_CORRUPT', `manifest ${reference} from ${this.ref.registry} does not match its digest (got ${digest})`);
    }
    if (claimed?.startsWith('sha256:') && claimed !== digest) {
      throw new BerthError('DATA_CORRUPT', `the registry says manifest ${this.description} is ${claimed}, but its bytes hash to ${digest}`);
    }
    const mediaType = (res.headers['content-type'] as string | undefined)?.split(';')[0] ?? MediaType.OciManifest;
    return { digest, bytes, mediaType };
  }

  rootManifest(opts?: TransferOptions): Promise<RawManifest> {
    return this.fetchManifest(this.ref.digest ?? this.ref.tag ?? 'latest', opts);
  }

  manifest(digest: Digest, opts?: TransferOptions): Promise<RawManifest> {
    return this.fetchManifest(digest, opts);
  }

  private getBlob(desc: Descriptor, headers: Record<string, string>, opts: TransferOptions) {
    return this.client.request('GET', `/v2/${this.ref.repository}/blobs/${desc.digest}`, { headers, scope: this.scope, signal: opts.signal });
  }

  /** One ranged part: a 206 whose Content-Range is the range asked for, or 'unsupported' on a 200. */
  async openBlobRange(desc: Descriptor, start: number, end: number, opts: TransferOptions = {}): Promise<Readable | 'unsupported'> {
    const res = await this.getBlob(desc, { Range: `bytes=${start}-${end}` }, opts);
    if (res.statusCode === 200) {
      res.destroy();
      return 'unsupported';
    }
    if (res.statusCode !== 206) throw await registryError(res, `blob ${desc.digest}`);
    const range = /^bytes (\d+)-(\d+)\//.exec(String(res.headers['content-range'] ?? ''));
    if (!range || Number(range[1]) !== start || Number(range[2]) !== end) {
      res.destroy();
      throw new BerthError(
        'DATA_CORRUPT',
        `the registry answered bytes ${start}-${end} of ${desc.digest} with "${res.headers['content-range'] ?? 'no Content-Range'}"`,
      );
    }
    return this.notLonger(res, desc, end - start + 1);
  }

  async openBlob(desc: Descriptor, opts: TransferOptions & { start?: number } = {}): Promise<Readable> {
    const res = await this.getBlob(desc, opts.start ? { Range: `bytes=${opts.start}-` } : {}, opts);
    if (opts.start && res.statusCode === 200) {
      // No range support: skip the bytes we already have.
      let skip = opts.start;
      this.notLonger(res, desc, desc.size);
      // A reader that stops early (a body longer than the blob) must stop the download too.
      const rest = new Transform({
        destroy(e, cb) {
          res.destroy();
          cb(e);
        },
        transform(chunk: Buffer, _e, cb) {
          if (skip >= chunk.length) {
            skip -= chunk.length;
            return cb();
          }
          const tail = chunk.subarray(skip);
          skip = 0;
          cb(null, tail);
        },
      });
      res.on('error', (e) => rest.destroy(e));
      return res.pipe(rest);
    }
    if (res.statusCode !== 200 && res.statusCode !== 206) throw await registryError(res, `blob ${desc.digest}`);
    return this.notLonger(res, desc, desc.size - (opts.start ?? 0));
  }

  /**
   * Refuses a blob body that says it is longer than the descriptor allows before a byte is
   * read. A body that says nothing, or lies, is cut off by its reader (the content store
   * stops at the descriptor's size).
   */
  private notLonger(res: IncomingMessage, desc: Descriptor, expected: number): IncomingMessage {
    const n = declaredLength(res);
    if (n === undefined || n <= expected) return res;
    res.destroy();
    throw new BerthError('DATA_CORRUPT', `blob ${desc.digest} from ${this.ref.registry} is ${n} bytes, but its descriptor says ${expected}`, {
      hint: 'the registry sent something other than the blob the manifest names; nothing was stored',
    });
  }
}
