/**
 * A CDI spec file's document checked against the spec, as the reference implementation
 * loads it: every field known (an unknown one is an error, as its strict decoding has it),
 * each of the right type, `cdiVersion` one of the released versions from 0.3.0 on, and no
 * field newer than that version (SPEC.md's table: mount `type` from 0.4.0, device node
 * `hostPath` and device names starting with a digit from 0.5.0, annotations and dots in the
 * class from 0.6.0, `intelRdt` and `additionalGids` from 0.7.0, `netDevices` and intelRdt's
 * `schemata` and `enableMonitoring` from 1.1.0). Errors name the field by its path in the
 * document; the loader adds the file.
 */
import { deviceNameProblem, splitKind, vendorOrClassProblem } from './names.ts';

export interface CdiDeviceNode {
  readonly path: string;
  readonly hostPath?: string;
  readonly type?: string;
  readonly major?: number;
  readonly minor?: number;
  readonly fileMode?: number;
  readonly permissions?: string;
  readonly uid?: number;
  readonly gid?: number;
}

export interface CdiMount {
  readonly hostPath: string;
  readonly containerPath: string;
  readonly type?: string;
  readonly options?: readonly string[];
}

export type CdiHookName = 'prestart' | 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop';

export interface CdiHook {
  readonly hookName: CdiHookName;
  readonly path: string;
  readonly args?: readonly string[];
  readonly env?: readonly string[];
  readonly timeout?: number;
}

export interface CdiIntelRdt {
  readonly closID?: string;
  readonly l3CacheSchema?: string;
  readonly memBwSchema?: string;
  readonly schemata?: readonly string[];
  readonly enableMonitoring?: boolean;
}

export interface CdiNetDevice {
  readonly hostInterfaceName: string;
  readonly name: string;
}

export interface CdiContainerEdits {
  readonly env?: readonly string[];
  readonly deviceNodes?: readonly CdiDeviceNode[];
  readonly mounts?: readonly CdiMount[];
  readonly hooks?: readonly CdiHook[];
  readonly additionalGids?: readonly number[];
  readonly intelRdt?: CdiIntelRdt;
  readonly netDevices?: readonly CdiNetDevice[];
}

export interface CdiDevice {
  readonly name: string;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly containerEdits?: CdiContainerEdits;
}

export interface CdiSpec {
  readonly cdiVersion: string;
  readonly kind: string;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly devices: readonly CdiDevice[];
  readonly containerEdits?: CdiContainerEdits;
}

/** The released versions this loader accepts, oldest first (0.1.0 and 0.2.0 predate every field rule and are refused, as by the reference). */
export const CDI_VERSIONS = ['0.3.0', '0.4.0', '0.5.0', '0.6.0', '0.7.0', '0.8.0', '1.0.0', '1.1.0'] as const;

export const HOOK_NAMES: readonly CdiHookName[] = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'];

/** A problem at a field of the document. */
export class SpecFieldError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

type Obj = Record<string, unknown>;

const at = (path: string, key: string | number) => (typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key);

function object(v: unknown, path: string, keys: readonly string[]): Obj {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new SpecFieldError(path, `field "${path}" must be an object`);
  for (const k of Object.keys(v)) if (!keys.includes(k)) throw new SpecFieldError(at(path, k), `unknown field "${at(path, k)}"`);
  return v as Obj;
}

function string(o: Obj, key: string, path: string, required = false): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) {
    if (required) throw new SpecFieldError(at(path, key), `missing field "${at(path, key)}"`);
    return undefined;
  }
  if (typeof v !== 'string') throw new SpecFieldError(at(path, key), `field "${at(path, key)}" must be a string`);
  return v;
}

function integer(o: Obj, key: string, path: string, min: number, max: number): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new SpecFieldError(at(path, key), `field "${at(path, key)}" must be a whole number from ${min} to ${max}`);
  }
  return v;
}

function array<T>(o: Obj, key: string, path: string, item: (v: unknown, path: string) => T): T[] | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new SpecFieldError(at(path, key), `field "${at(path, key)}" must be a list`);
  return v.map((x, i) => item(x, at(at(path, key), i)));
}

const stringItem = (v: unknown, path: string): string => {
  if (typeof v !== 'string') throw new SpecFieldError(path, `field "${path}" must be a string`);
  return v;
};

function envItem(v: unknown, path: string): string {
  const s = stringItem(v, path);
  if (s.indexOf('=') <= 0) throw new SpecFieldError(path, `invalid environment variable "${s}" at "${path}"`);
  return s;
}

function annotations(o: Obj, key: string, path: string): Record<string, string> | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new SpecFieldError(at(path, key), `field "${at(path, key)}" must be a map of strings`);
  for (const [k, x] of Object.entries(v)) if (typeof x !== 'string') throw new SpecFieldError(at(at(path, key), k), `annotation "${k}" must be a string`);
  return v as Record<string, string>;
}

