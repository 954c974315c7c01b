/**
 * Host ports for `-p`. portmap only writes DNAT rules: nothing listens on the host port, so
 * neither the kernel nor portmap notices two containers publishing the same one. berth keeps
 * a reservation file per (protocol, port) in one machine-wide directory, created with O_EXCL
 * so two concurrent setups cannot both win; the file holds the owner's container id. A
 * reservation whose owner's netns is gone (a crash without teardown) is stale and is taken
 * over. Reservations are per port, whatever the host IP: stricter than Docker, never wrong.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { BerthError, errnoCode } from '../errors/index.ts';
import { netnsPathFor } from './netns.ts';
import type { PortMapping } from './publish.ts';

const RANDOM_TRIES = 20;

function reservationPath(dir: string, protocol: string, port: number): string {
  return join(dir, `${protocol}-${port}`);
}

/** Binds the port for a moment: it must not belong to a host process, and 0 asks the kernel for a free one. */
export function probe(p: { hostIp: string; protocol: string }, port: number): Promise<number> {
  const address = p.hostIp || '0.0.0.0';
  if (p.protocol === 'sctp') return Promise.resolve(port || 0); // Node has no SCTP sockets: trust the reservation
  return new Promise((resolve, reject) => {
    const fail = (e: Error) => reject(e);
    if (p.protocol === 'udp') {
      const sock = createSocket(address.includes(':') ? 'udp6' : 'udp4');
      sock.once('error', fail);
      sock.bind(port, address, () => {
        const bound = sock.address().port;
        sock.close(() => resolve(bound));
      });
      return;
    }
    const srv = createServer();
    srv.once('error', fail);
    srv.listen({ port, host: address, exclusive: true }, () => {
      const bound = (srv.address() as { port: number }).port;
      srv.close(() => resolve(bound));
    });
  });
}

export function bindError(p: PortMapping, port: number, e: unknown): BerthError {
  const where = `${p.hostIp || '0.0.0.0'}:${port}`;
  if (errnoCode(e) === 'EADDRINUSE') return new BerthError('CONFLICT', `bind for ${where} failed: port is already allocated`, { cause: e });
  if (errnoCode(e) === 'EADDRNOTAVAIL') return new BerthError('INVALID_ARGUMENT', `publish on ${where}: the address is not one of this host's`, { cause: e });
  return new BerthError('RUNTIME', `bind for ${where} failed: ${(e as Error).message}`, { cause: e });
}

/** True when we now own the reservation (new, already ours, or taken over from a dead owner). */
async function reserve(dir: string, containerId: string, protocol: string, port: number): Promise<boolean> {
  const path = reservationPath(dir, protocol, port);
  try {
    await writeFile(path, containerId, { flag: 'wx' });
    return true;
  } catch (e) {
    if (errnoCode(e) !== 'EEXIST') throw e;
  }
  const owner = (await readFile(path, 'utf8').catch(() => '')).trim();
  if (owner === containerId) return true;
  if (owner && existsSync(netnsPathFor(owner))) return false;
  // Stale: its owner's namespace is gone. Remove and race for it like a new one.
  await unlink(path).catch(() => undefined);
  try {
    await writeFile(path, containerId, { flag: 'wx' });
    return true;
  } catch (e) {
    if (errnoCode(e) === 'EEXIST') return false;
    throw e;
  }
}

async function allocateOne(dir: string, containerId: string, p: PortMapping): Promise<PortMapping> {
  const { hostPortEnd: _end, ...plain } = p;
  if (p.hostPort === 0) {
    for (let i = 0; i < RANDOM_TRIES; i++) {
      const port = await probe(p, 0).catch((e: unknown) => {
        throw bindError(p, 0, e);
      });
      if (port && (await reserve(dir, containerId, p.protocol, port))) return { ...plain, hostPort: port };
    }
    throw new BerthError('UNAVAILABLE', `allocate a host port for ${p.containerPort}/${p.protocol}: no free port found`);
  }
  const last = p.hostPortEnd ?? p.hostPort;
  let lastError: BerthError | undefined;
  for (let port = p.hostPort; port <= last; port++) {
    if (!(await reserve(dir, containerId, p.protocol, port))) {
      lastError = new BerthError('CONFLICT', `bind for ${p.hostIp || '0.0.0.0'}:${port} failed: port is already allocated`, {
        hint: 'another berth container publishes it',
      });
      continue;
    }
    try {
      await probe(p, port);
      return { ...plain, hostPort: port };
    } catch (e) {
      await release(dir, containerId, [{ ...plain, hostPort: port }]);
      lastError = bindError(p, port, e);
      if (lastError.code !== 'CONFLICT') throw lastError;
    }
  }
  throw lastError ?? new BerthError('INTERNAL', `allocate host port ${p.hostPort}: empty range`);
}

/** Resolves every mapping to a concrete, reserved host port. On failure nothing stays reserved. */
export async function allocatePorts(dir: string, containerId: string, ports: readonly PortMapping[]): Promise<PortMapping[]> {
  await mkdir(dir, { recursive: true });
  const out: PortMapping[] = [];
  try {
    for (const p of ports) out.push(await allocateOne(dir, containerId, p));
  } catch (e) {
    await release(dir, containerId, out);
    throw e;
  }
  return out;
}

/** Removes only reservations this container still owns: safe to call twice, or after a takeover. */
export async function release(dir: string, containerId: string, ports: readonly PortMapping[]): Promise<void> {
  for (const p of ports) {
    if (!p.hostPort) continue;
    const path = reservationPath(dir, p.protocol, p.hostPort);
    const owner = (await readFile(path, 'utf8').catch(() => '')).trim();
    if (owner === containerId) await unlink(path).catch(() => undefined);
  }
}

/** The (protocol, port) pairs the container holds, from the reservation files alone. */
export async function ownedPorts(dir: string, containerId: string): Promise<Array<{ protocol: string; hostPort: number }>> {
  const out: Array<{ protocol: string; hostPort: number }> = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const m = /^(tcp|udp|sctp)-(\d+)$/.exec(name);
    if (!m) continue;
    const owner = (await readFile(join(dir, name), 'utf8').catch(() => '')).trim();
    if (owner === containerId) out.push({ protocol: m[1]!, hostPort: Number(m[2]) });
  }
  return out;
}

/**
 * Every reservation the container owns, recorded or not: a crash between reserving and
 * saving the attachment leaves some that no record names. The directory holds one small
 * file per published port on the machine, so reading it all is cheap.
 */
export async function releaseAll(dir: string, containerId: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const path = join(dir, name);
    const owner = (await readFile(path, 'utf8').catch(() => '')).trim();
    if (owner === containerId) await unlink(path).catch(() => undefined);
  }
}
