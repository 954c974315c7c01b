/**
 * CDI's names: a device is asked for by its qualified name `vendor.com/class=name`, where
 * `vendor.com/class` is its spec's `kind`. The rules are the reference implementation's
 * (container-device-interface, pkg/parser): a vendor or class starts with a letter and ends
 * with a letter or digit, with letters, digits, `_`, `-` and `.` between; a device name may
 * also start with a digit and hold `:`.
 */
import { BerthError } from '../errors/index.ts';

export interface QualifiedName {
  readonly vendor: string;
  readonly class: string;
  readonly name: string;
}

const isLetter = (c: string) => (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
const isAlphaNumeric = (c: string) => isLetter(c) || (c >= '0' && c <= '9');

/** Why `name` is not a good vendor or class, or undefined when it is. */
export function vendorOrClassProblem(name: string): string | undefined {
  if (name === '') return 'empty name';
  if (!isLetter(name[0]!)) return `"${name}" should start with a letter`;
  for (const c of name.slice(1, -1)) if (!isAlphaNumeric(c) && !'_-.'.includes(c)) return `invalid character '${c}' in name "${name}"`;
  if (!isAlphaNumeric(name[name.length - 1]!)) return `"${name}" should end with a letter or digit`;
  return undefined;
}

/** Why `name` is not a good device name, or undefined when it is. */
export function deviceNameProblem(name: string): string | undefined {
  if (name === '') return 'empty device name';
  if (!isAlphaNumeric(name[0]!)) return `device name "${name}" should start with a letter or digit`;
  for (const c of name.slice(1, -1)) if (!isAlphaNumeric(c) && !'_-.:'.includes(c)) return `invalid character '${c}' in device name "${name}"`;
  if (!isAlphaNumeric(name[name.length - 1]!)) return `device name "${name}" should end with a letter or digit`;
  return undefined;
}

/** `kind` split at its first `/`: vendor and class, or undefined for a kind without both. */
export function splitKind(kind: string): { vendor: string; class: string } | undefined {
  const slash = kind.indexOf('/');
  if (slash <= 0 || slash === kind.length - 1) return undefined;
  return { vendor: kind.slice(0, slash), class: kind.slice(slash + 1) };
}

/**
 * Whether `device` is written as a CDI name rather than a host path: it does not start
 * with `/`, and has a `kind` and a name around an `=`. Such a word is never a host device
 * (`--device` takes absolute host paths), so it goes to CDI and is checked there.
 */
export function looksQualified(device: string): boolean {
  if (device === '' || device.startsWith('/')) return false;
  const eq = device.indexOf('=');
  return eq > 0 && eq < device.length - 1 && splitKind(device.slice(0, eq)) !== undefined;
}

/** A qualified name's parts, checked; an INVALID_ARGUMENT error naming the device otherwise. */
export function parseQualifiedName(device: string): QualifiedName {
  const shown = device.length > 200 ? `${device.slice(0, 200)}…` : device;
  const fail = (why: string) =>
    new BerthError('INVALID_ARGUMENT', `invalid CDI device name "${shown}": ${why}`, {
      hint: 'a CDI device is named vendor.com/class=name, e.g. nvidia.com/gpu=0',
    });
  if (!looksQualified(device)) throw fail('it is not of the form vendor.com/class=name');
  const eq = device.indexOf('=');
  const kind = splitKind(device.slice(0, eq))!;
  const name = device.slice(eq + 1);
  const problem = vendorOrClassProblem(kind.vendor) ?? vendorOrClassProblem(kind.class) ?? deviceNameProblem(name);
  if (problem) throw fail(problem);
  return { vendor: kind.vendor, class: kind.class, name };
}

export function qualifiedName(kind: string, name: string): string {
  return `${kind}=${name}`;
}
