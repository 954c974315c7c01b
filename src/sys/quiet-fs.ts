/**
 * Two in-line file calls that answer "not there" instead of throwing. In line on purpose: a
 * metadata call on the local disk takes microseconds, a trip through libuv's pool more.
 */
import { lstatSync, readFileSync, type Stats } from 'node:fs';

/** lstat(2), not following a symlink; undefined when nothing is there (or it cannot be read). */
export function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/** A small text file's content, or `fallback` when it cannot be read. */
export function readTextOr<T extends string | undefined>(path: string, fallback: T): string | T {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}
