/**
 * The one entry the engine uses: a container's (or a build step's) CDI request, as its
 * runtime options record it, turned into the injection its OCI spec gets. Create calls
 * `checkCdiRequest` so a missing device, a broken spec or a host path that is no device
 * fails before anything is pulled or made; start calls `cdiInjectionFor` again, so a spec
 * regenerated in between (a driver update) is the one used, as docker and podman do.
 */
import { completeDeviceNode } from './apply.ts';
import { cdiSpecDirs } from './dirs.ts';
import { gpuRequestDevices, type GpuRequest } from './gpus.ts';
import { loadCdiRegistry } from './registry.ts';
import { resolveCdiDevices, type CdiInjection } from './resolve.ts';

export interface CdiRequest {
  /** Qualified names, `vendor.com/class=name` or `=all`. */
  readonly cdiDevices?: readonly string[];
  /** `--gpus`, or the API's DeviceRequests. */
  readonly gpus?: readonly GpuRequest[];
  /** The spec dirs in effect at create; the current ones when absent. */
  readonly cdiSpecDirs?: readonly string[];
}

export function wantsCdi(req: CdiRequest): boolean {
  return !!(req.cdiDevices?.length || req.gpus?.length);
}

/** The injection of the request, or undefined when it asks for no device. */
export async function cdiInjectionFor(req: CdiRequest): Promise<CdiInjection | undefined> {
  if (!wantsCdi(req)) return undefined;
  const registry = await loadCdiRegistry(req.cdiSpecDirs ?? cdiSpecDirs());
  const names = [...(req.cdiDevices ?? [])];
  const env: string[] = [];
  for (const g of req.gpus ?? []) {
    const r = gpuRequestDevices(registry, g);
    names.push(...r.devices);
    env.push(...r.env);
  }
  const injection = resolveCdiDevices(registry, [...new Set(names)]);
  return env.length ? { ...injection, env: [...env, ...injection.env] } : injection;
}

/** Fails as the start would: names, specs, and every device node's host node. */
export async function checkCdiRequest(req: CdiRequest): Promise<void> {
  const injection = await cdiInjectionFor(req);
  for (const node of injection?.deviceNodes ?? []) completeDeviceNode(node);
}

/** The request as docker's inspect shows HostConfig.DeviceRequests: CDI names as a request of driver `cdi`, then the GPU requests; null for none. */
export function deviceRequestsView(req: CdiRequest): Array<Record<string, unknown>> | null {
  const out: Array<Record<string, unknown>> = [];
  if (req.cdiDevices?.length) out.push({ Driver: 'cdi', Count: 0, DeviceIDs: [...req.cdiDevices], Capabilities: null, Options: null });
  for (const g of req.gpus ?? []) {
    out.push({
      Driver: g.driver ?? '',
      Count: g.count,
      DeviceIDs: g.deviceIds ? [...g.deviceIds] : null,
      Capabilities: g.capabilities.map((c) => [...c]),
      Options: { ...(g.options ?? {}) },
    });
  }
  return out.length ? out : null;
}
