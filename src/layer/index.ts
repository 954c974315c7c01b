/**
 * Layer tar I/O: apply a layer to a dir (safe paths, whiteouts), write a dir or an overlay
 * upperdir as a deterministic tar, and the compression codecs. See each file's contract.
 */
export { applyLayer, OPAQUE_WHITEOUT, WHITEOUT_PREFIX, type ApplyOptions } from './apply.ts';
export { writeLayer, type WriteOptions } from './write.ts';
export { compress, decompressAuto, gzipParallel, hashingStream } from './compress.ts';
export { archiveEntryPath, cleanComponents, resolveInRoot } from './safe-path.ts';
