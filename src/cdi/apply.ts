/**
 * Applies a CDI injection (resolve.ts) to an OCI runtime spec, as the reference's
 * ContainerEdits.Apply does:
 *
 * - env: each `NAME=value` replaces the variable of that name, or is appended;
 * - device nodes: a node's missing type, numbers and file mode are read from the host node
 *   (`hostPath`, else `path`), which must be a device (or a fifo) unless the spec gives the
 *   type and major itself; its uid/gid default to the process's when those are not root. It
 *   replaces any device at the same path in `linux.devices`, and a character or block device
 *   gets a cgroup rule allowing its permissions (`rwm` when unset, none for `none`);
 * - mounts replace any mount at the same destination, then the mounts are ordered parents
 *   first (a stable sort on the destination's depth), so a CDI mount under a volume lands on it;
 * - hooks go to `hooks.<name>`; additionalGids (0 ignored) to the process user; intelRdt to
 *   `linux.intelRdt`.
 */
import { lstatSync } from 'node:fs';
import { posix } from 'node:path';
import { BerthError } from '../errors/index.ts';
import type { CdiInjection, CdiOciMount } from './resolve.ts';
import type { CdiDeviceNode } from './spec-schema.ts';

type Obj = Record<string, unknown>;

interface HostNode {
  type: 'b' | 'c' | 'p';
  major: number;
  minor: number;
  fileMode: number;
}

function hostNode(path: string): HostNode {
  const st = lstatSync(path, { bigint: true });
  const type = st.isBlockDevice() ? 'b' : st.isCharacterDevice() ? 'c' : st.isFIFO() ? 'p' : undefined;
  if (!type) throw new Error('not a device node');
  const rdev = st.rdev;
  return {
    type,
    major: Number((rdev >> 8n) & 0xfffn),
    minor: Number((rdev & 0xffn) | ((rdev >> 12n) & 0xfff00n)),
    fileMode: Number(st.mode & 0o7777n),
  };
}

/** The OCI device of a CDI node, its missing facts filled in from the host. */
export function completeDeviceNode(d: CdiDeviceNode): {
  path: string;
  type: string;
  major: number;
  minor: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
} {
  const hostPath = d.hostPath ?? d.path;
  const minimal = d.type !== undefined && ((d.major ?? 0) !== 0 || d.type === 'p');
  let host: HostNode | undefined;
  try {
    host = hostNode(hostPath);
  } catch (e) {
    if (!minimal) {
      throw new BerthError(
        'INVALID_ARGUMENT',
        `CDI device node "${d.path}": cannot use host device "${hostPath}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
        {
          hint: 'the spec names a host path that is not a device node: regenerate the spec, or give type and major in it',
        },
      );
    }
  }
  const fileMode = d.fileMode ?? host?.fileMode;
  let type = d.type === 'u' ? 'c' : d.type;
  let { major, minor } = d;
  if (!minimal && host) {
    type ??= host.type;
    if (type !== host.type)
      throw new BerthError('INVALID_ARGUMENT', `CDI device node "${d.path}": host "${hostPath}" is of type ${host.type}, the spec says ${type}`);
    if (type !== 'p' && !major) {
      major = host.major;
      minor = host.minor;
    }
  }
  return { path: d.path, type: type!, major: major ?? 0, minor: minor ?? 0, ...(fileMode !== undefined ? { fileMode } : {}), uid: d.uid, gid: d.gid };
}

const obj = (parent: Obj, key: string): Obj => {
  const v = parent[key];
  if (v && typeof v === 'object' && !Array.isArray(v)) return v as Obj;
  const fresh: Obj = {};
  parent[key] = fresh;
  return fresh;
};
const list = <T>(parent: Obj, key: string): T[] => {
  const v = parent[key];
  if (Array.isArray(v)) return v as T[];
  const fresh: T[] = [];
  parent[key] = fresh;
  return fresh;
};

function applyEnv(process: Obj, env: readonly string[]): void {
  const out = list<string>(process, 'env');
  for (const e of env) {
    const key = e.slice(0, e.indexOf('='));
    const i = out.findIndex((x) => x.slice(0, x.indexOf('=')) === key);
    if (i >= 0) out[i] = e;
    else out.push(e);
  }
}

function applyDevices(spec: Obj, process: Obj, nodes: readonly CdiDeviceNode[]): void {
  const linux = obj(spec, 'linux');
  const user = obj(process, 'user');
  for (const n of nodes) {
    const dev = completeDeviceNode(n);
    if (dev.uid === undefined && typeof user.uid === 'number' && user.uid > 0) dev.uid = user.uid;
    if (dev.gid === undefined && typeof user.gid === 'number' && user.gid > 0) dev.gid = user.gid;
    const clean = Object.fromEntries(Object.entries(dev).filter(([, v]) => v !== undefined));
    const devices = list<Obj>(linux, 'devices').filter((d) => d.path !== dev.path);
    devices.push(clean);
    linux.devices = devices;
    if (dev.type === 'b' || dev.type === 'c') {
      const access = n.permissions === undefined ? 'rwm' : n.permissions === 'none' ? '' : n.permissions;
      list<Obj>(obj(linux, 'resources'), 'devices').push({ allow: true, type: dev.type, major: dev.major, minor: dev.minor, access });
    }
  }
}

function applyMounts(spec: Obj, mounts: readonly CdiOciMount[]): void {
  if (!mounts.length) return;
  let all = list<CdiOciMount>(spec, 'mounts');
  for (const m of mounts) {
    all = all.filter((x) => x.destination !== m.destination);
    all.push({ ...m, options: [...(m.options ?? [])] });
  }
  const depth = (m: CdiOciMount) => posix.normalize(m.destination).split('/').length - 1;
  spec.mounts = all
    .map((m, i) => [m, i] as const)
    .sort((a, b) => depth(a[0]) - depth(b[0]) || a[1] - b[1])
    .map(([m]) => m);
}

/** Edits `spec` (an OCI runtime spec being built) in place. */
export function applyCdiInjection(spec: Obj, injection: CdiInjection): void {
  const process = obj(spec, 'process');
  applyEnv(process, injection.env);
  applyDevices(spec, process, injection.deviceNodes);
  applyMounts(spec, injection.mounts);
  if (injection.hooks.length) {
    const hooks = obj(spec, 'hooks');
    for (const h of injection.hooks) {
      list<Obj>(hooks, h.hookName).push({
        path: h.path,
        ...(h.args ? { args: [...h.args] } : {}),
        ...(h.env ? { env: [...h.env] } : {}),
        ...(h.timeout ? { timeout: h.timeout } : {}),
      });
    }
  }
  const gids = injection.additionalGids.filter((g) => g !== 0);
  if (gids.length) {
    const user = obj(process, 'user');
    const have = list<number>(user, 'additionalGids');
    for (const g of gids) if (!have.includes(g)) have.push(g);
  }
  if (injection.intelRdt) {
    const r = injection.intelRdt;
    obj(spec, 'linux').intelRdt = Object.fromEntries(
      Object.entries({
        closID: r.closID,
        l3CacheSchema: r.l3CacheSchema,
        memBwSchema: r.memBwSchema,
        schemata: r.schemata,
        enableMonitoring: r.enableMonitoring,
      }).filter(([, v]) => v !== undefined),
    );
  }
}
