import { join } from 'node:path';

/** The two roots a container's files live under: state (records, logs) and run (pids, runc, netns). */
export interface ContainerRoots {
  readonly root: string;
  readonly runRoot: string;
}

/** Where a container's files live: its record dir (logs, bundle) and its runtime dir. */
export function containerPaths(roots: ContainerRoots, id: string) {
  const dir = join(roots.root, 'containers', id);
  return {
    dir,
    bundle: join(dir, 'bundle'),
    log: join(dir, `${id}-json.log`),
    pidFile: join(roots.runRoot, 'containers', id, 'pid'),
    runDir: join(roots.runRoot, 'containers', id),
    netDir: join(roots.runRoot, 'net', id.slice(0, 12)),
    runcRoot: join(roots.runRoot, 'runc'),
  };
}
