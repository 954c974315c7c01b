/** The flags `create` and `run` share, as docker spells them, and their mapping to CreateOptions. */
import { type Command, Option } from 'commander';

import type { CreateOptions } from '../services/containers.ts';
import { collect } from './context.ts';
import { addDeviceFlags, type DeviceFlags, deviceRuntimeOptions } from './run-flags-devices.ts';
import { addHostFlags, flagNumber, type HostFlags, hostRuntimeOptions } from './run-flags-host.ts';
import { parseSecurityOpts } from '../runtime/security-opt.ts';
import { healthFromFlags } from '../container/health-config.ts';
import { parseRestartFlag } from '../container/restart-policy.ts';
import { absoluteVolumeSource, attachStreams, flagChecks, logConfigOf, oomScoreAdjOf } from './run-flags-check.ts';

export function addCreateFlags(cmd: Command): Command {
  return addDeviceFlags(addHostFlags(addContainerFlags(cmd)));
}

function addContainerFlags(cmd: Command): Command {
  return (
    cmd
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
      .option('--security-opt <opt>', 'security options', collect, [])
      .option('--init', 'run an init inside the container that forwards signals and reaps processes')
      .option('--group-add <group>', 'add additional groups to join', collect, [])
      .option('--stop-signal <signal>', 'signal to stop the container')
      .option('--stop-timeout <seconds>', 'timeout (in seconds) to stop a container')
      .option('--platform <platform>', 'set platform if server is multi-platform capable')
      .option('--pull <policy>', 'pull image before running (always, missing, never)', 'missing')
      .option('--add-host <host:ip>', 'add a custom host-to-IP mapping (host:ip, or host:host-gateway)', collect, [])
      .option('--dns <ip>', 'set custom DNS servers', collect, [])
      .option('--dns-search <domain>', 'set custom DNS search domains', collect, [])
      .option('--dns-option <option>', 'set DNS options', collect, [])
      .addOption(new Option('--dns-opt <option>').hideHelp().argParser(collect).default([]))
      .option('-P, --publish-all', 'publish all exposed ports to random ports')
      .option('--expose <port>', 'expose a port or a range of ports', collect, [])
      .option('--label-file <file>', 'read in a line delimited file of labels', collect, [])
      .option('--cidfile <file>', 'write the container ID to the file')
      .option('--log-driver <driver>', 'logging driver for the container (json-file, none)')
      .option('--log-opt <opt>', 'log driver options (max-size, max-file, labels, env)', collect, [])
      .option('--volumes-from <container>', 'mount volumes from the specified container(s) (CONTAINER[:ro|rw])', collect, [])
      .option('-a, --attach <stream>', 'attach to STDIN, STDOUT or STDERR', collect, [])
      .option('--oom-score-adj <n>', "tune host's OOM preferences (-1000 to 1000)")
      .option('-q, --quiet', 'suppress the pull output')
      // Restart policy and health check (h-restart): kept by the container's monitor.
      .option('--restart <policy>', 'restart policy to apply when a container exits (no, on-failure[:max-retries], always, unless-stopped)', 'no')
      .option('--health-cmd <command>', 'command to run to check health')
      .option('--health-interval <duration>', 'time between running the check (ms|s|m|h) (default 0s)')
      .option('--health-timeout <duration>', 'maximum time to allow one check to run (ms|s|m|h) (default 0s)')
      .option('--health-retries <n>', 'consecutive failures needed to report unhealthy')
      .option(
        '--health-start-period <duration>',
        'start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)',
      )
      .option('--health-start-interval <duration>', 'time between running the check during the start period (ms|s|m|h) (default 0s)')
      .option('--no-healthcheck', 'disable any container-specified HEALTHCHECK')
  );
}

export interface CreateFlags extends HostFlags, DeviceFlags {
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
  securityOpt: string[];
  init?: boolean;
  groupAdd: string[];
  stopSignal?: string;
  stopTimeout?: string;
  platform?: string;
  pull: string;
  restart?: string;
  healthCmd?: string;
  healthInterval?: string;
  healthTimeout?: string;
  healthRetries?: string;
  healthStartPeriod?: string;
  healthStartInterval?: string;
  /** commander's `--no-healthcheck`: false when given. */
  healthcheck?: boolean;
  addHost?: string[];
  dns?: string[];
  dnsSearch?: string[];
  dnsOption?: string[];
  dnsOpt?: string[];
  publishAll?: boolean;
  expose?: string[];
  labelFile?: string[];
  cidfile?: string;
  logDriver?: string;
  logOpt?: string[];
  volumesFrom?: string[];
  attach?: string[];
  oomScoreAdj?: string;
  quiet?: boolean;
}

export function toCreateOptions(image: string, command: string[], f: CreateFlags): CreateOptions {
  parseSecurityOpts(f.securityOpt); // refused at create, as docker does, not when the container starts
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
    volumes: f.volume.map(absoluteVolumeSource),
    mounts: f.mount,
    tmpfs: f.tmpfs,
    autoRemove: !!f.rm,
    labels: Object.fromEntries(f.label.map((l) => [l.split('=')[0]!, l.includes('=') ? l.slice(l.indexOf('=') + 1) : ''])),
    stopSignal: f.stopSignal,
    stopTimeout: flagNumber(f.stopTimeout, '--stop-timeout'),
    pull: f.pull as 'missing',
    platform: f.platform,
    ...restartAndHealth(f),
    labelFiles: f.labelFile ?? [],
    extraHosts: flagChecks.addHost(f.addHost ?? []),
    dns: flagChecks.dns(f.dns ?? []),
    dnsSearch: flagChecks.dnsSearch(f.dnsSearch ?? []),
    dnsOptions: [...(f.dnsOption ?? []), ...(f.dnsOpt ?? [])],
    publishAll: !!f.publishAll,
    expose: flagChecks.expose(f.expose ?? []),
    logConfig: logConfigOf(f.logDriver, f.logOpt ?? []),
    volumesFrom: f.volumesFrom ?? [],
    attach: attachStreams(f.attach ?? []),
    runtime: {
      readOnly: !!f.readOnly,
      capAdd: f.capAdd,
      capDrop: f.capDrop,
      privileged: !!f.privileged,
      securityOpt: f.securityOpt,
      init: !!f.init,
      ...hostRuntimeOptions(f),
      ...deviceRuntimeOptions(f),
      groupAdd: f.groupAdd,
      platform: f.platform,
      ...(f.oomScoreAdj !== undefined ? { oomScoreAdj: oomScoreAdjOf(f.oomScoreAdj) } : {}),
    },
  };
}

/** `--restart` and the `--health-*` flags, read as the docker CLI reads them; the engine checks the rest at create. */
function restartAndHealth(f: CreateFlags): Pick<CreateOptions, 'restartPolicy' | 'healthcheck'> {
  return {
    restartPolicy: parseRestartFlag(f.restart ?? ''),
    healthcheck: healthFromFlags({
      cmd: f.healthCmd,
      interval: f.healthInterval,
      timeout: f.healthTimeout,
      retries: f.healthRetries,
      startPeriod: f.healthStartPeriod,
      startInterval: f.healthStartInterval,
      none: f.healthcheck === false,
    }),
  };
}
