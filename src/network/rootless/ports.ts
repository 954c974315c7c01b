/**
 * `-p` for a rootless container. The helper (slirp4netns or pasta) binds each host port
 * itself, as the user, so the kernel is the registry of who holds a port: no reservation
 * files, and a port another program holds fails as it would for any process. What the
 * kernel allows a user is checked first, so each refusal names its fix:
 *
 * - ports below net.ipv4.ip_unprivileged_port_start (1024 unless an admin lowered it) are
 *   root's; the error names the sysctl, with the value that would allow the port;
 * - a host address must be one of this host's (IPv4: the helpers forward IPv4 only here);
 * - SCTP has no user-mode forwarding.
 *
 * Random and ranged host ports are resolved to one free port by binding it for a moment,
 * as the rootful path does.
 */
import { isIP } from 'node:net';
import { BerthError } from '../../errors/index.ts';
import { readTextOr } from '../../sys/quiet-fs.ts';
import { bindError, probe } from '../ports.ts';
import type { PortMapping } from '../publish.ts';

export const UNPRIVILEGED_PORT_SYSCTL = 'net.ipv4.ip_unprivileged_port_start';
const RANDOM_TRIES = 20;

/** The lowest port a user may bind, from the host's sysctl (1024 when it cannot be read). */
export function unprivilegedPortStart(): number {
  const n = Number(readTextOr('/proc/sys/net/ipv4/ip_unprivileged_port_start', '1024').trim());
  return Number.isInteger(n) && n >= 0 ? n : 1024;
}

export function privilegedPortError(port: number, start: number): BerthError {
  return new BerthError(
    'FAILED_PRECONDITION',
    `cannot expose privileged port ${port} in rootless mode, you can add '${UNPRIVILEGED_PORT_SYSCTL}=${port}' to /etc/sysctl.conf (currently ${start}), or choose a larger port number (>= ${start})`,
    { hint: `an admin can allow it now with \`sysctl -w ${UNPRIVILEGED_PORT_SYSCTL}=${port}\`, or publish on a port >= ${start}` },
  );
}

/** What the user's mapping may not ask for in rootless mode, whatever the port. */
export function checkRootlessMapping(p: PortMapping): void {
  if (p.protocol === 'sctp')
    throw new BerthError('UNSUPPORTED', `publish ${p.containerPort}/sctp: SCTP ports cannot be published in rootless mode`, {
      hint: 'publish it as tcp or udp',
    });
  if (p.hostIp && isIP(p.hostIp) === 6)
    throw new BerthError('UNSUPPORTED', `publish on ${p.hostIp}: IPv6 host addresses cannot be published in rootless mode`, {
      hint: 'publish on 0.0.0.0 or an IPv4 address of this host',
    });
}

/** The host ports to try for a mapping, in order; privileged ones fail with the sysctl's error. */
function candidates(p: PortMapping, start: number): number[] {
  const last = p.hostPortEnd ?? p.hostPort;
  const all: number[] = [];
  for (let port = p.hostPort; port <= last; port++) all.push(port);
  const allowed = all.filter((port) => port >= start);
  if (!allowed.length) throw privilegedPortError(p.hostPort, start);
  return allowed;
}

/**
 * Resolves each mapping to a concrete host port and hands it to `forward`, which makes the
 * helper bind it (slirp4netns) or records it for the helper's start (pasta). A candidate port
 * is bound for a moment first, so a port in use or an address that is not the host's gets
 * the rootful path's errors; `forward` failing on a port that was free a moment ago (a race)
 * moves on to the next candidate.
 */
export async function resolveRootlessPorts(
  requested: readonly PortMapping[],
  forward: (p: PortMapping) => Promise<void>,
  start = unprivilegedPortStart(),
): Promise<PortMapping[]> {
  const out: PortMapping[] = [];
  for (const p of requested) {
    checkRootlessMapping(p);
    const { hostPortEnd: _end, ...plain } = p;
    const random = p.hostPort === 0;
    const tries = random ? Array.from({ length: RANDOM_TRIES }, () => 0) : candidates(p, start);
    let lastError: unknown;
    let done: PortMapping | undefined;
    for (const candidate of tries) {
      let port: number;
      try {
        port = await probe(p, candidate);
      } catch (e) {
        const err = bindError(p, candidate, e);
        if ((e as NodeJS.ErrnoException).code === 'EACCES') throw privilegedPortError(candidate, start);
        if (err.code !== 'CONFLICT') throw err;
        lastError = err;
        continue;
      }
      const resolved = { ...plain, hostPort: port };
      try {
        await forward(resolved);
        done = resolved;
        break;
      } catch (e) {
        lastError = e;
      }
    }
    if (!done) throw lastError ?? new BerthError('UNAVAILABLE', `allocate a host port for ${p.containerPort}/${p.protocol}: no free port found`);
    out.push(done);
  }
  return out;
}
