/** The flags `create` and `run` share, as docker spells them, and their mapping to CreateOptions. */
import { type Command, Option } from 'commander';
import { BerthError } from '../errors/index.ts';
import type { CreateOptions } from '../services/containers.ts';
import { collect } from './context.ts';
import { parseDevice } from '../runtime/devices.ts';
import { parseSecurityOpts } from '../runtime/security-opt.ts';

export function addCreateFlags(cmd: Command): Command {
  return cmd
    .argument('<image>')
    .argument('[command...]')
    .passThroughOptions()
    .option('--name <name>', 'assign a name to the container')
    .option('--entrypoint <cmd>', 'overwrite the default ENTRYPOINT of the image')
    .option('-e, --env <env>', 'set environment variables', collect, [])
    .option('--env-file <file>', 'read in a file of environment variables', collect, [])
    .option('-u, --user <user>', 'username or UID (format: <name|uid>[:<group|gid>])')
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('-h, --hostname <name>', 'container host name')
    .option('-t, --tty', 'allocate a pseudo-TTY')
    .option('-i, --interactive', 'keep STDIN open even if not attached')
    .option('--network <mode>', "connect a container to a network (bridge, host, none, or a network's name)", 'bridge')
    .option('--network-alias <name>', 'add a network-scoped alias for the container', collect, [])
    .addOption(new Option('--net <mode>').hideHelp())
    .option('-p, --publish <spec>', "publish a container's port(s) to the host", collect, [])
    .option('-v, --volume <spec>', 'bind mount a volume', collect, [])
    .option('--mount <spec>', 'attach a filesystem mount to the container', collect, [])
    .option('--tmpfs <spec>', 'mount a tmpfs directory', collect, [])
    .option('--rm', 'automatically remove the container when it exits')
    .option('-l, --label <label>', 'set meta data on a container', collect, [])
    .option('--read-only', "mount the container's root filesystem as read only")
    .option('--cap-add <cap>', 'add Linux capabilities', collect, [])
    .option('--cap-drop <cap>', 'drop Linux capabilities', collect, [])
    .option('--privileged', 'give extended privileges to this container')
    .option('--device <spec>', 'add a host device to the container (HOST[:CONTAINER][:PERMS])', collect, [])
    .option('--security-opt <opt>', 'security options', collect, [])
    .option('--init', 'run an init inside the container that forwards signals and reaps processes')
    .option('-m, --memory <bytes>', 'memory limit')
    .option('--memory-swap <bytes>', 'swap limit equal to memory plus swap: -1 to enable unlimited swap')
    .option('--cpus <n>', 'number of CPUs')
    .option('--pids-limit <n>', 'tune container pids limit (set -1 for unlimited)')
    .option('--ulimit <spec>', 'ulimit options', collect, [])
    .option('--shm-size <bytes>', 'size of /dev/shm')
    .option('--group-add <group>', 'add additional groups to join', collect, [])
    .option('--stop-signal <signal>', 'signal to stop the container')
    .option('--stop-timeout <seconds>', 'timeout (in seconds) to stop a container')
    .option('--platform <platform>', 'set platform if server is multi-platform capable')
    .option('--pull <policy>', 'pull image before running (always, missing, never)', 'missing');
}

/** Docker's byte sizes: 64m, 1g, 512k, 100 (bytes). */
export function parseBytes(s: string | undefined, flag: string): number | undefined {
  if (s === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)b?$/i.exec(s.trim());
  if (!m) throw new BerthError('INVALID_ARGUMENT', `invalid argument "${s}" for "${flag}" flag: invalid size`);
  const mult = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase()]!;
  return Math.round(Number(m[1]) * mult);
}

export interface CreateFlags {
  name?: string;
  entrypoint?: string;
  env: string[];
  envFile: string[];
  user?: string;
  workdir?: string;
  hostname?: string;
  tty?: boolean;
  interactive?: boolean;
  network: string;
  networkAlias: string[];
  net?: string;
  publish: string[];
  volume: string[];
  mount: string[];
  tmpfs: string[];
  rm?: boolean;
  label: string[];
  readOnly?: boolean;
  capAdd: string[];
  capDrop: string[];
  privileged?: boolean;
  device?: string[];
  securityOpt: string[];
  init?: boolean;
  memory?: string;
  memorySwap?: string;
  cpus?: string;
  pidsLimit?: string;
  ulimit: string[];
  shmSize?: string;
  groupAdd: string[];
  stopSignal?: string;
  stopTimeout?: string;
  platform?: string;
  pull: string;
}

export function toCreateOptions(image: string, command: string[], f: CreateFlags): CreateOptions {
  const num = (s: string | undefined, flag: string) => {
    if (s === undefined) return undefined;
    const n = Number(s);
    if (!Number.isFinite(n)) throw new BerthError('INVALID_ARGUMENT', `invalid argument "${s}" for "${flag}" flag`);
    return n;
  };
  const memSwap = f.memorySwap === '-1' ? -1 : parseBytes(f.memorySwap, '--memory-swap');
  parseSecurityOpts(f.securityOpt); // refused at create, as docker does, not when the container starts
  for (const d of f.device ?? []) parseDevice(d);
  return {
    image,
    command,
    name: f.name,
    entrypoint: f.entrypoint,
    env: f.env,
    envFiles: f.envFile,
    user: f.user,
    workdir: f.workdir,
    hostname: f.hostname,
    tty: !!f.tty,
    interactive: !!f.interactive,
    network: f.net ?? f.network,
    networkAliases: f.networkAlias,
    publish: f.publish,
    volumes: f.volume,
    mounts: f.mount,
    tmpfs: f.tmpfs,
    autoRemove: !!f.rm,
    labels: Object.fromEntries(f.label.map((l) => [l.split('=')[0]!, l.includes('=') ? l.slice(l.indexOf('=') + 1) : ''])),
    stopSignal: f.stopSignal,
    stopTimeout: num(f.stopTimeout, '--stop-timeout'),
    pull: f.pull as 'missing',
    platform: f.platform,
    runtime: {
      readOnly: !!f.readOnly,
      capAdd: f.capAdd,
      capDrop: f.capDrop,
      privileged: !!f.privileged,
      devices: f.device ?? [],
      securityOpt: f.securityOpt,
      init: !!f.init,
      memory: parseBytes(f.memory, '--memory'),
      memorySwap: memSwap,
      cpus: num(f.cpus, '--cpus'),
      pidsLimit: num(f.pidsLimit, '--pids-limit'),
      ulimits: f.ulimit,
      shmSize: parseBytes(f.shmSize, '--shm-size'),
      groupAdd: f.groupAdd,
      platform: f.platform,
    },
  };
}
