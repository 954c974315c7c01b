/**
 * The `create` options that docker checks with its own words before anything is made:
 * `--add-host`, `--dns`, `--dns-search`, `--expose`, `--log-driver`/`--log-opt`,
 * `--oom-score-adj`. Pure: the CLI calls them to word a flag's error as docker's CLI does,
 * and `create` calls them again for what the API sends.
 */
import { isIP } from 'node:net';
import { constants } from 'node:os';
import { BerthError } from '../errors/index.ts';

/** `--add-host host-gateway`: the address of the host as the default bridge's gateway. */
export const HOST_GATEWAY = 'host-gateway';

function invalid(message: string): BerthError {
  return new BerthError('INVALID_ARGUMENT', message);
}

/** docker's ValidateIPAddress: the address, trimmed, as written; an error naming it when it is none. */
export function checkIpAddress(value: string): string {
  const ip = value.trim();
  if (isIP(ip) === 0) throw invalid(`${value} is not an ip address`);
  return ip;
}

/**
 * docker's ValidateExtraHost: `NAME:IP` or `NAME=IP` (an IPv6 address may be bracketed, and
 * keeps its colons), or `NAME:host-gateway`. Returns `NAME:IP` as docker stores it.
 */
export function checkExtraHost(value: string): string {
  let cut = value.indexOf('=');
  if (cut < 0) cut = value.indexOf(':');
  const name = cut < 0 ? '' : value.slice(0, cut);
  if (cut < 0 || name === '' || name.includes(':')) throw invalid(`bad format for add-host: ${JSON.stringify(value)}`);
  let ip = value.slice(cut + 1);
  if (ip !== HOST_GATEWAY) {
    if (ip.length > 2 && ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
    if (isIP(ip.trim()) === 0) throw invalid(`invalid IP address in add-host: ${JSON.stringify(ip)}`);
  }
  return `${name}:${ip}`;
}

/** A stored `NAME:IP` entry split on its first colon (an IPv6 address keeps the rest). */
export function splitExtraHost(entry: string): { name: string; ip: string } {
  const cut = entry.indexOf(':');
  return { name: entry.slice(0, cut), ip: entry.slice(cut + 1) };
}

const DOMAIN_RE = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*\.?\s*$/;

/** docker's ValidateDNSSearch: `.` (no search domains), or a domain of at most 255 characters. */
export function checkDnsSearch(value: string): string {
  if (value.trim() === '.') return value;
  if (!DOMAIN_RE.test(value)) throw invalid(`${value} is not a valid domain`);
  if (value.length > 255) throw invalid(`${value} is not a valid domain`);
  return value;
}

/** `--expose PORT[-END][/PROTO]`, expanded to one `PORT/PROTO` per port as docker stores ExposedPorts. */
export function expandExpose(value: string): string[] {
  if (value.includes(':')) throw invalid(`invalid port format for --expose: ${value}`);
  const slash = value.lastIndexOf('/');
  const port = slash < 0 ? value : value.slice(0, slash);
  const proto = slash < 0 ? 'tcp' : value.slice(slash + 1).toLowerCase();
  const m = /^(\d+)(?:-(\d+))?$/.exec(port);
  const start = m ? Number(m[1]) : Number.NaN;
  const end = m?.[2] === undefined ? start : Number(m[2]);
  if (!m || start > 65535 || end > 65535 || end < start) {
    throw invalid(`invalid range format for --expose: ${value}, error: invalid port range: ${port}`);
  }
  if (!['tcp', 'udp', 'sctp'].includes(proto)) throw invalid(`invalid proto: ${proto}`);
  const out: string[] = [];
  for (let p = start; p <= end; p++) out.push(`${p}/${proto}`);
  return out;
}

/** How a container's output is kept: docker's json-file (rotated by max-size/max-file), or not at all. */
export interface LogConfig {
  readonly type: 'json-file' | 'none';
  readonly config: Readonly<Record<string, string>>;
}

/** json-file's options as docker's driver reads them. */
export interface JsonFileLimits {
  /** Bytes a log file may grow to before it is rotated; unset: no limit. */
  readonly maxSize?: number;
  /** How many files are kept, the live one included. */
  readonly maxFile: number;
  /** Container labels (`labels`) and env variables (`env`) named as attributes of every line. */
  readonly labels: readonly string[];
  readonly env: readonly string[];
}

const JSON_FILE_OPTS = ['max-file', 'max-size', 'compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag'];
/** Drivers docker has that berth does not run. */
const OTHER_DRIVERS = ['local', 'syslog', 'journald', 'gelf', 'fluentd', 'awslogs', 'splunk', 'etwlogs', 'gcplogs', 'logentries'];

/** go-units' FromHumanSize: a decimal size (1000s), with an optional k/m/g/t/p suffix and b. */
function humanSize(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?\s*$/i.exec(value);
  if (!m) throw invalid(`invalid size: '${value}'`);
  const unit = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 }[m[2]!.toLowerCase()]!;
  return Math.floor(Number(m[1]) * unit);
}

