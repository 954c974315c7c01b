import { join } from 'node:path';
import type { Engine } from '../engine.ts';

/** Where a container's files live: its record dir (logs, bundle) and its runtime dir. */
export function containerPaths(engine: Engine, id: string) {
  const dir = join(engine.root, 'containers', id);
  return {
    dir,
    bundle: join(dir, 'bundle'),
    log: join(dir, `${id}-json.log`),
    pidFile: join(engine.runRoot, 'containers', id, 'pid'),
    runDir: join(engine.runRoot, 'containers', id),
    netDir: join(engine.runRoot, 'net', id.slice(0, 12)),
    runcRoot: join(engine.runRoot, 'runc'),
  };
}
