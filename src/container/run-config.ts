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

export { checkLogConfig, jsonFileLimits, type JsonFileLimits, type LogConfig } from './log-config.ts';

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
