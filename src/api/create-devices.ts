/**
 * HostConfig.Devices and HostConfig.DeviceRequests as runtime options: a device whose
 * PathOnHost is a CDI name (as clients before docker 26 sent `--device vendor.com/class=name`)
 * and a request of driver `cdi` (as docker 26+ sends it) are CDI devices; a request for the
 * `gpu` capability (driver `nvidia` or none: `--gpus`) becomes `nvidia.com/gpu` devices. The
 * server's CDI spec dirs are recorded with the container, as the CLI's create does.
 */
import { z } from 'zod';
import { cdiSpecDirs, looksQualified, parseQualifiedName, type GpuRequest } from '../cdi/index.ts';
import type { RuntimeOptions } from '../runtime/spec.ts';

export const DeviceMappingSchema = z
  .object({ PathOnHost: z.string(), PathInContainer: z.string().nullish(), CgroupPermissions: z.string().nullish() })
  .passthrough();

export const DeviceRequestSchema = z
  .object({
    Driver: z.string().max(256).nullish(),
    Count: z.number().int().min(-1).max(1_000_000).nullish(),
    DeviceIDs: z.array(z.string().max(1024)).max(1024).nullish(),
    Capabilities: z
      .array(z.array(z.string().max(256)).max(64))
      .max(64)
      .nullish(),
    Options: z.record(z.string()).nullish(),
  })
  .passthrough();

export function deviceRuntimeOptions(
  devices: ReadonlyArray<z.infer<typeof DeviceMappingSchema>>,
  requests: ReadonlyArray<z.infer<typeof DeviceRequestSchema>>,
): Partial<RuntimeOptions> {
  const host: string[] = [];
  const cdiDevices: string[] = [];
  for (const d of devices) {
    if (looksQualified(d.PathOnHost)) {
      parseQualifiedName(d.PathOnHost);
      cdiDevices.push(d.PathOnHost);
    } else host.push(`${d.PathOnHost}:${d.PathInContainer || d.PathOnHost}:${d.CgroupPermissions || 'rwm'}`);
  }
  const gpus: GpuRequest[] = [];
  for (const r of requests) {
    if (r.Driver === 'cdi') {
      for (const id of r.DeviceIDs ?? []) {
        parseQualifiedName(id);
        cdiDevices.push(id);
      }
      continue;
    }
    gpus.push({
      ...(r.Driver ? { driver: r.Driver } : {}),
      count: r.Count ?? 0,
      ...(r.DeviceIDs?.length ? { deviceIds: r.DeviceIDs } : {}),
      capabilities: r.Capabilities ?? [],
      ...(r.Options ? { options: r.Options } : {}),
    });
  }
  const wantsCdi = cdiDevices.length > 0 || gpus.length > 0;
  return {
    devices: host,
    ...(cdiDevices.length ? { cdiDevices: [...new Set(cdiDevices)] } : {}),
    ...(gpus.length ? { gpus } : {}),
    ...(wantsCdi ? { cdiSpecDirs: [...cdiSpecDirs()] } : {}),
  };
}