const UINT32 = 0xffffffff;
const INT64 = Number.MAX_SAFE_INTEGER;

function deviceNode(v: unknown, path: string): CdiDeviceNode {
  const o = object(v, path, ['path', 'hostPath', 'type', 'major', 'minor', 'fileMode', 'permissions', 'uid', 'gid']);
  const node: CdiDeviceNode = {
    path: string(o, 'path', path, true)!,
    hostPath: string(o, 'hostPath', path) || undefined,
    type: string(o, 'type', path) || undefined,
    major: integer(o, 'major', path, -INT64, INT64),
    minor: integer(o, 'minor', path, -INT64, INT64),
    fileMode: integer(o, 'fileMode', path, 0, UINT32),
    permissions: string(o, 'permissions', path) || undefined,
    uid: integer(o, 'uid', path, 0, UINT32),
    gid: integer(o, 'gid', path, 0, UINT32),
  };
  if (!node.path) throw new SpecFieldError(at(path, 'path'), `invalid (empty) device path at "${path}"`);
  if (node.type !== undefined && !['b', 'c', 'u', 'p'].includes(node.type))
    throw new SpecFieldError(at(path, 'type'), `device "${node.path}": invalid type "${node.type}"`);
  const p = node.permissions;
  if (p !== undefined && p !== 'none' && !/^[rwm]+$/.test(p))
    throw new SpecFieldError(at(path, 'permissions'), `device "${node.path}": invalid permissions "${p}"`);
  return node;
}

function mount(v: unknown, path: string): CdiMount {
  const o = object(v, path, ['hostPath', 'containerPath', 'type', 'options']);
  const m: CdiMount = {
    hostPath: string(o, 'hostPath', path, true)!,
    containerPath: string(o, 'containerPath', path, true)!,
    type: string(o, 'type', path) || undefined,
    options: array(o, 'options', path, stringItem),
  };
  if (!m.hostPath) throw new SpecFieldError(at(path, 'hostPath'), `invalid mount at "${path}": empty host path`);
  if (!m.containerPath) throw new SpecFieldError(at(path, 'containerPath'), `invalid mount at "${path}": empty container path`);
  return m;
}

function hook(v: unknown, path: string): CdiHook {
  const o = object(v, path, ['hookName', 'path', 'args', 'env', 'timeout']);
  const hookName = string(o, 'hookName', path, true)!;
  if (!(HOOK_NAMES as readonly string[]).includes(hookName)) throw new SpecFieldError(at(path, 'hookName'), `invalid hook name "${hookName}"`);
  const h: CdiHook = {
    hookName: hookName as CdiHookName,
    path: string(o, 'path', path, true)!,
    args: array(o, 'args', path, stringItem),
    env: array(o, 'env', path, envItem),
    timeout: integer(o, 'timeout', path, 1, 2 ** 31 - 1),
  };
  if (!h.path) throw new SpecFieldError(at(path, 'path'), `invalid hook "${hookName}" with empty path`);
  return h;
}

function intelRdt(v: unknown, path: string): CdiIntelRdt {
  const o = object(v, path, ['closID', 'l3CacheSchema', 'memBwSchema', 'schemata', 'enableMonitoring']);
  const closID = string(o, 'closID', path) || undefined;
  if (closID !== undefined && closID !== '/' && (closID.length >= 4096 || closID === '.' || closID === '..' || /[/\n]/.test(closID))) {
    throw new SpecFieldError(at(path, 'closID'), `invalid intelRdt closID "${closID.slice(0, 80)}"`);
  }
  const enableMonitoring = o.enableMonitoring;
  if (enableMonitoring !== undefined && enableMonitoring !== null && typeof enableMonitoring !== 'boolean') {
    throw new SpecFieldError(at(path, 'enableMonitoring'), `field "${at(path, 'enableMonitoring')}" must be true or false`);
  }
  return {
    closID,
    l3CacheSchema: string(o, 'l3CacheSchema', path) || undefined,
    memBwSchema: string(o, 'memBwSchema', path) || undefined,
    schemata: array(o, 'schemata', path, stringItem),
    enableMonitoring: enableMonitoring === true || undefined,
  };
}

function netDevice(v: unknown, path: string): CdiNetDevice {
  const o = object(v, path, ['hostInterfaceName', 'name']);
  const d = { hostInterfaceName: string(o, 'hostInterfaceName', path, true)!, name: string(o, 'name', path, true)! };
  if (!d.hostInterfaceName || !d.name) throw new SpecFieldError(path, `invalid net device at "${path}": empty name`);
  return d;
}

