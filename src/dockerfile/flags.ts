/**
 * Instruction flags as typed values: RUN `--mount`, `--network`, `--security`, `--device`; COPY/ADD
 * `--from`, `--chown`, `--chmod`, `--link`, `--parents`, `--exclude`, ADD `--checksum`,
 * `--keep-git-dir`, `--unpack`. The instruction keeps its flags as written (`flags`, which the
 * build cache keys hash); these functions read them.
 *
 * Each reader takes an `expand` function for the words BuildKit expands (ARG/ENV in scope).
 * Without one, at parse time, a value that holds a `$` cannot be judged yet: its key is still
 * checked, its value later, when the builder reads the flags again with the stage's scope.
 * Every problem is a `BerthError('INVALID_ARGUMENT')`; toInstruction turns it into a SYNTAX
 * error at the instruction, so `berth lint` and `berth build` report the same thing.
 */
import { BerthError } from '../errors/index.ts';
import { editDistance } from './edit-distance.ts';
import { parseKeyValues } from './key-values.ts';

/** A function that expands one word in the instruction's scope. */
export type Expand = (word: string) => string;

type RawFlags = Readonly<Record<string, readonly string[]>>;

export type MountType = 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';
export type MountSharing = 'shared' | 'private' | 'locked';

/** One `RUN --mount`, BuildKit's defaults applied. */
export interface RunMount {
  readonly type: MountType;
  /** As written, relative to WORKDIR when not absolute ('' is WORKDIR); a secret's defaults to `/run/secrets/<id>`, ssh's to `/run/buildkit/ssh_agent.0`. */
  readonly target: string;
  /** cache: the cache's name; secret and ssh: the id the build was given (a secret's defaults to its source, then the target's base name). */
  readonly id?: string;
  /** Path in `from` (or the context) that a bind mounts. */
  readonly source?: string;
  /** A stage name or index, or an image. */
  readonly from?: string;
  /** bind, secret and ssh are read-only unless `rw`; cache and tmpfs writable unless `ro`. */
  readonly readonly: boolean;
  readonly sharing?: MountSharing;
  readonly uid?: number;
  readonly gid?: number;
  /** File mode (octal as written). */
  readonly mode?: number;
  /** tmpfs size in bytes. */
  readonly size?: number;
  /** secret: the environment variable BuildKit sets to the secret's value (`env=`). */
  readonly env?: string;
  /** secret and ssh: fail the step when the build was not given it. */
  readonly required: boolean;
}

export type RunNetwork = 'default' | 'none' | 'host';
export type RunSecurity = 'sandbox' | 'insecure';

/** One `RUN --device=NAME[,required[=BOOL]]` (BuildKit's labs syntax): a CDI device the step asks for. */
export interface RunDevice {
  /** A CDI name, `vendor.com/class=name`; the builder checks it. */
  readonly name: string;
  /** Fail the step when no spec defines it (else the step runs without it). */
  readonly required: boolean;
}

export interface RunFlags {
  readonly mounts: readonly RunMount[];
  readonly network?: RunNetwork;
  readonly security?: RunSecurity;
  readonly devices: readonly RunDevice[];
}

export interface CopyFlags {
  /** Stage name or index, or an image. */
  readonly from?: string;
  /** `user[:group]`, names or ids, resolved in the image. */
  readonly chown?: string;
  readonly chmod?: number;
  readonly link: boolean;
  readonly parents: boolean;
  /** .dockerignore-style patterns of source paths to leave out. */
  readonly exclude: readonly string[];
  /** ADD: `sha256:<hex>` the downloaded file must match. */
  readonly checksum?: string;
  readonly keepGitDir: boolean;
  /** ADD --unpack: undefined leaves the default (unpack local archives). */
  readonly unpack?: boolean;
}

