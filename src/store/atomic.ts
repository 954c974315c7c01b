/**
 * Small state files (attachments, runc bundles, DNS entries, part records, credentials)
 * replaced whole: readers see the old content or the new, never a torn write. The temp name
 * is unique per writer, so concurrent berth processes never share one. Blobs have their own
 * verified, fsynced path (content.ts).
 */
import { rename, rm, writeFile } from 'node:fs/promises';
import { randomHex } from '../sys/crypto.ts';

export async function writeFileAtomic(path: string, data: string | Buffer, opts: { mode?: number } = {}): Promise<void> {
  const tmp = `${path}.${process.pid}-${randomHex(4)}.tmp`;
  try {
    await writeFile(tmp, data, { mode: opts.mode });
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
