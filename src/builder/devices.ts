/**
 * CDI devices in a build (BuildKit's `RUN --device`, and `build --device` for every RUN).
 * A Dockerfile must not take a device by itself: a step gets one only when the build's
 * command line grants the `device` entitlement (`--allow device`, or `--allow device=NAME`
 * for that one), or when the device's spec says it may be used without one (the
 * annotation `org.mobyproject.buildkit.device.autoallow: "true"` on the device or its spec,
 * which BuildKit honours). A device asked for without `required` is left out, with a
 * warning, when no spec defines it.
 */
import { cdiInjectionFor, cdiSpecDirs, loadCdiRegistry, looksQualified, parseQualifiedName, type CdiInjection, type CdiRegistry } from '../cdi/index.ts';
import type { RunDevice } from '../dockerfile/index.ts';
import { BerthError } from '../errors/index.ts';

/** What the build's command line says about devices. */
export interface BuildDevices {
  /** `--allow device` (true), or the device names `--allow device=NAME` granted. */
  readonly allowed: boolean | readonly string[];
  /** `build --device NAME`: every RUN step gets them. */
  readonly all: readonly string[];
  /** The CDI spec dirs in effect. */
  readonly specDirs: readonly string[];
}

export const AUTOALLOW_ANNOTATION = 'org.mobyproject.buildkit.device.autoallow';

function autoAllowed(registry: CdiRegistry, name: string): boolean {
  const d = registry.devices.get(name);
  return d?.device.annotations?.[AUTOALLOW_ANNOTATION] === 'true' || d?.spec.spec.annotations?.[AUTOALLOW_ANNOTATION] === 'true';
}

function granted(devices: BuildDevices | undefined, registry: CdiRegistry, name: string): boolean {
  const allowed = devices?.allowed ?? false;
  return allowed === true || (Array.isArray(allowed) && allowed.includes(name)) || autoAllowed(registry, name);
}

/**
 * The injection a RUN step gets from its `--device` flags and the build's `--device`, or
 * undefined when it asks for none; an error when a device is not granted or a required one
 * is missing.
 */
export async function stepDevices(
  devices: BuildDevices | undefined,
  asked: readonly RunDevice[],
  warn: (text: string) => void,
): Promise<CdiInjection | undefined> {
  const wanted: RunDevice[] = [...(devices?.all ?? []).map((name) => ({ name, required: true })), ...asked];
  if (!wanted.length) return undefined;
  for (const d of wanted) {
    if (!looksQualified(d.name))
      throw new BerthError('INVALID_ARGUMENT', `invalid --device=${d.name}: a build step takes CDI devices only, named vendor.com/class=name`);
    parseQualifiedName(d.name);
  }
  const registry = await loadCdiRegistry(devices?.specDirs ?? cdiSpecDirs());
  const names: string[] = [];
  for (const d of wanted) {
    if (!granted(devices, registry, d.name)) {
      throw new BerthError('FAILED_PRECONDITION', `RUN --device=${d.name} needs the device entitlement, which this build was not given`, {
        hint: `build with --allow device (or --allow device=${d.name}) to let the Dockerfile use it, or leave the --device out`,
      });
    }
    const known = registry.devices.has(d.name) || (d.name.endsWith('=all') && [...registry.devices.values()].some((x) => `${x.kind}=all` === d.name));
    if (!known && !d.required) {
      warn(`CDI device ${d.name} is not defined by any spec in ${registry.dirs.join(', ')}: the step runs without it`);
      continue;
    }
    if (!names.includes(d.name)) names.push(d.name);
  }
  return names.length ? cdiInjectionFor({ cdiDevices: names, cdiSpecDirs: registry.dirs }) : undefined;
}

/** `--allow` values as BuildKit's entitlements: `device` and `device=NAME` grant devices; `network.host` and `security.insecure` are accepted as granted. */
export function parseAllow(values: readonly string[]): boolean | string[] {
  let all = false;
  const names: string[] = [];
  for (const v of values) {
    for (const e of v.split(',')) {
      if (e === 'device') all = true;
      else if (e.startsWith('device=')) {
        const name = e.slice('device='.length);
        parseQualifiedName(name);
        names.push(name);
      } else if (e !== 'network.host' && e !== 'security.insecure') {
        throw new BerthError('INVALID_ARGUMENT', `invalid entitlement "${e}"`, {
          hint: 'entitlements are device, device=NAME, network.host and security.insecure',
        });
      }
    }
  }
  return all || names;
}
