/**
 * `build --output`: the result as a directory, a rootfs tar, or an image archive. Of a build for
 * several platforms, as BuildKit writes it: an archive holds the whole index, and a directory or
 * a tar holds one directory per platform (`linux_amd64/`, `linux_arm64/`).
 */
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { keyValueMap } from '../dockerfile/index.ts';
import { BerthError } from '../errors/index.ts';
import { callerMode } from '../sys/umask.ts';
import type { BuilderDeps } from './step-context.ts';
import { openLayerBlob } from '../image/layer-blob.ts';
import { platformOf } from '../image/image-index.ts';
import { saveImages, saveIndex } from '../image/save-load.ts';
import { applyLayer, writeLayer } from '../layer/index.ts';
import { formatPlatform } from '../oci/platform.ts';
import type { BuildResult } from './builder.ts';
import type { StageState } from './state.ts';

/** BuildKit's directory name for a platform's files: `linux/arm/v7` is `linux_arm_v7`. */
export function platformDirName(platform: string): string {
  return platform.replaceAll('/', '_');
}

export async function exportBuild(engine: BuilderDeps, result: BuildResult, spec: string, tags: readonly string[]): Promise<void> {
  const kv = Object.fromEntries(keyValueMap(spec, '--output', { bare: 'dest' }));
  const type = kv.type ?? 'local';
  const dest = kv.dest;
  if (!dest) throw new BerthError('INVALID_ARGUMENT', `--output ${spec}: dest is required`);
  // What goes into a directory: the one image's files, or each platform's under its own name.
  const trees: Array<{ dir: string; layers: StageState['layers'] }> = result.index
    ? result.index.children.map((c) => ({ dir: platformDirName(formatPlatform(platformOf(c.image))), layers: c.layers }))
    : [{ dir: '', layers: result.stage.layers }];
  const materialize = async (root: string) => {
    for (const tree of trees) {
      const dir = join(root, tree.dir);
      await mkdir(dir, { recursive: true, mode: callerMode(0o777) });
      for (const l of tree.layers) await applyLayer(await openLayerBlob(engine, l.diffId), dir, { whiteouts: 'apply' });
    }
  };
  const out = () => (dest === '-' ? process.stdout : createWriteStream(dest, { mode: callerMode(0o666) }));
  switch (type) {
    case 'local':
      await mkdir(dest, { recursive: true, mode: callerMode(0o777) });
      await materialize(dest);
      return;
    case 'tar': {
      engine.lease.hold(); // prune leaves the temp dir alone while this build runs
      const tmp = await mkdtemp(join(engine.root, 'tmp-export-'));
      try {
        await materialize(tmp);
        await pipeline(writeLayer(tmp, { mode: 'plain' }), out());
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
      return;
    }
    case 'oci':
    case 'docker': {
      const format = type === 'oci' ? 'oci-archive' : 'docker-archive';
      if (result.index) {
        const index = { digest: result.index.digest, children: result.index.children.map((c) => c.image) };
        await saveIndex(engine, index, tags.slice(0, 1), out(), { format });
      } else {
        await saveImages(engine, tags.length ? [tags[0]!] : [result.image.id], out(), { format });
      }
      return;
    }
    default:
      throw new BerthError('INVALID_ARGUMENT', `unknown output type "${type}"`, { hint: 'use local, tar, oci or docker' });
  }
}
