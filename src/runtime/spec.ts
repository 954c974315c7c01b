/**
 * Builds the OCI runtime spec (runc's config.json) from what create decided, with Docker's
 * defaults: capabilities, masked and read-only /proc paths, /dev, /dev/shm, cgroup limits,
 * the env Docker composes (PATH, HOSTNAME, TERM, image+user env, HOME), `--init`, and
 * Docker's default seccomp profile (seccomp.ts).
 */
import { existsSync } from 'node:fs';
import { applyCdiInjection, type CdiInjection, type GpuRequest } from '../cdi/index.ts';
import { BerthError } from '../errors/index.ts';
import { ALL_CAPS, DEFAULT_CAPS, DEFAULT_PATH, MASKED_PATHS, READONLY_PATHS, defaultDeviceRules, defaultMounts, type SpecMount } from './defaults.ts';
import { deviceOf } from './devices.ts';
import { cgroupResources, DEFAULT_SHM_SIZE, type HostResourceOptions } from './host-resources.ts';
import { containerNamespaces, type NamespaceOptions, type NetNamespace, specSysctls, withIpcShm } from './namespaces.ts';
import { seccompFor } from './seccomp.ts';
import { parseSecurityOpts } from './security-opt.ts';
import { specRlimits } from './ulimits.ts';
import type { ResolvedUser } from './user.ts';

/** The init for `--init`: a static tini, so it runs in any image (busybox has no libc). */
export const INIT_BINARY = ['/usr/bin/tini-static', '/usr/bin/docker-init', '/usr/bin/tini'].find((p) => existsSync(p)) ?? '/usr/bin/tini-static';

/** What create decided for the runtime; the IPC/PID/sysctl and cgroup fields are declared beside their use. */
export interface RuntimeOptions extends NamespaceOptions, HostResourceOptions {
  readonly readOnly?: boolean;
  readonly capAdd?: readonly string[];
  readonly capDrop?: readonly string[];
  readonly privileged?: boolean;
  readonly securityOpt?: readonly string[];
  readonly init?: boolean;
  readonly memory?: number;
  readonly memorySwap?: number;
  readonly cpus?: number;
  readonly pidsLimit?: number;
  /** `--ulimit` values, NAME=SOFT[:HARD] (ulimits.ts). */
  readonly ulimits?: readonly string[];
  readonly shmSize?: number;
  readonly groupAdd?: readonly string[];
  /** Host devices, as `--device` specs (devices.ts). */
  readonly devices?: readonly string[];
  /** `--oom-score-adj`: the container process's OOM score adjustment, -1000..1000. */
  readonly oomScoreAdj?: number;
  /** A terminal's first size, [rows, cols]. */
  readonly consoleSize?: readonly [number, number];
  /** CDI devices by qualified name (`vendor.com/class=name`), injected when the spec is built (cdi/). */
  readonly cdiDevices?: readonly string[];
  /** `--gpus` requests, served as `nvidia.com/gpu` CDI devices. */
  readonly gpus?: readonly GpuRequest[];
  /** The CDI spec dirs of the create. */
  readonly cdiSpecDirs?: readonly string[];
}

export type { NetNamespace } from './namespaces.ts';

export interface SpecInput {
  readonly id: string;
  readonly rootfs: string;
  readonly args: readonly string[];
  readonly env: readonly string[];
  readonly user: ResolvedUser;
  readonly workdir: string;
  readonly hostname: string;
  readonly tty: boolean;
  readonly mounts: readonly SpecMount[];
  readonly netns: NetNamespace;
  readonly options: RuntimeOptions;
  /** Hard limits of this process: a spec may never ask above them. */
  readonly hardLimits?: Readonly<Record<string, number>>;
  readonly initPath?: string;
  /** What the container's CDI devices add (cdi/request.ts resolved it from `options`). */
  readonly cdi?: CdiInjection;
}

function normCap(c: string): string {
  const u = c.toUpperCase();
  return u === 'ALL' ? 'ALL' : u.startsWith('CAP_') ? u : `CAP_${u}`;
}

