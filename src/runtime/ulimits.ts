/**
 * `--ulimit NAME=SOFT[:HARD]` as docker reads it (go-units' ParseUlimit: the same names, the
 * same errors), and its place in the OCI spec. An rlimit there is a uint64 and unlimited is
 * RLIM_INFINITY, 2^64-1: `-1` means that, as docker's `uint64(-1)` does. A JS number cannot
 * hold 2^64-1 exactly, so limits are bigints here and `specJson` writes them as plain digits.
 */
import { readFileSync } from 'node:fs';
import { BerthError } from '../errors/index.ts';

/** Every name docker accepts, with the rlimit runc sets for it. */
export const ULIMIT_TYPES: Readonly<Record<string, string>> = {
  core: 'RLIMIT_CORE',
  cpu: 'RLIMIT_CPU',
  data: 'RLIMIT_DATA',
  fsize: 'RLIMIT_FSIZE',
  locks: 'RLIMIT_LOCKS',
  memlock: 'RLIMIT_MEMLOCK',
  msgqueue: 'RLIMIT_MSGQUEUE',
  nice: 'RLIMIT_NICE',
  nofile: 'RLIMIT_NOFILE',
  nproc: 'RLIMIT_NPROC',
  rss: 'RLIMIT_RSS',
  rtprio: 'RLIMIT_RTPRIO',
  rttime: 'RLIMIT_RTTIME',
  sigpending: 'RLIMIT_SIGPENDING',
  stack: 'RLIMIT_STACK',
};

/** RLIM_INFINITY: what `-1` (or any negative limit, as a uint64) asks for. */
export const RLIM_INFINITY = 2n ** 64n - 1n;

const INT64_MAX = 2n ** 63n - 1n;

export interface Ulimit {
  readonly name: string;
  /** The limits as signed numbers, as docker records them (HostConfig.Ulimits): -1 is unlimited. */
  readonly soft: bigint;
  readonly hard: bigint;
}

export interface SpecRlimit {
  readonly type: string;
  readonly soft: bigint;
  readonly hard: bigint;
}

function invalid(spec: string, reason: string): BerthError {
  return new BerthError('INVALID_ARGUMENT', `invalid argument "${spec}" for "--ulimit" flag: ${reason}`, {
    hint: `use NAME=SOFT[:HARD] with NAME one of ${Object.keys(ULIMIT_TYPES).join(', ')}, and -1 for unlimited`,
  });
}

/** Go's strconv.ParseInt(s, 10, 64), with its error words. */
function parseInt64(spec: string, s: string): bigint {
  if (!/^[+-]?\d+$/.test(s)) throw invalid(spec, `strconv.ParseInt: parsing "${s}": invalid syntax`);
  const n = BigInt(s);
  if (n > INT64_MAX || n < -INT64_MAX - 1n) throw invalid(spec, `strconv.ParseInt: parsing "${s}": value out of range`);
  return n;
}

