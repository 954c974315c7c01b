/** The `create`/`run` flags that give the container host devices, and their mapping onto the runtime's options. */
import type { Command } from 'commander';
import { parseDevice } from '../runtime/devices.ts';
import type { RuntimeOptions } from '../runtime/spec.ts';
import { collect } from './context.ts';

export function addDeviceFlags(cmd: Command): Command {
  return cmd.option('--device <spec>', 'add a host device to the container (HOST[:CONTAINER][:PERMS])', collect, []);
}

export interface DeviceFlags {
  device?: string[];
}

export function deviceRuntimeOptions(f: DeviceFlags): Partial<RuntimeOptions> {
  for (const d of f.device ?? []) parseDevice(d);
  return { devices: f.device ?? [] };
}