const MOUNT_TYPES: readonly MountType[] = ['bind', 'cache', 'tmpfs', 'secret', 'ssh'];
const SHARING: readonly MountSharing[] = ['shared', 'private', 'locked'];
const MOUNT_KEYS = [
  'type',
  'from',
  'source',
  'src',
  'target',
  'dst',
  'destination',
  'readonly',
  'ro',
  'readwrite',
  'rw',
  'id',
  'sharing',
  'required',
  'mode',
  'uid',
  'gid',
  'size',
  'env',
];
const BARE_KEYS = ['readonly', 'ro', 'readwrite', 'rw', 'required'];

/** User text as a message quotes it: long values cut, so a hostile flag cannot flood the output. */
function shown(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

function invalid(message: string, hint?: string): BerthError {
  return new BerthError('INVALID_ARGUMENT', message, hint === undefined ? {} : { hint });
}

/** Go's strconv.ParseBool, as BuildKit reads `ro=`, `rw=` and `required=`. */
export function parseBool(value: string, key: string): boolean {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(value)) return false;
  throw invalid(`invalid value for ${key}: ${shown(value)}`, 'use true or false');
}

function parseUint(value: string, key: string, radix: 8 | 10): number {
  const ok = radix === 8 ? /^[0-7]{1,11}$/.test(value) : /^\d{1,10}$/.test(value);
  const n = ok ? parseInt(value, radix) : NaN;
  if (!(n <= 0xffffffff))
    throw invalid(`invalid value ${shown(value)} for ${key}`, radix === 8 ? `${key} is an octal number, e.g. 0755` : `${key} is a number`);
  return n;
}

const UNITS: Readonly<Record<string, number>> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };

/** A size such as `64m`, `1.5GiB` or `1024`, in bytes (binary units, as docker's RAMInBytes). */
export function parseSize(value: string, key = 'size'): number {
  const m = /^(\d{1,20}(?:\.\d{1,20})?) ?([kmgtp]?)(?:i?b)?$/i.exec(value);
  if (!m) throw invalid(`invalid value for ${key}: ${shown(value)}`, 'use a size such as 64m or 1g');
  return Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
}

/** The known key nearest to a mistyped one (at most two edits away), for the hint. */
function closest(word: string, options: readonly string[]): string | undefined {
  if (word.length > 32) return undefined; // a long word is near nothing, and not worth a table
  const best = options.map((o) => [o, editDistance(word, o)] as const).sort((x, y) => x[1] - y[1])[0];
  return best && best[1] <= 2 ? best[0] : undefined;
}

/**
 * Reads one `--mount` value. With `expand`, every value is expanded and the mount checked
 * whole; without it (parse time), keys and the values without a `$` are checked.
 */
