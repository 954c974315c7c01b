/**
 * `-v`, `--mount`, `--tmpfs` and the image's VOLUMEs, resolved to host paths. Named
 * volumes are created on first use; every image VOLUME not covered by a user mount gets an
 * anonymous volume. Copy-up from the image happens at start, when the rootfs is mounted.
 */
import { isAbsolute, posix } from 'node:path';
import { mkdir, stat } from 'node:fs/promises';
import { parseKeyValues } from '../dockerfile/key-values.ts';
import { BerthError } from '../errors/index.ts';
import type { VolumeStore } from '../volume/index.ts';
import type { ContainerMount } from './types.ts';

export interface MountRequest {
  readonly volumes: readonly string[]; // -v
  readonly mounts: readonly string[]; // --mount
  readonly tmpfs: readonly string[]; // --tmpfs
  readonly imageVolumes: readonly string[];
  /** `--volumes-from`'s mounts: below the user's own, above the image's VOLUMEs. */
  readonly inherited?: readonly ContainerMount[];
}

function cleanDest(dest: string, spec: string): string {
  if (!dest.startsWith('/')) throw new BerthError('INVALID_ARGUMENT', `invalid mount config: mount path must be absolute: "${spec}"`);
  return posix.normalize(dest).replace(/\/+$/, '') || '/';
}

/** `-v SRC:DEST[:MODE]`, its sections checked in order as the docker CLI checks them. */
export function parseV(spec: string): { source: string; dest: string; ro: boolean; noCopy?: boolean } {
  if (spec === '') throw new BerthError('INVALID_ARGUMENT', 'invalid empty volume spec');
  const parts = spec.split(':');
  if (spec.length > 2) {
    parts.forEach((part, i) => {
      if (part === '')
        throw new BerthError('INVALID_ARGUMENT', `invalid spec: ${spec}: empty section between colons`, {
          hint: 'use SOURCE:DESTINATION[:MODE], or DESTINATION alone for an anonymous volume',
        });
      if (i >= 2 && i < parts.length - 1) throw new BerthError('INVALID_ARGUMENT', `invalid spec: ${spec}: too many colons`);
    });
  }
  if (parts.length === 1) return { source: '', dest: parts[0]!, ro: false };
  if (parts.length > 3) throw new BerthError('INVALID_ARGUMENT', `invalid volume specification: '${spec}'`);
  const [source, dest, mode = ''] = parts as [string, string, string?];
  const modes = mode.split(',').filter(Boolean);
  for (const m of modes) {
    if (!['ro', 'rw', 'z', 'Z', 'nocopy', 'rprivate', 'private', 'rshared', 'shared', 'rslave', 'slave'].includes(m)) {
      throw new BerthError('INVALID_ARGUMENT', `invalid mode: ${m}`);
    }
  }
  // z and Z relabel for SELinux, which this host does not enforce: accepted and ignored, as docker does then.
  return { source, dest, ro: modes.includes('ro'), ...(modes.includes('nocopy') ? { noCopy: true } : {}) };
}

function parseMountFlag(spec: string): { type: string; source: string; dest: string; ro: boolean; options: string[]; noCopy?: boolean } {
  const kv: Record<string, string> = {};
  let ro = false;
  let noCopy = false;
  for (const { key: k, value } of parseKeyValues(spec)) {
    const key = k.trim().toLowerCase();
    const v = value ?? '';
    if (key === 'readonly' || key === 'ro') ro = v === '' || v === 'true' || v === '1';
    else if (key === 'volume-nocopy') noCopy = v === '' || v === 'true' || v === '1';
    else kv[key] = v;
  }
  const type = kv.type ?? 'volume';
  const dest = kv.target ?? kv.destination ?? kv.dst ?? '';
  if (!dest) throw new BerthError('INVALID_ARGUMENT', `invalid argument "${spec}" for "--mount" flag: target is required`);
  const options: string[] = [];
  if (kv['tmpfs-size']) options.push(`size=${kv['tmpfs-size']}`);
  if (kv['tmpfs-mode']) options.push(`mode=${kv['tmpfs-mode']}`);
  return { type, source: kv.source ?? kv.src ?? '', dest, ro, options, ...(noCopy ? { noCopy } : {}) };
}

async function resolveSource(
  volumes: VolumeStore,
  source: string,
  dest: string,
  ro: boolean,
  spec: string,
  forceType?: string,
  noCopy?: boolean,
): Promise<ContainerMount> {
  const destination = cleanDest(dest, spec);
  if (forceType === 'bind' || (forceType === undefined && (isAbsolute(source) || source.startsWith('.')))) {
    if (!isAbsolute(source)) throw new BerthError('INVALID_ARGUMENT', `invalid mount config: bind source path must be absolute: "${source}"`);
    const st = await stat(source).catch(() => undefined);
    if (!st) {
      // A bad request, not a missing object: the docker CLI answers a 404 from create by pulling the image.
      if (forceType === 'bind') throw new BerthError('INVALID_ARGUMENT', `invalid mount config for type "bind": bind source path does not exist: ${source}`);
      await mkdir(source, { recursive: true }); // -v creates a missing host dir, as docker does
    }
    return { type: 'bind', source, destination, readonly: ro };
  }
  const vol = await volumes.create(source || undefined, { anonymous: !source });
  return { type: 'volume', source: vol.mountpoint, destination, readonly: ro, volumeName: vol.name, anonymous: vol.anonymous, ...(noCopy ? { noCopy } : {}) };
}

export async function resolveMounts(volumes: VolumeStore, req: MountRequest): Promise<ContainerMount[]> {
  const out: ContainerMount[] = [];
  for (const spec of req.volumes) {
    const v = parseV(spec);
    out.push(await resolveSource(volumes, v.source, v.dest, v.ro, spec, undefined, v.noCopy));
  }
  for (const spec of req.mounts) {
    const m = parseMountFlag(spec);
    if (m.type === 'tmpfs') out.push({ type: 'tmpfs', source: '', destination: cleanDest(m.dest, spec), readonly: m.ro, options: m.options });
    else if (m.type === 'bind' || m.type === 'volume') out.push(await resolveSource(volumes, m.source, m.dest, m.ro, spec, m.type, m.noCopy));
    else throw new BerthError('INVALID_ARGUMENT', `invalid mount type "${m.type}"`, { hint: 'use bind, volume or tmpfs' });
  }
  for (const spec of req.tmpfs) {
    const [dest, opts] = spec.split(/:(.*)/s) as [string, string?];
    out.push({ type: 'tmpfs', source: '', destination: cleanDest(dest, spec), readonly: false, options: opts ? opts.split(',') : [] });
  }
  const taken = new Set(out.map((m) => m.destination));
  for (const dest of out.map((m) => m.destination)) {
    if (out.filter((m) => m.destination === dest).length > 1) throw new BerthError('INVALID_ARGUMENT', `Duplicate mount point: ${dest}`);
  }
  for (const m of req.inherited ?? []) {
    if (taken.has(m.destination)) continue;
    out.push(m);
    taken.add(m.destination);
  }
  for (const v of req.imageVolumes) {
    const dest = cleanDest(v, v);
    if (taken.has(dest)) continue;
    out.push(await resolveSource(volumes, '', dest, false, v, 'volume'));
    taken.add(dest);
  }
  return out;
}
