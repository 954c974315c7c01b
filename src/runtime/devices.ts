/**
 * Host devices passed into a container (`--device HOST[:CONTAINER][:PERMS]`, the API's
 * HostConfig.Devices): each becomes a device node in the spec, created by runc inside the
 * container, and a rule in the device cgroup that allows it. The host path must be a
 * character or block device; its type and numbers are read when the spec is built.
 */
import { statSync } from 'node:fs';
import { posix } from 'node:path';
import { BerthError, errnoCode } from '../errors/index.ts';

export interface DeviceRequest {
  readonly pathOnHost: string;
  readonly pathInContainer: string;
  /** Some of r (read), w (write), m (mknod). */
  readonly permissions: string;
}

/** Docker's `--device` syntax, checked as the docker CLI checks it. */
export function parseDevice(spec: string): DeviceRequest {
  const parts = spec.split(':');
  if (parts.length > 3 || !parts[0]) throw new BerthError('INVALID_ARGUMENT', `invalid device specification: ${spec}`);
  let [pathOnHost, pathInContainer, permissions] = parts as [string, string?, string?];
  if (parts.length === 2 && /^[rwm]+$/.test(pathInContainer!)) {
    permissions = pathInContainer;
    pathInContainer = undefined;
  }
  permissions ||= 'rwm';
  if (!/^[rwm]{1,3}$/.test(permissions)) throw new BerthError('INVALID_ARGUMENT', `invalid device mode: ${permissions}`);
  pathInContainer ||= pathOnHost;
  for (const p of [pathOnHost, pathInContainer]) {
    if (!p.startsWith('/')) throw new BerthError('INVALID_ARGUMENT', `invalid device specification: ${spec}: paths must be absolute`);
  }
  return { pathOnHost, pathInContainer: posix.normalize(pathInContainer), permissions };
}

/** The spec's device node and cgroup rule of `spec`; an absent or non-device host path is an error naming it. */
export function deviceOf(spec: string): { node: Record<string, unknown>; rule: Record<string, unknown> } {
  const d = parseDevice(spec);
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(d.pathOnHost);
  } catch (e) {
    const prefix = `error gathering device information while adding custom device "${d.pathOnHost}"`;
    // A missing path exits 127 as with docker, whose CLI gives that status to any error that
    // says "no such file or directory"; the API's 400 carries the same words to the docker
    // CLI. Not NOT_FOUND: the docker CLI answers any 404 from create by pulling the image.
    if (errnoCode(e) === 'ENOENT') throw new BerthError('CMD_NOT_FOUND', `${prefix}: no such file or directory`);
    throw new BerthError('INVALID_ARGUMENT', `${prefix}: ${(e as Error).message}`);
  }
  if (!st.isCharacterDevice() && !st.isBlockDevice()) {
    throw new BerthError('INVALID_ARGUMENT', `error gathering device information while adding custom device "${d.pathOnHost}": not a device node`);
  }
  const type = st.isBlockDevice() ? 'b' : 'c';
  const major = Number((BigInt(st.rdev) >> 8n) & 0xfffn);
  const minor = Number((BigInt(st.rdev) & 0xffn) | ((BigInt(st.rdev) >> 12n) & 0xfff00n));
  return {
    node: { path: d.pathInContainer, type, major, minor, fileMode: st.mode & 0o777, uid: st.uid, gid: st.gid },
    rule: { allow: true, type, major, minor, access: d.permissions },
  };
}
