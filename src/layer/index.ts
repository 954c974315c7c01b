/**
 * Layer tar I/O: apply a layer to a dir (safe paths, whiteouts), write a dir or an overlay
 * upperdir as a deterministic tar, and the compression codecs. See each file's contract.
 */
export { applyLayer, type ApplyOptions, type ApplyResult } from './apply.ts';
export { applyLayerOffThread, releaseBuffer, runApplyWorker } from './apply-thread.ts';
export { hashLayer, writeLayer, type WriteOptions } from './write.ts';
export { copyFill, copyQueue, type FileFill, type FillSource } from './file-chunks.ts';
export { compress, decompressAuto, gzipParallel, hashingStream, type HashingStream } from './compress.ts';
export { zstdCompress, zstdDecompress } from './zstd.ts';
export { archiveEntryPath, cleanComponents, resolveInRoot, resolveInRootSync } from './safe-path.ts';
export { OPAQUE_WHITEOUT, WHITEOUT_PREFIX } from './tar-format.ts';
export { readTar, type TarEntry } from './tar-reader.ts';
export { tarCheck } from './tar-check.ts';
export type { TarHeader } from './tar-format.ts';