/** One `--ulimit` value, refused with docker's words when the name or a number is wrong. */
export function parseUlimit(spec: string): Ulimit {
  const eq = spec.indexOf('=');
  if (eq < 0 || spec.indexOf('=', eq + 1) >= 0) throw invalid(spec, `invalid ulimit argument: ${spec}`);
  const name = spec.slice(0, eq);
  const value = spec.slice(eq + 1);
  if (!Object.hasOwn(ULIMIT_TYPES, name)) throw invalid(spec, `invalid ulimit type: ${name}`);
  const parts = value.split(':');
  if (parts.length > 2) throw invalid(spec, `too many limit value arguments - ${value}, can only have up to two, \`soft[:hard]\``);
  const soft = parseInt64(spec, parts[0]!);
  const hard = parts.length === 2 ? parseInt64(spec, parts[1]!) : soft;
  // Compared as the kernel will see them: -1 is unlimited, above every other limit.
  if (asRlimit(soft) > asRlimit(hard)) throw invalid(spec, `ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  return { name, soft, hard };
}

/** A limit as the uint64 the kernel takes: a negative one is RLIM_INFINITY, as Go's uint64(-1) makes it. */
function asRlimit(n: bigint): bigint {
  return n < 0n ? RLIM_INFINITY : n;
}

/** The order of /proc/self/limits, which is the kernel's RLIMIT_* numbering. */
const PROC_LIMITS_ORDER = [
  'RLIMIT_CPU',
  'RLIMIT_FSIZE',
  'RLIMIT_DATA',
  'RLIMIT_STACK',
  'RLIMIT_CORE',
  'RLIMIT_RSS',
  'RLIMIT_NPROC',
  'RLIMIT_NOFILE',
  'RLIMIT_MEMLOCK',
  'RLIMIT_AS',
  'RLIMIT_LOCKS',
  'RLIMIT_SIGPENDING',
  'RLIMIT_MSGQUEUE',
  'RLIMIT_NICE',
  'RLIMIT_RTPRIO',
  'RLIMIT_RTTIME',
];

const CAP_SYS_RESOURCE = 24n;

/**
 * The hard limits no container can go above: without CAP_SYS_RESOURCE, runc cannot raise a
 * limit past this process's own, and fails with "operation not permitted" once the container
 * is half made. With the capability there are none to tell (an empty map).
 */
export function processHardLimits(): Record<string, bigint> {
  try {
    const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (capEff && (BigInt(`0x${capEff}`) >> CAP_SYS_RESOURCE) & 1n) return {};
    const rows = readFileSync('/proc/self/limits', 'utf8').split('\n').slice(1);
    const out: Record<string, bigint> = {};
    PROC_LIMITS_ORDER.forEach((type, i) => {
      const hard = rows[i]?.slice(26).trim().split(/\s+/)[1];
      if (hard) out[type] = hard === 'unlimited' ? RLIM_INFINITY : BigInt(hard);
    });
    return out;
  } catch {
    return {};
  }
}

function shown(n: bigint): string {
  return n === RLIM_INFINITY ? 'unlimited' : String(n);
}

/**
 * The spec's rlimits for `specs` (already checked by parseUlimit at create, checked again
 * here for a record written before). A hard limit above `ceiling` (this host's: see
 * processHardLimits; a configured one such as the nofile ceiling wins) is refused here, with
 * the limit named, rather than by runc halfway through the start.
 */
export function specRlimits(specs: readonly string[], ceiling: Readonly<Record<string, number | bigint>> = {}): SpecRlimit[] {
  if (!specs.length) return [];
  const host = processHardLimits();
  return specs.map((s) => {
    const u = parseUlimit(s);
    const type = ULIMIT_TYPES[u.name]!;
    const soft = asRlimit(u.soft);
    const hard = asRlimit(u.hard);
    const capRaw = ceiling[type] ?? host[type];
    const cap = capRaw === undefined ? undefined : BigInt(capRaw);
    if (cap !== undefined && hard > cap) {
      throw new BerthError(
        'INVALID_ARGUMENT',
        `ulimit ${u.name}=${u.hard < 0n ? '-1 (unlimited)' : String(u.hard)} is above this host's hard limit of ${shown(cap)}`,
        {
          hint: `ask for at most ${shown(cap)}: raising a hard limit needs CAP_SYS_RESOURCE, which berth does not have here (or a higher limit for berth itself, e.g. LimitMEMLOCK=infinity in its service)`,
        },
      );
    }
    return { type, soft, hard };
  });
}

/**
 * JSON of an OCI spec in which uint64 fields may be bigints (rlimits): those are written as
 * their digits, which JSON.stringify cannot do. Every other value is written by JSON.stringify.
 */
export function specJson(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined || typeof v === 'function' ? 'null' : specJson(v))).join(',')}]`;
  if (value !== null && typeof value === 'object' && !('toJSON' in value)) {
    const fields = Object.entries(value).filter(([, v]) => v !== undefined && typeof v !== 'function');
    return `{${fields.map(([k, v]) => `${JSON.stringify(k)}:${specJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