export function capabilitySet(opts: RuntimeOptions): string[] {
  if (opts.privileged) return [...ALL_CAPS];
  const add = (opts.capAdd ?? []).map(normCap);
  const drop = (opts.capDrop ?? []).map(normCap);
  for (const c of [...add, ...drop]) {
    if (c !== 'ALL' && !ALL_CAPS.includes(c)) throw new BerthError('INVALID_ARGUMENT', `unknown capability: "${c}"`);
  }
  let caps = add.includes('ALL') ? [...ALL_CAPS] : [...DEFAULT_CAPS];
  if (drop.includes('ALL')) caps = [];
  caps = caps.filter((c) => !drop.includes(c));
  for (const c of add) if (c !== 'ALL' && !caps.includes(c)) caps.push(c);
  return caps;
}

/** Docker's env: default PATH and HOSTNAME first, TERM for a tty, then the container env, then HOME. */
export function composeEnv(env: readonly string[], hostname: string, tty: boolean, home: string): string[] {
  const out: string[] = [`PATH=${DEFAULT_PATH}`, `HOSTNAME=${hostname}`];
  if (tty) out.push('TERM=xterm');
  for (const e of env) {
    const k = e.split('=')[0]!;
    const i = out.findIndex((x) => x.split('=')[0] === k);
    if (i >= 0) out[i] = e;
    else out.push(e);
  }
  if (!out.some((e) => e.startsWith('HOME='))) out.push(`HOME=${home}`);
  return out;
}

export function buildSpec(input: SpecInput): Record<string, unknown> {
  const spec = buildBaseSpec(input);
  if (input.cdi) applyCdiInjection(spec, input.cdi);
  return spec;
}

function buildBaseSpec(input: SpecInput): Record<string, unknown> {
  const o = input.options;
  const caps = capabilitySet(o);
  const security = parseSecurityOpts(o.securityOpt);
  const noNewPrivileges = security.noNewPrivileges;
  const seccomp = seccompFor(o, caps);
  const args = o.init ? ['/sbin/docker-init', '--', ...input.args] : [...input.args];
  const mounts: SpecMount[] = withIpcShm(defaultMounts(o.shmSize || DEFAULT_SHM_SIZE), o);
  if (o.init) mounts.push({ destination: '/sbin/docker-init', type: 'bind', source: input.initPath ?? INIT_BINARY, options: ['rbind', 'ro', 'rprivate'] });
  mounts.push(...input.mounts);
  const namespaces = containerNamespaces(o, input.netns);
  const devices = (o.devices ?? []).map(deviceOf);
  const resources: Record<string, unknown> = { devices: [...defaultDeviceRules(!!o.privileged), ...devices.map((d) => d.rule)], ...cgroupResources(o) };
  return {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: input.tty,
      ...(input.tty && o.consoleSize ? { consoleSize: { height: o.consoleSize[0], width: o.consoleSize[1] } } : {}),
      user: { uid: input.user.uid, gid: input.user.gid, ...(input.user.additionalGids.length ? { additionalGids: input.user.additionalGids } : {}) },
      args,
      env: composeEnv(input.env, input.hostname, input.tty, input.user.home),
      cwd: input.workdir || '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] },
      rlimits: specRlimits(o.ulimits ?? [], input.hardLimits),
      noNewPrivileges,
      oomScoreAdj: o.oomScoreAdj ?? 0,
    },
    root: { path: input.rootfs, readonly: !!o.readOnly },
    hostname: input.hostname,
    mounts,
    linux: {
      ...(seccomp ? { seccomp } : {}),
      ...(devices.length ? { devices: devices.map((d) => d.node) } : {}),
      resources,
      ...specSysctls(o, input.netns),
      cgroupsPath: `/berth/${input.id}`,
      namespaces,
      maskedPaths: o.privileged || security.unconfinedSystemPaths ? [] : MASKED_PATHS,
      readonlyPaths: o.privileged || security.unconfinedSystemPaths ? [] : READONLY_PATHS,
    },
  };
}
