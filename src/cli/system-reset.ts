/**
 * `berth system reset`, as podman's: every container (stopped and removed, so no overlay or
 * monitor is left), then the whole state root and run root. For an ordinary user it runs in
 * the user's namespace, where the files that layers own by subordinate ids can be removed:
 * outside it, `rm -rf` of the root fails on them.
 */
import { Command } from 'commander';
import { rm } from 'node:fs/promises';
import { confirm } from './prompt.ts';
import { getEngine, out } from './context.ts';

export function systemReset(): Command {
  return new Command('reset')
    .description('Remove all containers, images, volumes, networks and build cache: the whole state root')
    .option('-f, --force', 'do not prompt for confirmation')
    .action(async (o: { force?: boolean }, cmd: Command) => {
      if (
        !o.force &&
        !(await confirm('WARNING! This will remove all containers, images, volumes, networks and build cache.\nAre you sure you want to continue?'))
      )
        return;
      const engine = await getEngine(cmd);
      const { removeContainer } = await import('../services/containers.ts');
      for (const c of engine.containers.list()) await removeContainer(engine, c.id, { force: true, volumes: true });
      const { root, runRoot } = engine;
      engine.close();
      await rm(root, { recursive: true, force: true });
      await rm(runRoot, { recursive: true, force: true });
      out(`removed ${root}\n`);
    });
}
