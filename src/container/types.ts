/** Plain data for containers: what `create` was asked, and what is known of the process. */
import type { HealthConfig, HealthState } from './health-config.ts';
import type { RestartPolicy } from './restart-policy.ts';
import type { LogConfig } from './run-config.ts';

export type MountType = 'volume' | 'bind' | 'tmpfs';

export interface ContainerMount {
  readonly type: MountType;
  /** Host path (bind, volume mountpoint) or '' for tmpfs. */
  readonly source: string;
  readonly destination: string;
  readonly readonly: boolean;
  readonly volumeName?: string;
  readonly anonymous?: boolean;
  /** tmpfs options such as size=64m,mode=1777. */
  readonly options?: readonly string[];
  /** `-v NAME:/dir:nocopy`: the volume is not filled from the image's dir. */
  readonly noCopy?: boolean;
}

export interface PortBinding {
  readonly hostIp: string;
  readonly hostPort: number;
  readonly containerPort: number;
  readonly protocol: 'tcp' | 'udp' | 'sctp';
}

/** Everything `create` decided; start needs nothing else. */
export interface ContainerConfigRecord {
  readonly path: string;
  readonly args: readonly string[];
  readonly cmd?: readonly string[];
  readonly entrypoint?: readonly string[];
  readonly env: readonly string[];
  readonly user: string;
  readonly workdir: string;
  readonly hostname: string;
  readonly tty: boolean;
  readonly interactive: boolean;
  readonly network: string;
  /** Extra names the container answers to on a user network (`--network-alias`). */
  readonly networkAliases?: readonly string[];
  readonly publish: readonly string[];
  readonly mounts: readonly ContainerMount[];
  /** Volume names this container holds (so volume rm can refuse). */
  readonly volumes: readonly string[];
  readonly autoRemove: boolean;
  readonly labels: Readonly<Record<string, string>>;
  readonly stopSignal: string;
  /** Whether `--stop-signal` or the image's STOPSIGNAL named `stopSignal` (docker's Config.StopSignal is set): a kill then stops it only with that signal. */
  readonly stopSignalSet?: boolean;
  readonly stopTimeout: number;
  /** `--add-host` entries, `NAME:IP` (IP may be `host-gateway`, resolved at start). */
  readonly extraHosts?: readonly string[];
  /** `--dns`, `--dns-search`, `--dns-option`: they replace the host's in resolv.conf. */
  readonly dns?: readonly string[];
  readonly dnsSearch?: readonly string[];
  readonly dnsOptions?: readonly string[];
  /** `--log-driver`/`--log-opt`; absent is json-file without limits. */
  readonly logConfig?: LogConfig;
  /** `-a`: the streams an attached run shows (all when absent). */
  readonly attach?: readonly ('stdin' | 'stdout' | 'stderr')[];
  /** `-P`: every exposed port was given a random host port (they are in `publish`). */
  readonly publishAll?: boolean;
  /** `--volumes-from` as given; their mounts are in `mounts`. */
  readonly volumesFrom?: readonly string[];
  /** The runtime's options, kept to rebuild the spec on start. */
  readonly runtime: Readonly<Record<string, unknown>>;
  /** `--restart`; absent is `no` (records made before restart policies). `update --restart` changes it. */
  readonly restartPolicy?: RestartPolicy;
  /** The health check, the image's HEALTHCHECK merged under the `--health-*` flags (docker's Config.Healthcheck). */
  readonly healthcheck?: HealthConfig;
}

/** `restarting`: its monitor waits out the back-off before starting it again (restart-policy.ts). */
export type ContainerStatus = 'created' | 'running' | 'restarting' | 'exited' | 'removing' | 'dead';

export interface ContainerState {
  readonly status: ContainerStatus;
  readonly pid: number;
  readonly exitCode: number;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly oomKilled: boolean;
  readonly error: string;
  readonly monitorPid?: number;
  readonly ports?: readonly PortBinding[];
  readonly ipAddress?: string;
  readonly network?: unknown;
  /** Restarts by its policy since the user last started it (docker's RestartCount). */
  readonly restartCount?: number;
  /** The user stopped or killed it: no restart, and `unless-stopped` stays down at boot (docker's HasBeenManuallyStopped). */
  readonly stoppedByUser?: boolean;
  /** The last back-off the monitor waited, for the next one to double. */
  readonly restartDelayMs?: number;
  /** The health check's state, once a run with one has started (docker's State.Health). */
  readonly health?: HealthState;
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';

export function initialState(): ContainerState {
  return { status: 'created', pid: 0, exitCode: 0, startedAt: ZERO_TIME, finishedAt: ZERO_TIME, oomKilled: false, error: '' };
}
