/**
 * ext4's "top of a directory hierarchy" flag (`chattr +T`, FS_TOPDIR_FL). The Orlov
 * allocator places each new dir made under a dir so marked in a block group of its own
 * choosing, with room and few dirs, instead of beside its parent. berth marks the dir its
 * layers are unpacked in: on an ext4 without a journal, allocating an inode passes over every
 * inode freed in the same group in the last minutes, so a layer of many files unpacked where
 * a tree of many files was just deleted (a root removed and made again, a prune before a
 * pull) took several times as long (docs/benchmarks.md, issue 24). Best effort: a file
 * system without the flag, or no chattr, leaves the dir as it is.
 */
import { runTool } from './run-tool.ts';

/** True when the dir carries the flag now; false (and the dir unchanged) where it cannot. */
export async function markTopDir(dir: string): Promise<boolean> {
  const r = await runTool('chattr', ['+T', dir]).catch(() => undefined);
  return r?.code === 0;
}
