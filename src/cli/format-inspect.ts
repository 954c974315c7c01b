/**
 * `inspect --format` as docker 28 has it, for containers, images, volumes and networks: `json`
 * prints the objects as one compact JSON array; a template runs once per object. docker runs
 * an inspect template over its Go structs (so a missing field is an error, a missing map key
 * `<no value>`, a nil slice `[]`); berth's views are JSON, so `goView` says which of their
 * objects are Go maps and which nulls are nil slices or maps, by docker's field names.
 */
import { asStruct, TemplateExecError, toJson, typedNil } from '../template/index.ts';
import { out } from './context.ts';
import { StatusError } from './exit.ts';
import { compileTemplate } from './format.ts';

/** Fields whose Go type is a map in docker's inspect types (the rest of the objects are structs). */
const MAP_FIELDS = new Set([
  'Labels',
  'Volumes',
  'ExposedPorts',
  'Ports',
  'PortBindings',
  'Networks',
  'Data',
  'Options',
  'DriverOpts',
  'Containers',
  'Tmpfs',
  'Sysctls',
  'StorageOpt',
  'Status',
  'LogConfig.Config',
  'Annotations',
]);

/** Fields whose Go type is a slice: a null there prints `[]`, as a nil slice does. */
const SLICE_FIELDS = new Set([
  'Args',
  'Env',
  'Cmd',
  'Entrypoint',
  'ExecIDs',
  'Binds',
  'CapAdd',
  'CapDrop',
  'Capabilities',
  'Dns',
  'DnsOptions',
  'DnsSearch',
  'ExtraHosts',
  'GroupAdd',
  'Links',
  'SecurityOpt',
  'VolumesFrom',
  'Devices',
  'DeviceCgroupRules',
  'DeviceRequests',
  'DeviceIDs',
  'Ulimits',
  'Mounts',
  'RepoTags',
  'RepoDigests',
  'Aliases',
  'DNSNames',
  'OnBuild',
  'Shell',
  'Test',
  'ConsoleSize',
  'MaskedPaths',
  'ReadonlyPaths',
  'BlkioWeightDevice',
  'BlkioDeviceReadBps',
  'BlkioDeviceWriteBps',
  'BlkioDeviceReadIOps',
  'BlkioDeviceWriteIOps',
  'SecondaryIPAddresses',
  'SecondaryIPv6Addresses',
  'Layers',
  'IPAM.Config',
  'Peers',
]);

/** Fields docker's structs have that its JSON leaves out when nil (omitempty): present as nil here. */
const OMITTED_FIELDS: Readonly<Record<string, readonly string[]>> = { State: ['Health'] };

/**
 * A copy of an inspect view in which docker's structs are marked as Go structs (`typeName`
 * for the top one, whose missing fields docker words `can't evaluate field X in type T`; an
 * empty name gives `map has no entry for key "X"`, the words of docker's fallback over raw JSON).
 */
export function goView(view: unknown, typeName = ''): unknown {
  const walk = (v: unknown, key: string, parentKey: string, inMap: boolean, top: boolean): unknown => {
    const isMapField = !inMap && (MAP_FIELDS.has(`${parentKey}.${key}`) || (MAP_FIELDS.has(key) && !(parentKey === '' && key === 'Config')));
    if (v === null) {
      if (inMap) return null;
      if (SLICE_FIELDS.has(`${parentKey}.${key}`) || (SLICE_FIELDS.has(key) && key !== 'Config')) return typedNil('slice');
      if (isMapField) return typedNil('map');
      return null;
    }
    if (Array.isArray(v)) return v.map((x) => walk(x, key, parentKey, false, false));
    if (typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = walk(x, k, isMapField ? parentKey : key, isMapField, false);
    if (!isMapField) for (const k of OMITTED_FIELDS[key] ?? []) if (!(k in out)) out[k] = null;
    return isMapField ? out : asStruct(out, top ? typeName : '');
  };
  return walk(view, '', '', false, true);
}

/**
 * Prints inspect's `--format`: `json` as one JSON array; otherwise the template once per
 * object, each followed by a newline. As docker: a syntax error exits 64 before any output;
 * an object the template fails on is left out, the others printed, and the command then fails
 * (exit 1) with every error, after an empty line if nothing was printed.
 */
export function formatInspect(format: string, views: readonly unknown[], opts: { typeName?: string } = {}): { stdout: string; error?: StatusError } {
  if (format === 'json') return { stdout: `${toJson(views)}\n` };
  const tpl = compileTemplate(format, 'template parsing error: ', 64);
  let stdout = '';
  const errors: string[] = [];
  for (const v of views) {
    try {
      stdout += `${tpl.execute(goView(v, opts.typeName), { jsonNumbers: !opts.typeName })}\n`;
    } catch (e) {
      if (!(e instanceof TemplateExecError)) throw e;
      errors.push(`template parsing error: ${(e as Error).message}`);
    }
  }
  if (!errors.length) return { stdout };
  return { stdout: stdout || '\n', error: new StatusError(1, errors.join('\n')) };
}

/** formatInspect's output to stdout; its error, if any, thrown for the CLI to print and exit with. */
export function printInspect(format: string, views: readonly unknown[], opts: { typeName?: string } = {}): void {
  const { stdout, error } = formatInspect(format, views, opts);
  out(stdout);
  if (error) throw error;
}
