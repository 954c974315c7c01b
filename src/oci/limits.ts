/**
 * How much of a document from outside berth reads into memory. Manifests, indexes, image
 * configs and token responses are small JSON (a few kB; the biggest real ones are some
 * hundred kB), so anything over 4 MiB (containerd's limit) is refused before it is read:
 * a registry or archive that claims 10 GB, or sends without end, cannot fill memory.
 * Blobs (layers) are never read whole: they stream to disk, cut off at their descriptor's size.
 */
export const MAX_DOCUMENT_BYTES = 4 << 20;

/** `4 MiB`: limits are powers of two, so they are named in binary units. */
export function limitText(bytes: number): string {
  if (bytes >= 1 << 20 && bytes % (1 << 20) === 0) return `${bytes / (1 << 20)} MiB`;
  return bytes >= 1024 && bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`;
}
