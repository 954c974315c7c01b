/**
 * How a setting's text becomes a value: one `Kind` per shape of value (paths, flags, whole
 * numbers, subnets, byte sizes ...), each with what a good value looks like for the hint of a
 * bad one. index.ts says which settings there are and of which kind.
 */
/** How a variable's text becomes a value: `parse` returns undefined for a bad one. */
export interface Kind<T> {
  readonly name: string;
  /** What a good value looks like, for the hint of a bad one. */
  readonly expected: string;
  readonly parse: (raw: string) => T | undefined;
}

export const path: Kind<string> = {
  name: 'path',
  expected: 'a file or directory path',
  parse: (raw) => (raw.includes('\0') ? undefined : raw),
};

/** Directories separated by `:`, as PATH is written. */
export const pathList: Kind<readonly string[]> = {
  name: 'path list',
  expected: 'directories separated by `:`',
  parse: (raw) => {
    const dirs = raw.split(':').filter((d) => d !== '');
    return raw.includes('\0') || dirs.length === 0 ? undefined : dirs;
  },
};

export const command: Kind<string> = {
  name: 'command',
  expected: 'the path of an executable, or a name looked up on PATH',
  parse: (raw) => (raw.includes('\0') ? undefined : raw),
};

export const flag: Kind<boolean> = {
  name: 'flag',
  expected: '1, true, yes or on (or 0, false, no, off)',
  parse: (raw) => {
    const v = raw.toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off'].includes(v)) return false;
    return undefined;
  },
};

/** A whole number from `min` up, written in decimal. */
export function integer(min: number, unit: string): Kind<number> {
  return {
    name: unit === 'bytes' ? 'bytes' : 'integer',
    expected: `a whole number of ${unit}, at least ${min}`,
    parse: (raw) => {
      if (!/^\d+$/.test(raw)) return undefined;
      const n = Number(raw);
      return Number.isSafeInteger(n) && n >= min ? n : undefined;
    },
  };
}

export function oneOf<const T extends string>(...values: T[]): Kind<T> {
  return {
    name: values.join(' | '),
    expected: values.join(' or '),
    parse: (raw) => ((values as string[]).includes(raw) ? (raw as T) : undefined),
  };
}

const octet = (s: string) => /^\d{1,3}$/.test(s) && Number(s) <= 255;

export const ipv4Subnet: Kind<string> = {
  name: 'IPv4 subnet',
  expected: 'an IPv4 subnet in CIDR form, such as 10.87.0.0/16',
  parse: (raw) => {
    const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(raw);
    return m && m[1]!.split('.').every(octet) && Number(m[2]) >= 8 && Number(m[2]) <= 30 ? raw : undefined;
  },
};

export const twoOctets: Kind<string> = {
  name: 'IPv4 prefix',
  expected: 'the first two octets of a /16, such as 10.89',
  parse: (raw) => {
    const parts = raw.split('.');
    return parts.length === 2 && parts.every(octet) ? raw : undefined;
  },
};

/** A Linux network interface name: at most 15 bytes, no `/`, space or `:`. */
export const interfaceName: Kind<string> = {
  name: 'interface name',
  expected: 'a network interface name of 1 to 15 letters, digits, `-`, `_` or `.`',
  parse: (raw) => (/^[A-Za-z0-9_.-]{1,15}$/.test(raw) && raw !== '.' && raw !== '..' ? raw : undefined),
};

export const MiB = 1 << 20;

const SIZE_UNITS: Readonly<Record<string, number>> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };

/** A byte size as docker's flags take it (go-units RAMInBytes): `10GB`, `512m`, `1.5g`, `1048576`; binary units. */
export const size: Kind<number> = {
  name: 'size',
  expected: 'a size such as 10GB, 512m or a number of bytes',
  parse: (raw) => {
    const m = /^(\d{1,20}(?:\.\d{1,20})?) ?([kmgtp])?i?b?$/i.exec(raw);
    const n = m ? Math.floor(Number(m[1]) * SIZE_UNITS[(m[2] ?? '').toLowerCase()]!) : Number.NaN;
    return Number.isSafeInteger(n) ? n : undefined;
  },
};

/** A byte size as `size` settings take it (`10GB`, `512m`); undefined when it is not one. */
export function parseSize(raw: string): number | undefined {
  return size.parse(raw);
}