export function parseRunMount(spec: string, expand?: Expand): RunMount {
  const values = new Map<string, string>();
  let readonly: boolean | undefined;
  let required: boolean | undefined;
  let deferred = false;
  let typeDeferred = false;
  for (const { key: rawKey, value: raw } of parseKeyValues(spec)) {
    const key = rawKey.toLowerCase();
    if (raw === undefined) {
      if (!BARE_KEYS.includes(key))
        throw invalid(`invalid field '${shown(rawKey)}' in --mount=${shown(spec)}: it must be a key=value pair`, `bare fields are ${BARE_KEYS.join(', ')}`);
      if (key === 'required') required = true;
      else readonly = key === 'readonly' || key === 'ro';
      continue;
    }
    if (!MOUNT_KEYS.includes(key)) {
      const near = closest(key, MOUNT_KEYS);
      throw invalid(`unexpected key '${shown(rawKey)}' in --mount=${shown(spec)}`, near ? `did you mean ${near}?` : `keys are ${MOUNT_KEYS.join(', ')}`);
    }
    if (!expand && raw.includes('$')) {
      deferred = true;
      if (key === 'type') typeDeferred = true;
      continue;
    }
    const value = expand ? expand(raw) : raw;
    switch (key) {
      case 'readonly':
      case 'ro':
        readonly = parseBool(value, key);
        break;
      case 'readwrite':
      case 'rw':
        readonly = !parseBool(value, key);
        break;
      case 'required':
        required = parseBool(value, key);
        break;
      default: {
        const name = key === 'src' ? 'source' : key === 'dst' || key === 'destination' ? 'target' : key;
        values.set(name, value);
      }
    }
  }
  // What is allowed depends on the type: with the type not known yet, the keys were all.
  if (typeDeferred) return placeholderMount();
  const typeText = (values.get('type') ?? 'bind').toLowerCase();
  const type = MOUNT_TYPES.find((t) => t === typeText);
  if (!type) {
    throw invalid(`unsupported mount type "${shown(values.get('type')!)}"`, `types are ${MOUNT_TYPES.join(', ')}`);
  }
  const num = (key: string, radix: 8 | 10) => (values.has(key) ? parseUint(values.get(key)!, key, radix) : undefined);
  const mode = num('mode', 8);
  const uid = num('uid', 10);
  const gid = num('gid', 10);
  const fileInfo = type === 'secret' || type === 'ssh' || type === 'cache';
  for (const [key, given] of [
    ['mode', mode],
    ['uid', uid],
    ['gid', gid],
  ] as const) {
    if (given !== undefined && !fileInfo) throw invalid(`${key} not allowed for "${type}" type mounts`);
  }
  if (values.has('env') && type !== 'secret') throw invalid(`unexpected key 'env' for mount type '${type}'`, 'env is for type=secret');
  if (values.has('size') && type !== 'tmpfs') throw invalid(`unexpected key 'size' for mount type '${type}'`, 'size is for type=tmpfs');
  if (required !== undefined && type !== 'secret' && type !== 'ssh')
    throw invalid(`unexpected key 'required' for mount type '${type}'`, 'required is for type=secret and type=ssh');
  const sharingText = values.get('sharing')?.toLowerCase();
  const sharing = sharingText === undefined ? undefined : SHARING.find((s) => s === sharingText);
  if (sharingText !== undefined && !sharing) throw invalid(`unsupported sharing value "${shown(values.get('sharing')!)}"`, `use ${SHARING.join(', ')}`);
  if (sharing && type !== 'cache') throw invalid(`invalid cache sharing set for ${type} mount`, 'sharing is for type=cache');
  let id = values.get('id');
  let target = values.get('target');
  const source = values.get('source');
  if (type === 'secret') {
    if (values.has('from')) throw invalid('secret mount should not have a from');
    if (source !== undefined && id !== undefined) throw invalid("both source and id can't be set on a secret mount");
    id ??= source ?? (target === undefined ? undefined : target.replace(/\/+$/, '').slice(target.replace(/\/+$/, '').lastIndexOf('/') + 1));
    if (!id && !deferred) throw invalid(`invalid secret mount --mount=${shown(spec)}: one of id, source or target is required`);
    if (target === undefined && id) target = `/run/secrets/${id}`;
  }
  if (type === 'ssh') {
    id ??= 'default';
    target ??= '/run/buildkit/ssh_agent.0';
  }
  return {
    type,
    // No target: the mount is at the step's WORKDIR, as in BuildKit.
    target: target ?? '',
    id,
    source: type === 'secret' ? undefined : source,
    from: values.get('from'),
    env: values.get('env'),
    readonly: readonly ?? !(type === 'cache' || type === 'tmpfs'),
    sharing,
    uid,
    gid,
    mode,
    size: values.has('size') ? parseSize(values.get('size')!) : undefined,
    required: required ?? false,
  };
}

/** What parse time returns for a mount it cannot judge before expansion. */
function placeholderMount(): RunMount {
  return { type: 'bind', target: '', readonly: true, required: false };
}

/** The stage or image a mount reads from, without expanding anything (for the stage graph). */
export function mountFrom(spec: string): string | undefined {
  let from: string | undefined;
  for (const { key, value } of parseKeyValues(spec)) if (value !== undefined && key.toLowerCase() === 'from') from = value;
  return from;
}

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  const found = allowed.find((a) => a === value);
  if (!found) throw invalid(`unsupported --${flag} value "${shown(value)}"`, `use ${allowed.map((a) => `--${flag}=${a}`).join(', ')}`);
  return found;
}

