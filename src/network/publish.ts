/** Docker's `-p` syntax: `[ip:][hostPort[-end]:]containerPort[-end][/proto]`, IPv6 in brackets. */
import { BerthError } from '../errors/index.ts';

export interface PortMapping {
  readonly hostIp: string; // '' = all addresses
  readonly hostPort: number; // 0 = pick a free one
  readonly containerPort: number;
  readonly protocol: 'tcp' | 'udp' | 'sctp';
}

function range(s: string, spec: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) throw new BerthError('INVALID_ARGUMENT', `invalid port "${s}" in "${spec}"`);
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  if (a < 1 || b > 65535 || b < a) throw new BerthError('INVALID_ARGUMENT', `invalid port range "${s}" in "${spec}"`);
  return [a, b];
}

export function parsePublish(spec: string): PortMapping[] {
  let rest = spec.trim();
  let protocol: PortMapping['protocol'] = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    const p = rest.slice(slash + 1).toLowerCase();
    if (p !== 'tcp' && p !== 'udp' && p !== 'sctp') throw new BerthError('INVALID_ARGUMENT', `invalid proto "${p}" in "${spec}"`);
    protocol = p;
    rest = rest.slice(0, slash);
  }
  let hostIp = '';
  if (rest.startsWith('[')) {
    const end = rest.indexOf(']');
    if (end < 0) throw new BerthError('INVALID_ARGUMENT', `invalid IPv6 address in "${spec}"`);
    hostIp = rest.slice(1, end);
    rest = rest.slice(end + 2);
  }
  const parts = rest.split(':');
  if (parts.length > 3 || parts.some((p, i) => p === '' && !(parts.length === 3 && i === 1))) {
    throw new BerthError('INVALID_ARGUMENT', `invalid port specification: "${spec}"`, { hint: 'use [ip:]hostPort:containerPort[/proto]' });
  }
  let hostPart = '';
  let containerPart: string;
  if (parts.length === 3) [hostIp, hostPart, containerPart] = parts as [string, string, string];
  else if (parts.length === 2) [hostPart, containerPart] = parts as [string, string];
  else containerPart = parts[0]!;
  if (hostIp && !/^[\d.]+$|:/.test(hostIp)) throw new BerthError('INVALID_ARGUMENT', `invalid IP address "${hostIp}" in "${spec}"`);
  const [c0, c1] = range(containerPart, spec);
  const [h0, h1] = hostPart ? range(hostPart, spec) : [0, 0];
  if (hostPart && h1 - h0 !== c1 - c0 && h0 !== h1) throw new BerthError('INVALID_ARGUMENT', `port ranges don't match in "${spec}"`);
  const out: PortMapping[] = [];
  for (let i = 0; i <= c1 - c0; i++) out.push({ hostIp, hostPort: hostPart ? (h0 === h1 ? h0 : h0 + i) : 0, containerPort: c0 + i, protocol });
  return out;
}