/** The rotation limits and attributes of a json-file config, checked as docker's driver checks them. */
export function jsonFileLimits(config: Readonly<Record<string, string>>): JsonFileLimits {
  let maxSize: number | undefined;
  if (config['max-size'] !== undefined) {
    maxSize = humanSize(config['max-size']);
    // A size this small would rotate on every line: docker's driver refuses nothing here, but a zero means no limit to it.
    if (maxSize === 0) maxSize = undefined;
  }
  let maxFile = 1;
  if (config['max-file'] !== undefined) {
    if (!/^[+-]?\d+$/.test(config['max-file'])) throw invalid(`strconv.Atoi: parsing ${JSON.stringify(config['max-file'])}: invalid syntax`);
    maxFile = Number(config['max-file']);
    if (maxFile < 1) throw invalid('max-file cannot be less than 1');
    // Beyond this every rotation renames thousands of files: refused rather than slow.
    if (maxFile > 1000) throw invalid(`max-file ${maxFile} is more than berth keeps (1000)`);
  }
  const list = (k: string) => (config[k] ?? '').split(',').filter(Boolean);
  return { maxSize, maxFile, labels: list('labels'), env: list('env') };
}

/** `--log-driver` and `--log-opt KEY=VALUE`s as a LogConfig, with docker's errors for what it refuses. */
export function checkLogConfig(driver: string | undefined, opts: Readonly<Record<string, string>>): LogConfig {
  const type = driver || 'json-file';
  if (type === 'none') {
    if (Object.keys(opts).length) throw invalid(`unknown log opt '${Object.keys(opts)[0]}' for none log driver`);
    return { type, config: {} };
  }
  if (type !== 'json-file') {
    if (OTHER_DRIVERS.includes(type)) {
      throw new BerthError('UNSUPPORTED', `the ${type} logging driver is not supported by berth yet`, { hint: 'use --log-driver json-file or none' });
    }
    throw invalid(`logger: no log driver named '${type}' is registered`);
  }
  for (const k of Object.keys(opts)) if (!JSON_FILE_OPTS.includes(k)) throw invalid(`unknown log opt '${k}' for json-file log driver`);
  jsonFileLimits(opts);
  return { type, config: { ...opts } };
}

/** The kernel's range for a process's OOM score adjustment. */
export function checkOomScoreAdj(value: number): number {
  if (!Number.isInteger(value) || value < -1000 || value > 1000) throw invalid(`Invalid value ${value}, range for oom score adj is [-1000, 1000]`);
  return value;
}

const SIGNALS = new Set(Object.keys(constants.signals).map((s) => s.slice(3)));

/** docker's ParseSignal: a number other than 0, or a name with or without `SIG`, in any case. */
export function checkSignal(value: string): string {
  const name = value.toUpperCase().replace(/^SIG/, '');
  const known = SIGNALS.has(name) || /^RTMIN(\+\d+)?$|^RTMAX(-\d+)?$/.test(name); // the real-time ones Node does not list
  if (/^\d+$/.test(value) ? Number(value) === 0 : !known) {
    throw invalid(`Invalid signal: ${value}`);
  }
  return value;
}

/** A stop timeout in whole seconds as docker's flag parses it; a negative one waits for ever. */
export function parseTimeoutSeconds(value: string, flag: string): number {
  if (!/^[+-]?\d+$/.test(value.trim())) throw invalid(`invalid argument "${value}" for "${flag}" flag: strconv.ParseInt: parsing "${value}": invalid syntax`);
  return Number(value);
}
