/** `build --output`: the result as a directory, a rootfs tar, or an image archive. */
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { keyValueMap } from '../dockerfile/index.ts';
import { BerthError } from '../errors/index.ts';
import { callerMode } from '../sys/umask.ts';
import type { BuilderDeps } from './step-context.ts';
import { openLayerBlob } from '../image/layer-blob.ts';
import { saveImages } from '../image/save-load.ts';
import { applyLayer, writeLayer } from '../layer/index.ts';
import type { BuildResult } from './builder.ts';

export async function exportBuild(engine: BuilderDeps, result: BuildResult, spec: string, tags: readonly string[]): Promise<void> {
  const kv = Object.fromEntries(keyValueMap(spec, '--output', { bare: 'dest' }));
  const type = kv.type ?? 'local';
  const dest = kv.dest;
  if (!dest) throw new BerthError('INVALID_ARGUMENT', `--output ${spec}: dest is required`);
  const materialize = async (dir: string) => {
    for (const l of result.stage.layers) await applyLayer(await openLayerBlob(engine, l.diffId), dir, { whiteouts: 'apply' });
  };
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
        await pipeline(writeLayer(tmp, { mode: 'plain' }), dest === '-' ? process.stdout : createWriteStream(dest, { mode: callerMode(0o666) }));
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
      return;
    }
    case 'oci':
    case 'docker':
      await saveImages(
        engine,
        tags.length ? [tags[0]!] : [result.image.id],
        dest === '-' ? process.stdout : createWriteStream(dest, { mode: callerMode(0o666) }),
        { format: type === 'oci' ? 'oci-archive' : 'docker-archive' },
      );
      return;
    default:
      throw new BerthError('INVALID_ARGUMENT', `unknown output type "${type}"`, { hint: 'use local, tar, oci or docker' });
  }
}
