/**
 * berth's settings from its environment. Every `BERTH_*` variable is read here and nowhere
 * else: the process environment is read once, and each setting is parsed and checked at its
 * first use, so a bad value fails the command that needs it with a BerthError that names the
 * variable. docs/configuration.md lists them all (a unit test holds the two lists equal).
 *
 * A setting whose default is found on the machine (a tool's path) is `undefined` here when
 * unset: the module that runs the tool looks for it, so this module touches no file.
 */
import { BerthError } from '../errors/index.ts';
import { command, flag, integer, interfaceName, ipv4Subnet, type Kind, MiB, oneOf, path, pathList, size, twoOctets } from './kinds.ts';

export { parseSize } from './kinds.ts';

/** Who a variable is for: people running berth, the test suite, or bench/. */
export type Audience = 'users' | 'tests' | 'benchmarks';

interface Definition<T> {
  readonly variable: `BERTH_${string}`;
  readonly kind: Kind<T>;
  readonly fallback: T | undefined;
  readonly audience: Audience;
  /** The default as docs/configuration.md states it, when it is not `fallback` itself. */
  readonly defaultText?: string;
  readonly about: string;
}

/** Every setting, by the name the code reads it under. */
const DEFINITIONS = {
  stateRoot: {
    variable: 'BERTH_ROOT',
    kind: path,
    fallback: undefined,
    audience: 'users',
    defaultText: '/var/lib/berth as root, else $XDG_DATA_HOME/berth',
    about: 'The state root: images, layers, containers, volumes and the metadata database. `--root` takes precedence.',
  },
  runRoot: {
    variable: 'BERTH_RUN_ROOT',
    kind: path,
    fallback: undefined,
    audience: 'users',
    defaultText: '/run/berth as root (a subdirectory for a non-default state root), else $XDG_RUNTIME_DIR/berth',
    about: "Runtime state that a reboot should clear: runc's state, network namespaces, sockets.",
  },
  snapshotter: {
    variable: 'BERTH_SNAPSHOTTER',
    kind: oneOf('overlay', 'native'),
    fallback: undefined,
    audience: 'users',
    defaultText: 'overlay where overlayfs mounts, else native; recorded in the state root at its first use',
    about: 'The snapshot driver of a new state root. A root keeps the driver it was made with.',
  },
  builderKeepStorage: {
    variable: 'BERTH_BUILDER_KEEP_STORAGE',
    kind: size,
    fallback: undefined,
    audience: 'users',
    defaultText: '10% of the file system that holds the state root',
    about:
      "The build cache's budget (BuildKit's `gc.keepStorage`): after a build, the least recently used cache records go until the cache is under it. `0` turns the automatic clean-up off.",
  },
  runc: {
    variable: 'BERTH_RUNC',
    kind: command,
    fallback: undefined,
    audience: 'users',
    defaultText: 'the first runc in /usr/sbin, /usr/bin, /usr/local/sbin, /usr/local/bin, else `runc` on PATH',
    about: 'The OCI runtime that starts containers and build steps.',
  },
  zstd: {
    variable: 'BERTH_ZSTD',
    kind: command,
    fallback: undefined,
    audience: 'users',
    defaultText: 'the first zstd in /usr/bin, /usr/local/bin, /bin, else `zstd` on PATH',
    about: 'The zstd tool that reads and writes zstd-compressed layers.',
  },
  aardvarkDns: {
    variable: 'BERTH_AARDVARK',
    kind: command,
    fallback: undefined,
    audience: 'users',
    defaultText: "Podman's aardvark-dns in /usr/lib/podman, /usr/libexec/podman or /usr/bin, else on PATH",
    about: 'The DNS server that resolves container names on user-defined networks.',
  },
  cniPath: {
    variable: 'BERTH_CNI_PATH',
    kind: path,
    fallback: '/usr/lib/cni',
    audience: 'users',
    about: 'The directory of the CNI plugins (bridge, host-local, portmap, loopback).',
  },
  binfmtDir: {
    variable: 'BERTH_BINFMT_D',
    kind: path,
    fallback: '/usr/lib/binfmt.d',
    audience: 'users',
    about: "Where the emulators' binfmt_misc entries are found, for images of another architecture.",
  },
  netDir: {
    variable: 'BERTH_NET_DIR',
    kind: path,
    fallback: '/run/berth',
    audience: 'users',
    about: 'The machine-wide network state (IP leases, port maps, DNS), shared by every state root as they share the bridge.',
  },
  bridgeName: {
    variable: 'BERTH_BRIDGE',
    kind: interfaceName,
    fallback: 'berth0',
    audience: 'users',
    about: 'The Linux bridge of the default network.',
  },
  bridgeSubnet: {
    variable: 'BERTH_SUBNET',
    kind: ipv4Subnet,
    fallback: '10.87.0.0/16',
    audience: 'users',
    about: "The default network's subnet; set it when the default collides with a network of the host.",
  },
  networkPool: {
    variable: 'BERTH_NETWORK_POOL',
    kind: twoOctets,
    fallback: '10.89',
    audience: 'users',
    about: 'The /16 from which `network create` without `--subnet` takes a free /24.',
  },
  certsDir: {
    variable: 'BERTH_CERTS_D',
    kind: path,
    fallback: undefined,
    audience: 'users',
    defaultText: '/etc/berth/certs.d, then /etc/docker/certs.d',
    about:
      'Per-registry TLS files, as docker reads them: `<dir>/<host[:port]>/` with CAs (`*.crt`) and client certificates (`*.cert` with its `*.key`). Set, it is the only directory read.',
  },
  configFile: {
    variable: 'BERTH_CONFIG',
    kind: path,
    fallback: undefined,
    audience: 'users',
    defaultText: '/etc/berth/config.json as root, else $XDG_CONFIG_HOME/berth/config.json',
    about: "The config file (registry mirrors, insecure registries, address pools, log options, features), with keys as in docker's daemon.json.",
  },
  extraCaCerts: {
    variable: 'BERTH_EXTRA_CA_CERTS',
    kind: path,
    fallback: undefined,
    audience: 'users',
    defaultText: "unset: Node's CA store",
    about: "A PEM file of CAs trusted besides Node's own. bin/berth sets it from NODE_EXTRA_CA_CERTS, which it takes out of Node's way.",
  },
  cdiSpecDirs: {
    variable: 'BERTH_CDI_SPEC_DIRS',
    kind: pathList,
    fallback: undefined,
    audience: 'users',
    defaultText: '/etc/cdi:/var/run/cdi',
    about:
      'Where CDI device specs are read (`run --device vendor.com/class=name`, `--gpus`), later directories first on a clash. The global `--cdi-spec-dir` takes precedence.',
  },
  nofileHard: {
    variable: 'BERTH_NOFILE_HARD',
    kind: integer(1, 'open files'),
    fallback: 20000,
    audience: 'users',
    about: "The hard RLIMIT_NOFILE given to containers; never above berth's own hard limit, or runc fails.",
  },
  noNative: {
    variable: 'BERTH_NO_NATIVE',
    kind: flag,
    fallback: false,
    audience: 'tests',
    about: "Leaves berth's addon (dist/berth_sys.node) unloaded, so every system call goes through its fallback: a spawned tool or Node.",
  },
  timing: {
    variable: 'BERTH_TIMING',
    kind: flag,
    fallback: false,
    audience: 'benchmarks',
    about: 'Prints `berth-timing <ms> <boundary>` lines to stderr at the boundaries of a command (progress/timing.ts).',
  },
  rangeThreshold: {
    variable: 'BERTH_RANGE_THRESHOLD',
    kind: integer(1, 'bytes'),
    fallback: 64 * MiB,
    audience: 'tests',
    defaultText: '67108864 (64 MiB)',
    about: 'Blobs from this size up are pulled as parallel ranged parts.',
  },
  rangePart: {
    variable: 'BERTH_RANGE_PART',
    kind: integer(1, 'bytes'),
    fallback: 8 * MiB,
    audience: 'tests',
    defaultText: '8388608 (8 MiB)',
    about: 'The size of one ranged part of a pull.',
  },
  layerThreadThreshold: {
    variable: 'BERTH_THREAD_THRESHOLD',
    kind: integer(0, 'bytes'),
    fallback: 32 * MiB,
    audience: 'tests',
    defaultText: '33554432 (32 MiB)',
    about: 'Layers whose blob is this size or bigger are extracted on a worker thread.',
  },
  copyThreadThreshold: {
    variable: 'BERTH_COPY_THREAD_THRESHOLD',
    kind: integer(0, 'files'),
    fallback: 4000,
    audience: 'benchmarks',
    about: 'From this many small files up, a COPY copies half of them on a worker thread.',
  },
  uploadChunk: {
    variable: 'BERTH_UPLOAD_CHUNK',
    kind: integer(1, 'bytes'),
    fallback: 64 * MiB,
    audience: 'tests',
    defaultText: '67108864 (64 MiB)',
    about: 'Blobs bigger than this are pushed in PATCH pieces of this size.',
  },
} as const satisfies Record<string, Definition<never> | Definition<string> | Definition<readonly string[]> | Definition<number> | Definition<boolean>>;

