/**
 * `berth --help` laid out as docker's: Common Commands in docker's order, then Management
 * Commands, then the other Commands, then Global Options; and a description on every
 * command, docker's own where a group file registered one without.
 */
import type { Command } from 'commander';
import { walkCommands, commandPath } from './usage.ts';

/** docker's common commands, in the order its help lists them. */
const COMMON = ['run', 'exec', 'ps', 'build', 'pull', 'push', 'images', 'login', 'logout', 'search', 'version', 'info'];

/** docker 28's descriptions, for the commands a group file registers without one. */
export const DOCKER_DESCRIPTIONS: Readonly<Record<string, string>> = {
  builder: 'Manage builds',
  container: 'Manage containers',
  image: 'Manage images',
  network: 'Manage networks',
  system: 'Manage berth',
  volume: 'Manage volumes',
  'volume create': 'Create a volume',
  'volume inspect': 'Display detailed information on one or more volumes',
  'volume ls': 'List volumes',
  'volume prune': 'Remove unused local volumes',
  'volume rm': 'Remove one or more volumes',
  'network connect': 'Connect a container to a network',
  'network create': 'Create a network',
  'network disconnect': 'Disconnect a container from a network',
  'network inspect': 'Display detailed information on one or more networks',
  'network ls': 'List networks',
  'network prune': 'Remove all unused networks',
  'network rm': 'Remove one or more networks',
  'container prune': 'Remove all stopped containers',
  'image inspect': 'Display detailed information on one or more images',
  'image prune': 'Remove unused images',
  help: 'Display help for a command',
};

/** Groups and orders the top-level commands as docker's help does, and fills in missing descriptions. */
export function dockerHelp(program: Command): void {
  for (const c of walkCommands(program)) {
    if (!c.description()) c.description(DOCKER_DESCRIPTIONS[commandPath(c)] ?? '');
  }
  const rank = (c: Command) => {
    const common = COMMON.indexOf(c.name());
    return common >= 0 ? common : c.commands.length ? 100 : 200;
  };
  (program.commands as Command[]).sort((a, b) => rank(a) - rank(b) || a.name().localeCompare(b.name()));
  for (const c of program.commands) {
    c.helpGroup(COMMON.includes(c.name()) ? 'Common Commands:' : c.commands.length ? 'Management Commands:' : 'Commands:');
  }
  for (const o of program.options) o.helpGroup('Global Options:');
  (program as unknown as { _getHelpOption(): { helpGroup(h: string): void } | null })._getHelpOption()?.helpGroup('Global Options:');
  // docker lists the global options after the commands; commander puts options first.
  program.configureHelp({
    formatHelp: (cmd, helper) => {
      const blocks = Object.getPrototypeOf(helper).formatHelp.call(helper, cmd, helper).trimEnd().split('\n\n') as string[];
      const options = blocks.filter((b) => b.startsWith('Global Options:'));
      return `${[...blocks.filter((b) => !options.includes(b)), ...options].join('\n\n')}\n`;
    },
  });
  program.addHelpText('after', "\nRun 'berth COMMAND --help' for more information on a command.");
}
