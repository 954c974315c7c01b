/**
 * From asked-for names to the edits a container gets: each device's spec-level edits once
 * (the first time one of its devices is asked for), then the device's own, in the order
 * the names were given, as the reference's InjectDevices merges them. `kind=all` is the
 * device a spec names `all` (nvidia-ctk writes one), else every device of that kind.
 */
import { BerthError } from '../errors/index.ts';
import { parseQualifiedName, qualifiedName } from './names.ts';
import type { CdiRegistry, LoadedSpec, RegisteredDevice } from './registry.ts';
import type { CdiContainerEdits, CdiDeviceNode, CdiHook, CdiIntelRdt } from './spec-schema.ts';

/** A mount in the OCI spec's form. */
export interface CdiOciMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

/** What the named devices add to a container: plain data, applied to the OCI spec by apply.ts when it is built. */
export interface CdiInjection {
  /** The qualified names injected (`=all` expanded where the spec has no such device). */
  readonly devices: readonly string[];
  readonly env: readonly string[];
  readonly deviceNodes: readonly CdiDeviceNode[];
  readonly mounts: readonly CdiOciMount[];
  readonly hooks: readonly CdiHook[];
  readonly additionalGids: readonly number[];
  readonly intelRdt?: CdiIntelRdt;
}

/** The hint for a device that is not there: what the specs hold, or how to make NVIDIA's. */
function missingHint(registry: CdiRegistry, kind: string): string {
  const broken = registry.errors.map((e) => `${e.path}: ${e.message}`);
  if (broken.length) return `these spec files were left out: ${broken.slice(0, 10).join('; ')}`;
  if (kind === 'nvidia.com/gpu')
    return `generate NVIDIA's spec with \`nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml\` (spec dirs: ${registry.dirs.join(', ')})`;
  const known = [...registry.devices.keys()];
  return known.length
    ? `the specs in ${registry.dirs.join(', ')} define ${known.slice(0, 10).join(', ')}${known.length > 10 ? ', …' : ''}`
    : `no CDI spec defines a device in ${registry.dirs.join(', ')}`;
}

/** The registered devices `name` stands for (one, or a kind's all), or undefined. */
function lookup(registry: CdiRegistry, name: string): RegisteredDevice[] | undefined {
  const q = parseQualifiedName(name);
  const kind = `${q.vendor}/${q.class}`;
  const exact = registry.devices.get(qualifiedName(kind, q.name));
  if (exact) return [exact];
  if (q.name !== 'all') return undefined;
  const ofKind = [...registry.devices.values()].filter((d) => d.kind === kind);
  return ofKind.length ? ofKind : undefined;
}

/** The injection of `names`: an INVALID_ARGUMENT error naming every one that no spec defines. */
export function resolveCdiDevices(registry: CdiRegistry, names: readonly string[]): CdiInjection {
  const chosen: RegisteredDevice[] = [];
  const missing: string[] = [];
  for (const name of names) {
    const found = lookup(registry, name);
    if (!found) missing.push(name);
    else for (const d of found) if (!chosen.includes(d)) chosen.push(d);
  }
  if (missing.length) {
    const kind = missing[0]!.slice(0, missing[0]!.indexOf('='));
    // Not NOT_FOUND: the docker CLI answers a 404 from create by pulling the image.
    throw new BerthError('INVALID_ARGUMENT', `unresolvable CDI devices ${missing.join(', ')}`, { hint: missingHint(registry, kind) });
  }
  const env: string[] = [];
  const deviceNodes: CdiDeviceNode[] = [];
  const mounts: CdiOciMount[] = [];
  const hooks: CdiHook[] = [];
  const additionalGids: number[] = [];
  let intelRdt: CdiIntelRdt | undefined;
  const add = (e: CdiContainerEdits | undefined, owner: string) => {
    if (!e) return;
    if (e.netDevices?.length) {
      throw new BerthError('UNSUPPORTED', `CDI device ${owner} moves host network interfaces into the container (netDevices), which berth does not support`);
    }
    env.push(...(e.env ?? []));
    deviceNodes.push(...(e.deviceNodes ?? []));
    for (const m of e.mounts ?? [])
      mounts.push({ destination: m.containerPath, source: m.hostPath, ...(m.type ? { type: m.type } : {}), options: [...(m.options ?? [])] });
    hooks.push(...(e.hooks ?? []));
    additionalGids.push(...(e.additionalGids ?? []));
    if (e.intelRdt) intelRdt = e.intelRdt;
  };
  const specsSeen = new Set<LoadedSpec>();
  for (const d of chosen) {
    if (!specsSeen.has(d.spec)) {
      specsSeen.add(d.spec);
      add(d.spec.spec.containerEdits, d.name);
    }
    add(d.device.containerEdits, d.name);
  }
  return { devices: chosen.map((d) => d.name), env, deviceNodes, mounts, hooks, additionalGids, intelRdt };
}