type Definitions = typeof DEFINITIONS;
type ValueOf<D> = D extends { kind: Kind<infer T>; fallback: infer F } ? (F extends undefined ? T | undefined : T) : never;

/** Every setting, parsed. */
export type Settings = { readonly [K in keyof Definitions]: ValueOf<Definitions[K]> };
export type SettingName = keyof Settings;

/** One row of docs/configuration.md. */
export interface SettingInfo {
  readonly name: SettingName;
  readonly variable: string;
  readonly type: string;
  readonly defaultText: string;
  readonly audience: Audience;
  readonly about: string;
}

/** The settings as a table, for the docs and their test. */
export const SETTINGS: readonly SettingInfo[] = (Object.keys(DEFINITIONS) as SettingName[]).map((name) => {
  const d: Definition<unknown> = DEFINITIONS[name];
  return {
    name,
    variable: d.variable,
    type: d.kind.name,
    defaultText: d.defaultText ?? String(d.fallback),
    audience: d.audience,
    about: d.about,
  };
});

type Environment = Readonly<Record<string, string | undefined>>;

/**
 * The settings of an environment; each is parsed at its first read and kept. An empty
 * variable counts as unset.
 */
export function settingsFrom(env: Environment): Settings {
  const values = new Map<SettingName, unknown>();
  const out = {} as Record<SettingName, unknown>;
  for (const name of Object.keys(DEFINITIONS) as SettingName[]) {
    Object.defineProperty(out, name, {
      enumerable: true,
      get: () => {
        if (!values.has(name)) values.set(name, parseSetting(DEFINITIONS[name] as Definition<unknown>, env));
        return values.get(name);
      },
    });
  }
  return Object.freeze(out) as Settings;
}

function parseSetting<T>(d: Definition<T>, env: Environment): T | undefined {
  const raw = env[d.variable];
  if (raw === undefined || raw === '') return d.fallback;
  const value = d.kind.parse(raw);
  if (value === undefined) {
    throw new BerthError('INVALID_ARGUMENT', `${d.variable}=${JSON.stringify(raw)} is not ${d.kind.expected}`, {
      hint: `set ${d.variable} to ${d.kind.expected}, or unset it (docs/configuration.md)`,
    });
  }
  return value;
}

let current: Settings | undefined;

/** This process's settings, from the environment it started with. */
export function settings(): Settings {
  return (current ??= settingsFrom({ ...process.env }));
}

/** The variables that hand `values` to a berth process this one starts (the rootless entry's re-exec). */
export function settingsEnv(values: { readonly [K in SettingName]?: string }): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) if (value !== undefined) env[DEFINITIONS[name as SettingName].variable] = value;
  return env;
}
