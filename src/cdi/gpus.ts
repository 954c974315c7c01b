/**
 * `--gpus` and the Engine API's DeviceRequests, mapped onto CDI devices: berth has no GPU
 * driver of its own, so a request for NVIDIA GPUs becomes `nvidia.com/gpu` devices from the
 * specs `nvidia-ctk cdi generate` writes (Docker's own CDI path for `--gpus`).
 *
 * The flag's syntax is the docker CLI's (opts/gpus.go): a CSV record of `all`, a count, or
 * `count=`, `device=` (ids, so `'"device=0,1"'` needs the quotes), `capabilities=`, `driver=`
 * and `options=`; without a count or ids it asks for one GPU, and `gpu` is always among its
 * capabilities.
 */
import { BerthError } from '../errors/index.ts';
import type { CdiRegistry } from './registry.ts';

/** Docker's DeviceRequest, as the API's HostConfig.DeviceRequests carries it. */
export interface GpuRequest {
  readonly driver?: string;
  /** -1 for all. */
  readonly count: number;
  readonly deviceIds?: readonly string[];
  readonly capabilities: ReadonlyArray<readonly string[]>;
  readonly options?: Readonly<Record<string, string>>;
}

export const GPU_KIND = 'nvidia.com/gpu';
export const NVIDIA_CTK_HINT =
  "generate the spec of this machine's GPUs with `nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml` (NVIDIA Container Toolkit)";

/** One CSV record, as Go's encoding/csv reads it: fields split at commas, `"` quoting a field (`""` inside is one quote). */
export function csvFields(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new BerthError('INVALID_ARGUMENT', `invalid --gpus value "${text}": a quote is not closed`);
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += text[i++];
      }
      if (i < text.length && text[i] !== ',') throw new BerthError('INVALID_ARGUMENT', `invalid --gpus value "${text}": extraneous text after a quoted field`);
    } else {
      const end = text.indexOf(',', i);
      field = text.slice(i, end < 0 ? text.length : end);
      if (field.includes('"')) throw new BerthError('INVALID_ARGUMENT', `invalid --gpus value "${text}": bare " in a field`);
      i = end < 0 ? text.length : end;
    }
    out.push(field);
    if (i >= text.length) return out;
    i++; // the comma
  }
}

function parseCount(s: string): number {
  if (s === 'all') return -1;
  if (!/^[+-]?\d{1,9}$/.test(s)) throw new BerthError('INVALID_ARGUMENT', `invalid --gpus count "${s}": count must be an integer or all`);
  return Number(s);
}

/** A `--gpus` value as the docker CLI reads it. */
export function parseGpus(value: string): GpuRequest {
  const seen = new Set<string>();
  let count: number | undefined;
  let driver: string | undefined;
  let deviceIds: string[] | undefined;
  let capabilities: string[][] | undefined;
  let options: Record<string, string> | undefined;
  for (const field of csvFields(value)) {
    const eq = field.indexOf('=');
    const key = eq < 0 ? field : field.slice(0, eq);
    const val = field.slice(eq + 1);
    if (seen.has(key)) throw new BerthError('INVALID_ARGUMENT', `gpu request key '${key}' can be specified only once`);
    seen.add(key);
    if (eq < 0) {
      seen.add('count');
      count = parseCount(key);
      continue;
    }
    if (key === 'driver') driver = val;
    else if (key === 'count') count = parseCount(val);
    else if (key === 'device') deviceIds = val.split(',');
    else if (key === 'capabilities') capabilities = [[...val.split(','), 'gpu']];
    else if (key === 'options') {
      options = {};
      for (const kv of csvFields(val)) {
        const i = kv.indexOf('=');
        options[i < 0 ? kv : kv.slice(0, i)] = i < 0 ? '' : kv.slice(i + 1);
      }
    } else
      throw new BerthError('INVALID_ARGUMENT', `unexpected key '${key}' in '${field}'`, { hint: 'keys are count, device, capabilities, driver and options' });
  }
  if (!seen.has('count') && deviceIds === undefined) count = 1;
  return {
    ...(driver !== undefined ? { driver } : {}),
    count: count ?? 0,
    ...(deviceIds ? { deviceIds } : {}),
    capabilities: capabilities ?? [['gpu']],
    ...(options ? { options } : {}),
  };
}

/** Whether the request is one berth serves with CDI: driver nvidia (or none) asking for `gpu`, or driver cdi. */
function requestKind(req: GpuRequest): 'gpu' | 'cdi' {
  if (req.driver === 'cdi') return 'cdi';
  const gpu = req.capabilities.length === 0 || req.capabilities.some((set) => set.includes('gpu'));
  if ((req.driver === undefined || req.driver === '' || req.driver === 'nvidia') && gpu) return 'gpu';
  const caps = `[${req.capabilities.map((s) => `[${s.join(' ')}]`).join(' ')}]`;
  throw new BerthError('INVALID_ARGUMENT', `could not select device driver "${req.driver ?? ''}" with capabilities: ${caps}`, {
    hint: 'berth serves GPU requests (driver nvidia, capability gpu) and CDI requests (driver cdi) through CDI specs',
  });
}

/** The per-GPU devices of the kind, numbered ones in number order first: what a count takes from. */
function singleGpus(registry: CdiRegistry): string[] {
  const names = [...registry.devices.values()].filter((d) => d.kind === GPU_KIND && d.device.name !== 'all').map((d) => d.device.name);
  const numbered = names.filter((n) => /^\d+$/.test(n)).sort((a, b) => Number(a) - Number(b));
  return numbered.length ? numbered : names.sort();
}

/** The CDI devices and env a request stands for. */
export function gpuRequestDevices(registry: CdiRegistry, req: GpuRequest): { devices: string[]; env: string[] } {
  if (requestKind(req) === 'cdi') return { devices: [...(req.deviceIds ?? [])], env: [] };
  const any = [...registry.devices.values()].some((d) => d.kind === GPU_KIND);
  if (!any) {
    throw new BerthError('INVALID_ARGUMENT', `no GPU is available: no CDI spec in ${registry.dirs.join(', ')} defines a ${GPU_KIND} device`, {
      hint: NVIDIA_CTK_HINT,
    });
  }
  const caps = [...new Set(req.capabilities.flat().filter((c) => c !== 'gpu'))];
  const env = caps.length ? [`NVIDIA_DRIVER_CAPABILITIES=${caps.join(',')}`] : [];
  if (req.deviceIds?.length) return { devices: req.deviceIds.map((id) => `${GPU_KIND}=${id}`), env };
  if (req.count < 0) return { devices: [`${GPU_KIND}=all`], env };
  if (req.count === 0) return { devices: [], env };
  const gpus = singleGpus(registry);
  if (req.count > gpus.length) {
    throw new BerthError(
      'INVALID_ARGUMENT',
      `${req.count} GPUs were asked for, but the CDI specs define ${gpus.length} (${gpus.map((g) => `${GPU_KIND}=${g}`).join(', ')})`,
      {
        hint: 'ask for fewer, or for --gpus all',
      },
    );
  }
  return { devices: gpus.slice(0, req.count).map((g) => `${GPU_KIND}=${g}`), env };
}
