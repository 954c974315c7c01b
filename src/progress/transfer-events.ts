/**
 * What a pull, push, save or load reports about each blob as it moves. The transports
 * (image/transfer.ts) emit these; the views (transfer-tty.ts, the CLI's plain lines) draw them.
 */
import type { Digest } from '../oci/digest.ts';

export type ProgressEvent =
  | { kind: 'blob-start'; digest: Digest; size: number; label: string }
  | { kind: 'blob-progress'; digest: Digest; bytes: number; size: number }
  | { kind: 'blob-done'; digest: Digest; skipped?: 'exists' | 'mounted' /** The blob's media type, on a skip (no blob-start named it). */; label?: string }
  | { kind: 'message'; text: string };
