/**
 * The `create`/`run` flags that give the container devices, and their mapping onto the
 * runtime's options: `--device` takes a host device (`/dev/x[:/dev/y][:rwm]`) or a CDI
 * device by qualified name (`vendor.com/class=name`, `=all`), told apart as the docker CLI
 * does (a CDI name is not a path); `--gpus` asks for NVIDIA GPUs, served from their CDI specs.
 */
import type { Command } from 'commander';
import { cdiSpecDirs, looksQualified, parseGpus, parseQualifiedName } from '../cdi/index.ts';
import { parseDevice } from '../runtime/devices.ts';
import type { RuntimeOptions } from '../runtime/spec.ts';
import { collect } from './context.ts';

export function addDeviceFlags(cmd: Command): Command {
  return cmd
    .option('--device <spec>', 'add a host device (HOST[:CONTAINER][:PERMS]) or a CDI device (vendor.com/class=name) to the container', collect, [])
    .option('--gpus <request>', "GPU devices to add to the container ('all', a count, or '\"device=0,1\"'), from NVIDIA's CDI specs", collect, []);
}

export interface DeviceFlags {
  device?: string[];
  gpus?: string[];
}

export function deviceRuntimeOptions(f: DeviceFlags): Partial<RuntimeOptions> {
  const host: string[] = [];
  const cdi: string[] = [];
  for (const d of f.device ?? []) {
    if (looksQualified(d)) {
      parseQualifiedName(d);
      if (!cdi.includes(d)) cdi.push(d);
    } else {
      parseDevice(d);
      host.push(d);
    }
  }
  const gpus = (f.gpus ?? []).map(parseGpus);
  const wantsCdi = cdi.length > 0 || gpus.length > 0;
  return {
    devices: host,
    ...(cdi.length ? { cdiDevices: cdi } : {}),
    ...(gpus.length ? { gpus } : {}),
    ...(wantsCdi ? { cdiSpecDirs: [...cdiSpecDirs()] } : {}),
  };
}
