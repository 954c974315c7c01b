/**
 * Docker's `-p` syntax, parsed as Docker splits it: the last `:` field is the container
 * port (or range), the one before it the host port (or range, or empty for a random one),
 * and whatever is left is the host IP, bracketed or not for IPv6.
 *
 *   80                     container 80, random host port, all addresses
 *   8080:80/udp            host 8080 → container 80, UDP
 *   127.0.0.1::80          random host port on 127.0.0.1
 *   [::1]:8080:80          IPv6 host address
 *   8000-8002:80-82        one mapping per port, pairwise
 *   8000-8010:80           the first free host port in 8000..8010
 */
import { isIP } from 'node:net';
import { BerthError } from '../errors/index.ts';

export type PortProtocol = 'tcp' | 'udp' | 'sctp';

export interface PortMapping {
  /** '' means every address of the host. */
  readonly hostIp: string;
  /** 0 means "pick a free port" at setup; resolved mappings always carry the real port. */
  readonly hostPort: number;
  /** With it, setup picks the first free port in hostPort..hostPortEnd. */
  readonly hostPortEnd?: number;
  readonly containerPort: number;
  readonly protocol: PortProtocol;
}

const PROTOCOLS: readonly string[] = ['tcp', 'udp', 'sctp'];

function invalid(message: string): BerthError {
  return new BerthError('INVALID_ARGUMENT', message, { hint: 'use [ip:][hostPort:]containerPort[/tcp|udp|sctp], e.g. -p 127.0.0.1:8080:80' });
}

function portRange(text: string, what: string, spec: string): [number, number] {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  if (!m) throw invalid(`parse ${what} port "${text}" in "${spec}": not a port or port range`);
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  if (start < 1 || start > 65535 || end < 1 || end > 65535) throw invalid(`parse ${what} port "${text}" in "${spec}": ports are 1-65535`);
  if (end < start) throw invalid(`parse ${what} port range "${text}" in "${spec}": the end is before the start`);
  return [start, end];
}

function splitSpec(rest: string): { ip: string; host: string; container: string } {
  const parts = rest.split(':');
  const n = parts.length;
  const container = parts[n - 1]!;
  if (n === 1) return { ip: '', host: '', container };
  if (n === 2) return { ip: '', host: parts[0]!, container };
  return { ip: parts.slice(0, n - 2).join(':'), host: parts[n - 2]!, container };
}

export function parsePublish(spec: string): PortMapping[] {
  const text = spec.trim();
  if (!text) throw invalid('parse port mapping: empty specification');
  let rest = text;
  let protocol: PortProtocol = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    const p = rest.slice(slash + 1).toLowerCase();
    if (!PROTOCOLS.includes(p)) throw invalid(`parse protocol "${rest.slice(slash + 1)}" in "${spec}": expected tcp, udp or sctp`);
    protocol = p as PortProtocol;
    rest = rest.slice(0, slash);
  }
  const { ip: rawIp, host, container } = splitSpec(rest);
  let hostIp = rawIp;
  if (hostIp.startsWith('[') || hostIp.endsWith(']')) {
    if (!(hostIp.startsWith('[') && hostIp.endsWith(']'))) throw invalid(`parse IP address "${rawIp}" in "${spec}": unbalanced brackets`);
    hostIp = hostIp.slice(1, -1);
  }
  if (hostIp && isIP(hostIp) === 0) throw invalid(`parse IP address "${rawIp}" in "${spec}": not an IPv4 or IPv6 address`);
  if (!container) throw invalid(`parse port mapping "${spec}": no container port`);
  const [c0, c1] = portRange(container, 'container', spec);
  if (!host) return rangeOf(c0, c1, (port) => ({ hostIp, hostPort: 0, containerPort: port, protocol }));
  const [h0, h1] = portRange(host, 'host', spec);
  if (h1 - h0 === c1 - c0) return rangeOf(c0, c1, (port) => ({ hostIp, hostPort: h0 + (port - c0), containerPort: port, protocol }));
  // A host range for one container port means "any free one of these"; anything else is a mismatch.
  if (c0 !== c1) throw invalid(`parse port mapping "${spec}": the host range ${host} and the container range ${container} differ in size`);
  return [{ hostIp, hostPort: h0, hostPortEnd: h1, containerPort: c0, protocol }];
}

function rangeOf(start: number, end: number, make: (port: number) => PortMapping): PortMapping[] {
  const out: PortMapping[] = [];
  for (let port = start; port <= end; port++) out.push(make(port));
  return out;
}

/** Docker's `HostIp:HostPort->ContainerPort/proto` form, for `ps` and `port`. */
export function formatPortMapping(p: PortMapping): string {
  const ip = p.hostIp === '' ? '0.0.0.0' : p.hostIp.includes(':') ? `[${p.hostIp}]` : p.hostIp;
  return `${ip}:${p.hostPort}->${p.containerPort}/${p.protocol}`;
}
