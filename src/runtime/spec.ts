/**
 * Builds the OCI runtime spec (runc's config.json) from what create decided, with Docker's
 * defaults: capabilities, masked and read-only /proc paths, /dev, /dev/shm, cgroup limits,
 * the env Docker composes (PATH, HOSTNAME, TERM, image+user env, HOME), `--init`, and
 * Docker's default seccomp profile (seccomp.ts).
 */
import { existsSync } from 'node:fs';
import { BerthError } from '../errors/index.ts';
import { ALL_CAPS, DEFAULT_CAPS, DEFAULT_PATH, MASKED_PATHS, READONLY_PATHS, defaultDeviceRules, defaultMounts, type SpecMount } from './defaults.ts';
import { deviceOf } from './devices.ts';
import { seccompFor } from './seccomp.ts';
import { parseSecurityOpts } from './security-opt.ts';
import type { ResolvedUser } from './user.ts';

/** The init for `--init`: a static tini, so it runs in any image (busybox has no libc). */
export const INIT_BINARY = ['/usr/bin/tini-static', '/usr/bin/docker-init', '/usr/bin/tini'].find((p) => existsSync(p)) ?? '/usr/bin/tini-static';

export interface RuntimeOptions {
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
  readonly ulimits?: readonly string[];
  readonly shmSize?: number;
  readonly groupAdd?: readonly string[];
  /** Host devices, as `--device` specs (devices.ts). */
  readonly devices?: readonly string[];
  /** `--oom-score-adj`: the container process's OOM score adjustment, -1000..1000. */
  readonly oomScoreAdj?: number;
  /** A terminal's first size, [rows, cols]. */
  readonly consoleSize?: readonly [number, number];
}

export type NetNamespace = { kind: 'new' } | { kind: 'host' } | { kind: 'path'; path: string };

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

const RLIMITS: Record<string, string> = {
  nofile: 'RLIMIT_NOFILE',
  nproc: 'RLIMIT_NPROC',
  core: 'RLIMIT_CORE',
  memlock: 'RLIMIT_MEMLOCK',
  stack: 'RLIMIT_STACK',
  fsize: 'RLIMIT_FSIZE',
  cpu: 'RLIMIT_CPU',
  data: 'RLIMIT_DATA',
  as: 'RLIMIT_AS',
  locks: 'RLIMIT_LOCKS',
  sigpending: 'RLIMIT_SIGPENDING',
  msgqueue: 'RLIMIT_MSGQUEUE',
  nice: 'RLIMIT_NICE',
  rtprio: 'RLIMIT_RTPRIO',
  rss: 'RLIMIT_RSS',
};

export function parseUlimits(specs: readonly string[], hard: Readonly<Record<string, number>> = {}) {
  return specs.map((s) => {
    const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(s);
    if (!m || !RLIMITS[m[1]!])
      throw new BerthError('INVALID_ARGUMENT', `invalid ulimit argument: "${s}"`, { hint: 'use name=soft[:hard], e.g. nofile=1024:2048' });
    const type = RLIMITS[m[1]!]!;
    const soft = Number(m[2]);
    const hardWanted = m[3] === undefined ? soft : Number(m[3]);
    if (soft > hardWanted) throw new BerthError('INVALID_ARGUMENT', `ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hardWanted}`);
    const cap = hard[type];
    if (cap !== undefined && hardWanted > cap) {
      throw new BerthError('INVALID_ARGUMENT', `ulimit ${m[1]}=${hardWanted} is above this host's hard limit of ${cap}`, { hint: `ask for at most ${cap}` });
    }
    return { type, soft, hard: hardWanted };
  });
}

export function buildSpec(input: SpecInput): Record<string, unknown> {
  const o = input.options;
  const caps = capabilitySet(o);
  const security = parseSecurityOpts(o.securityOpt);
  const noNewPrivileges = security.noNewPrivileges;
  const seccomp = seccompFor(o, caps);
  const args = o.init ? ['/sbin/docker-init', '--', ...input.args] : [...input.args];
  const mounts: SpecMount[] = [...defaultMounts(o.shmSize ?? 64 * 1024 * 1024)];
  if (o.init) mounts.push({ destination: '/sbin/docker-init', type: 'bind', source: input.initPath ?? INIT_BINARY, options: ['rbind', 'ro', 'rprivate'] });
  mounts.push(...input.mounts);
  const namespaces: Array<Record<string, string>> = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }];
  if (input.netns.kind === 'new') namespaces.push({ type: 'network' });
  if (input.netns.kind === 'path') namespaces.push({ type: 'network', path: input.netns.path });
  const devices = (o.devices ?? []).map(deviceOf);
  const resources: Record<string, unknown> = { devices: [...defaultDeviceRules(!!o.privileged), ...devices.map((d) => d.rule)] };
  if (o.memory) resources.memory = { limit: o.memory, swap: o.memorySwap === -1 ? -1 : (o.memorySwap ?? o.memory * 2) };
  if (o.cpus) resources.cpu = { quota: Math.round(o.cpus * 100000), period: 100000 };
  if (o.pidsLimit !== undefined && o.pidsLimit > 0) resources.pids = { limit: o.pidsLimit };
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
      rlimits: parseUlimits(o.ulimits ?? [], input.hardLimits),
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
      cgroupsPath: `/berth/${input.id}`,
      namespaces,
      maskedPaths: o.privileged || security.unconfinedSystemPaths ? [] : MASKED_PATHS,
      readonlyPaths: o.privileged || security.unconfinedSystemPaths ? [] : READONLY_PATHS,
    },
  };
}
