/**
 * What a file's first bytes say it is. The one place berth recognises formats by their magic
 * numbers: a layer's codec, a build context or archive given as a gzip'd or plain tar.
 */

/** gzip's magic, RFC 1952: 1f 8b. */
export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** A zstd frame's magic, RFC 8878: 28 b5 2f fd. */
export function isZstd(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd;
}

/** A POSIX (ustar) tar header: "ustar" at offset 257 of the first 512-byte block. */
export function isUstar(head: Uint8Array): boolean {
  return head.length >= 262 && Buffer.from(head.buffer, head.byteOffset + 257, 5).toString('latin1') === 'ustar';
}

/** A tar archive, gzipped or plain, as `build -` and ADD take one: its first 512 bytes are enough. */
export function isTarArchive(head: Uint8Array): boolean {
  return isGzip(head) || isUstar(head);
}
