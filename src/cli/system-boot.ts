/** `berth system boot`: what dockerd does as it comes up, for a daemonless engine after a host's reboot (see the README's systemd unit). */
import { Command } from 'commander';
import { BerthError } from '../errors/index.ts';
import { getEngine, out } from './context.ts';

export function systemBoot(): Command {
  return new Command('boot')
    .description('Start the containers whose restart policy brings them back after a reboot (always, unless-stopped)')
    .action(async (_o: unknown, cmd: Command) => {
      const engine = await getEngine(cmd);
      const { bootContainers } = await import('../services/restart.ts');
      const r = await bootContainers(engine);
      for (const id of r.started) out(`${id}\n`);
      for (const f of r.failed) process.stderr.write(`berth: could not start ${f.name} (${f.id.slice(0, 12)}): ${f.error}\n`);
      if (r.failed.length) throw new BerthError('RUNTIME', `${r.failed.length} container(s) could not be started`);
    });
}
