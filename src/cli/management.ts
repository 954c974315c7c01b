/**
 * docker's management commands (`container`, `image`, `builder`, `system`) with every
 * subcommand docker has. A form that is a top-level verb under another name (`container ls`
 * is `ps`) is made that verb before parsing (groups.ts); it is registered here too, so help
 * and completion list it. This file registers last and adds only what no group file did.
 */
import type { Command } from 'commander';
import { builderPrune } from './builder-prune.ts';
import { group } from './context.ts';
import { FORWARDS } from './forms.ts';

/** docker 28's descriptions of the verbs the management forms stand for. */
const VERB_DESCRIPTIONS: Readonly<Record<string, string>> = {
  attach: 'Attach local standard input, output, and error streams to a running container',
  build: 'Build an image from a Dockerfile',
  commit: "Create a new image from a container's changes",
  cp: 'Copy files/folders between a container and the local filesystem',
  create: 'Create a new container',
  diff: "Inspect changes to files or directories on a container's filesystem",
  events: 'Get real time events from the server',
  exec: 'Execute a command in a running container',
  export: "Export a container's filesystem as a tar archive",
  history: 'Show the history of an image',
  images: 'List images',
  import: 'Import the contents from a tarball to create a filesystem image',
  info: 'Display system-wide information',
  inspect: 'Display detailed information on one or more containers',
  kill: 'Kill one or more running containers',
  load: 'Load an image from a tar archive or STDIN',
  logs: 'Fetch the logs of a container',
  pause: 'Pause all processes within one or more containers',
  port: 'List port mappings or a specific mapping for the container',
  ps: 'List containers',
  pull: 'Download an image from a registry',
  push: 'Upload an image to a registry',
  rename: 'Rename a container',
  restart: 'Restart one or more containers',
  rm: 'Remove one or more containers',
  rmi: 'Remove one or more images',
  run: 'Create and run a new container from an image',
  save: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
  start: 'Start one or more stopped containers',
  stats: 'Display a live stream of container(s) resource usage statistics',
  stop: 'Stop one or more running containers',
  tag: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
  top: 'Display the running processes of a container',
  unpause: 'Unpause all processes within one or more containers',
  update: 'Update configuration of one or more containers',
  wait: 'Block until one or more containers stop, then print their exit codes',
};

const GROUP_DESCRIPTIONS: Readonly<Record<string, string>> = {
  builder: 'Manage builds',
  container: 'Manage containers',
  image: 'Manage images',
  system: 'Manage berth',
};

function findSub(parent: Command, name: string): Command | undefined {
  return parent.commands.find((c) => c.name() === name || c.aliases().includes(name));
}

/**
 * The forms of one management command: names that stand for the same verb are one command
 * with aliases (`ls`, `list`, `ps`); a form a group file registered gets the other names as
 * aliases instead of a second command.
 */
function registerForwards(program: Command, name: string): void {
  const parent = group(program, name, GROUP_DESCRIPTIONS[name]);
  const byVerb = new Map<string, string[]>();
  for (const [sub, forward] of Object.entries(FORWARDS[name] ?? {})) {
    const key = forward.join(' ');
    byVerb.set(key, [...(byVerb.get(key) ?? []), sub]);
  }
  for (const [key, names] of byVerb) {
    const native = names.map((n) => findSub(parent, n)).find((c) => c !== undefined);
    const free = names.filter((n) => !findSub(parent, n));
    if (native) {
      for (const n of free) native.alias(n);
      continue;
    }
    const verb = key.split(' ')[0]!;
    const stub = parent
      .command(free[0]!)
      .description(name === 'image' && verb === 'rmi' ? 'Remove one or more images' : (VERB_DESCRIPTIONS[verb] ?? ''))
      .helpOption(false)
      .allowUnknownOption()
      .allowExcessArguments()
      // Never reached: main.ts makes the form its verb before parsing (groups.ts canonicalArgs).
      .action(() => undefined);
    for (const n of free.slice(1)) stub.alias(n);
  }
}

export function register(program: Command): void {
  for (const name of Object.keys(FORWARDS)) registerForwards(program, name);

  const builder = group(program, 'builder', GROUP_DESCRIPTIONS.builder);
  if (!findSub(builder, 'prune')) builder.addCommand(builderPrune());
}