function containerEdits(v: unknown, path: string): CdiContainerEdits | undefined {
  if (v === undefined || v === null) return undefined;
  const o = object(v, path, ['env', 'deviceNodes', 'mounts', 'hooks', 'additionalGids', 'intelRdt', 'netDevices']);
  const gid = (x: unknown, p: string) => {
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > UINT32) throw new SpecFieldError(p, `field "${p}" must be a group id`);
    return x;
  };
  return {
    env: array(o, 'env', path, envItem),
    deviceNodes: array(o, 'deviceNodes', path, deviceNode),
    mounts: array(o, 'mounts', path, mount),
    hooks: array(o, 'hooks', path, hook),
    additionalGids: array(o, 'additionalGids', path, gid),
    intelRdt: o.intelRdt === undefined || o.intelRdt === null ? undefined : intelRdt(o.intelRdt, at(path, 'intelRdt')),
    netDevices: array(o, 'netDevices', path, netDevice),
  };
}

function device(v: unknown, path: string): CdiDevice {
  const o = object(v, path, ['name', 'annotations', 'containerEdits']);
  const name = string(o, 'name', path, true)!;
  const problem = deviceNameProblem(name);
  if (problem) throw new SpecFieldError(at(path, 'name'), `invalid device at "${path}": ${problem}`);
  return { name, annotations: annotations(o, 'annotations', path), containerEdits: containerEdits(o.containerEdits, at(path, 'containerEdits')) };
}

/** The oldest version whose fields `spec` uses (the reference's MinimumRequiredVersion). */
export function requiredVersion(spec: CdiSpec): (typeof CDI_VERSIONS)[number] {
  const all = [spec.containerEdits, ...spec.devices.map((d) => d.containerEdits)].filter((e): e is CdiContainerEdits => e !== undefined);
  const rdts = all.flatMap((e) => (e.intelRdt ? [e.intelRdt] : []));
  if (rdts.some((r) => r.schemata !== undefined || r.enableMonitoring) || all.some((e) => e.netDevices?.length)) return '1.1.0';
  if (rdts.length || all.some((e) => e.additionalGids?.length)) return '0.7.0';
  const hasAnnotations = (a?: Readonly<Record<string, string>>) => a !== undefined && Object.keys(a).length > 0;
  if (hasAnnotations(spec.annotations) || spec.devices.some((d) => hasAnnotations(d.annotations)) || (splitKind(spec.kind)?.class.includes('.') ?? false))
    return '0.6.0';
  if (spec.devices.some((d) => /^[0-9]/.test(d.name)) || all.some((e) => e.deviceNodes?.some((n) => n.hostPath))) return '0.5.0';
  if (all.some((e) => e.mounts?.some((m) => m.type))) return '0.4.0';
  return '0.3.0';
}

/** `doc` as a CDI spec, or a SpecFieldError naming the first field that is wrong. */
export function validateSpec(doc: unknown): CdiSpec {
  const o = object(doc, '', ['cdiVersion', 'kind', 'annotations', 'devices', 'containerEdits']);
  const rawVersion = string(o, 'cdiVersion', '', true)!;
  const version = rawVersion.replace(/^v/, '');
  if (!(CDI_VERSIONS as readonly string[]).includes(version)) {
    const old = ['0.1.0', '0.2.0'].includes(version);
    throw new SpecFieldError(
      'cdiVersion',
      old ? `the spec version must be at least v0.3.0 (it is "${rawVersion}")` : `invalid version "${rawVersion}": versions 0.3.0 to 1.1.0 are known`,
    );
  }
  const kind = string(o, 'kind', '', true)!;
  const parts = splitKind(kind);
  if (!parts) throw new SpecFieldError('kind', `invalid kind "${kind}": it must be vendor.com/class`);
  const kindProblem = vendorOrClassProblem(parts.vendor) ?? vendorOrClassProblem(parts.class);
  if (kindProblem) throw new SpecFieldError('kind', `invalid kind "${kind}": ${kindProblem}`);
  const devices = array(o, 'devices', '', device) ?? [];
  if (!devices.length) throw new SpecFieldError('devices', 'invalid spec: no devices');
  const seen = new Set<string>();
  for (const d of devices) {
    if (seen.has(d.name)) throw new SpecFieldError('devices', `invalid spec: device "${d.name}" is defined twice`);
    seen.add(d.name);
  }
  const spec: CdiSpec = {
    cdiVersion: version,
    kind,
    annotations: annotations(o, 'annotations', ''),
    devices,
    containerEdits: containerEdits(o.containerEdits, 'containerEdits'),
  };
  const needed = requiredVersion(spec);
  if (CDI_VERSIONS.indexOf(needed) > CDI_VERSIONS.indexOf(version as (typeof CDI_VERSIONS)[number])) {
    throw new SpecFieldError(
      'cdiVersion',
      `the spec uses fields of version ${needed}, but says cdiVersion "${rawVersion}": the spec version must be at least v${needed}`,
    );
  }
  return spec;
}
