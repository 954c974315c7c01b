/** What the context rules need from a build context dir, computed lazily. */
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IgnoreMatcher, parseIgnoreFile } from '../dockerfile/index.ts';
import { findImageId, loadImage } from '../image/resolve.ts';
import type { ImageStores } from '../image/stores.ts';
import type { LintInput } from '../lint/types.ts';

/** Stop counting past this: the rule only needs to know the context is over 100 MB. */
const SIZE_LIMIT_HINT = 100 * 1000 * 1000 + 1;

/** Bytes of the context that .dockerignore keeps, counted until `stopAt`. */
function contextSize(dir: string, matcher: IgnoreMatcher, stopAt: number): number {
  let total = 0;
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(dir, rel))) {
      if (total >= stopAt) return;
      const childRel = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(dir, childRel));
      if (matcher.matches(childRel) && (!st.isDirectory() || matcher.canSkipDir(childRel))) continue;
      if (st.isDirectory()) walk(childRel);
      else total += st.size;
    }
  };
  walk('');
  return total;
}

/**
 * What the rules see of a build context. A build passes the size from its own context listing
 * (`sizeBytes`), so a large context is walked once, not once for lint and once for COPY.
 */
export function lintContext(dir: string, opts: { sizeBytes?: () => Promise<number> } = {}): NonNullable<LintInput['context']> {
  const ignoreFile = join(dir, '.dockerignore');
  const hasDockerignore = existsSync(ignoreFile);
  const matcher = new IgnoreMatcher(hasDockerignore ? parseIgnoreFile(readFileSync(ignoreFile, 'utf8')) : []);
  return {
    dir,
    hasDockerignore,
    isIgnored: (rel) => matcher.matches(rel),
    hasExclusions: matcher.hasExclusions,
    sizeBytes: opts.sizeBytes ?? (async () => contextSize(dir, matcher, SIZE_LIMIT_HINT)),
  };
}

/**
 * What the checks may know of a base image without pulling it: its ENV names and platform,
 * when it is already in the store. BuildKit knows them because it resolves every base
 * image; a check that pulled would not be a check.
 */
export function localBaseImage(stores: Pick<ImageStores, 'content' | 'images'>): NonNullable<LintInput['baseImage']> {
  return async (ref) => {
    let id: ReturnType<typeof findImageId>;
    try {
      id = findImageId(stores, ref);
    } catch {
      return undefined; // not a name the store can look up
    }
    if (!id) return undefined;
    const { config } = await loadImage(stores, id).catch(() => ({ config: undefined }));
    if (!config) return undefined;
    const env = (config.config?.Env ?? []).map((e) => e.split('=')[0]!);
    return { env, platform: [config.os, config.architecture, config.variant].filter(Boolean).join('/') };
  };
}
