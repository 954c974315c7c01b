/**
 * `inspect --format` as docker 28 has it, for containers, images, volumes and networks: `json`
 * prints the objects as one compact JSON array; a template runs once per object. docker runs
 * an inspect template over its Go structs (so a missing field is an error, a missing map key
 * `<no value>`, a nil slice `[]`); berth's views are JSON, so `goView` says which of their
 * objects are Go maps and which nulls are nil slices or maps, by docker's field names.
 */
import { asStruct, TemplateExecError, toJson, typedNil } from '../template/index.ts';
import { out } from './context.ts';
import { type BerthError, isBerthError } from '../errors/index.ts';
import { formatError, StatusError } from './exit.ts';
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

/**
 * Fields docker's structs have that its JSON leaves out when nil (omitempty): present as nil
 * here. Keyed by the field's name, or by `.Name` for a field of the top object only.
 */
const OMITTED_FIELDS: Readonly<Record<string, readonly string[]>> = {
  State: ['Health'],
  // container.Config, in both a container's and an image's inspect.
  '.Config': ['ExposedPorts', 'Healthcheck', 'ArgsEscaped', 'NetworkDisabled', 'MacAddress', 'StopSignal', 'StopTimeout', 'Shell'],
};

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
    // Not enumerable: a template sees the field and `{{.State}}` prints it, `json` leaves it out as docker's omitempty does.
    const omitted = [...(OMITTED_FIELDS[key] ?? []), ...(OMITTED_FIELDS[`${parentKey}.${key}`] ?? [])];
    if (!isMapField) for (const k of omitted) if (!(k in out)) Object.defineProperty(out, k, { value: null, enumerable: false });
    return isMapField ? out : asStruct(out, top ? typeName : '');
  };
  return walk(view, '', '', false, true);
}

/**
 * Prints inspect's `--format`: `json` as one JSON array; otherwise the template once per
 * object, each followed by a newline. As docker: a syntax error exits 64 before any output;
 * an object the template fails on is left out, the others printed, and the command then fails
 * (exit 1) with every error. With nothing printed, docker prints an empty line.
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
  // As docker's inspector: with nothing printed, an empty line.
  if (!errors.length) return { stdout: stdout || '\n' };
  return { stdout: stdout || '\n', error: new StatusError(1, errors.join('\n')) };
}

/**
 * Inspects each name on its own, as docker does: an object not found does not hide the others.
 * Errors other than NOT_FOUND end the command at once.
 */
export async function inspectEach<T>(
  names: readonly string[],
  inspect: (name: string) => Promise<readonly T[]>,
): Promise<{ views: T[]; missing: BerthError[] }> {
  const views: T[] = [];
  const missing: BerthError[] = [];
  for (const name of names) {
    try {
      views.push(...(await inspect(name)));
    } catch (e) {
      if (!isBerthError(e, 'NOT_FOUND')) throw e;
      missing.push(e);
    }
  }
  return { views, missing };
}

/**
 * inspect's output: the template's (formatInspect) or, without `--format`, the indented JSON
 * array; then the failures, each on stderr, the last thrown for the CLI's exit status.
 */
export function printInspect(format: string | undefined, views: readonly unknown[], opts: { typeName?: string; missing?: readonly BerthError[] } = {}): void {
  const { stdout, error } = format ? formatInspect(format, views, opts) : { stdout: `${JSON.stringify(views, null, 4)}\n`, error: undefined };
  out(stdout);
  const failures: Error[] = [...(opts.missing ?? []), ...(error ? [error] : [])];
  for (const e of failures.slice(0, -1)) process.stderr.write(`berth: ${formatError(e)}\n`);
  if (failures.length) throw failures[failures.length - 1];
}
