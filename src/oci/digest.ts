import { BerthError } from '../errors/index.ts';

/** A content digest, always `sha256:<64 lowercase hex>` in berth. */
export type Digest = string & { readonly __brand: 'Digest' };

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export function isDigest(s: string): s is Digest {
  return DIGEST_RE.test(s);
}

export function parseDigest(s: string): Digest {
  if (!isDigest(s)) {
    throw new BerthError('INVALID_ARGUMENT', `invalid digest "${s}"`, {
      hint: 'a digest looks like sha256: followed by 64 lowercase hex characters',
    });
  }
  return s;
}

export function digestHex(d: Digest): string {
  return d.slice('sha256:'.length);
}

/** The short 12-hex id Docker prints for images and containers. */
export function shortId(d: string): string {
  return d.replace(/^sha256:/, '').slice(0, 12);
}