export function runFlags(flags: RawFlags, expand?: Expand): RunFlags {
  return {
    mounts: (flags.mount ?? []).map((m) => parseRunMount(m, expand)),
    network: oneOf('network', flags.network?.[0], ['default', 'none', 'host'] as const),
    security: oneOf('security', flags.security?.[0], ['sandbox', 'insecure'] as const),
    devices: (flags.device ?? []).map((d) => parseRunDevice(d, expand)),
  };
}

/** `--device=NAME[,required[=BOOL]]`: the name holds `=` itself, so the options follow the first comma. */
export function parseRunDevice(spec: string, expand?: Expand): RunDevice {
  const [rawName = '', ...options] = spec.split(',');
  const name = word(rawName, expand)!;
  if (!name) throw invalid(`invalid --device=${shown(spec)}: a device name is required`, 'use --device=vendor.com/class=name[,required]');
  let required = false;
  for (const o of options) {
    const eq = o.indexOf('=');
    const key = eq < 0 ? o : o.slice(0, eq);
    if (key !== 'required') throw invalid(`unexpected key '${shown(key)}' in --device=${shown(spec)}`, 'use --device=vendor.com/class=name[,required]');
    required = eq < 0 ? true : parseBool(o.slice(eq + 1), 'required');
  }
  return { name, required };
}

/** A word of a flag BuildKit expands; at parse time a word with `$` is left for later. */
function word(value: string | undefined, expand: Expand | undefined): string | undefined {
  if (value === undefined) return undefined;
  return expand ? expand(value) : value;
}

function flagBool(flags: RawFlags, name: string): boolean | undefined {
  const v = flags[name]?.[0];
  return v === undefined ? undefined : parseBool(v, `--${name}`);
}

/** `0755` → 493. BuildKit's Dockerfile syntax takes an octal mode here. */
export function parseChmod(value: string): number {
  const mode = /^[0-7]{1,12}$/.test(value) ? parseInt(value, 8) : NaN;
  if (!(mode <= 0o7777)) throw invalid(`invalid --chmod value "${shown(value)}"`, 'use an octal mode such as 0755 or 644');
  return mode;
}

export function copyFlags(flags: RawFlags, expand?: Expand): CopyFlags {
  const known = (v: string | undefined) => v !== undefined && (expand !== undefined || !v.includes('$'));
  const chmodText = word(flags.chmod?.[0], expand);
  const checksum = word(flags.checksum?.[0], expand);
  // The digest's shape is checked at parse time, its algorithm and length once it is used.
  if (known(checksum) && !/^[a-z0-9]+:[0-9a-f]+$/.test(checksum!))
    throw invalid(`invalid --checksum value "${shown(checksum!)}"`, 'use --checksum=sha256:<64 hex digits>');
  if (expand && checksum !== undefined && !/^sha256:[0-9a-f]{64}$/.test(checksum)) {
    throw invalid(
      `invalid --checksum value "${shown(checksum!)}"`,
      /^sha(384|512):/.test(checksum) ? 'only sha256 checksums are supported' : 'use --checksum=sha256:<64 hex digits>',
    );
  }
  return {
    // An empty --from or --chown (`--chown=$UNSET`) means none, as in BuildKit.
    from: word(flags.from?.[0], expand) || undefined,
    chown: word(flags.chown?.[0], expand) || undefined,
    chmod: known(chmodText) && chmodText !== '' ? parseChmod(chmodText!) : undefined,
    link: flagBool(flags, 'link') ?? false,
    parents: flagBool(flags, 'parents') ?? false,
    exclude: (flags.exclude ?? []).map((e) => word(e, expand)!),
    checksum,
    keepGitDir: flagBool(flags, 'keep-git-dir') ?? false,
    unpack: flagBool(flags, 'unpack'),
  };
}
