/**
 * SSH forwarding for `RUN --mount=type=ssh` (`build --ssh`): each id names an agent socket,
 * either the caller's own (`default` is $SSH_AUTH_SOCK) or one berth starts (openssh's
 * `ssh-agent`) holding the key files given. A step gets a socket of its own in its private
 * run dir, relaying each connection to that agent, chowned and moded as the mount asks and
 * bind-mounted at the mount's target: the keys stay in the agent, so no byte of them can
 * reach a layer, the config or the history, and the socket lives only as long as the step.
 */
import { lstatSync, mkdtempSync, rmSync } from 'node:fs';
import { chmod, chown } from 'node:fs/promises';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BerthError } from '../errors/index.ts';
import { spawnChild, type SpawnedChild } from '../sys/spawn.ts';

/** One `--ssh` value: an id and the agent sockets or private key files it stands for. */
export interface SshSpec {
  readonly id: string;
  readonly paths: readonly string[];
}

/** The agents a build forwards, by id; `close` stops the ones berth started. */
export interface SshAgents {
  socketOf(id: string): string | undefined;
  readonly ids: readonly string[];
  close(): Promise<void>;
}

/** A unix socket path is at most 107 bytes on Linux. */
const MAX_SOCKET_PATH = 107;

/** `--ssh` values as docker takes them: `default`, `ID`, `ID=PATH[,PATH…]`; without paths, $SSH_AUTH_SOCK. */
export function parseSshSpecs(values: readonly string[], env: NodeJS.ProcessEnv): SshSpec[] {
  const seen = new Set<string>();
  return values.map((v) => {
    const i = v.indexOf('=');
    const id = i < 0 ? v : v.slice(0, i);
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(id))
      throw new BerthError('INVALID_ARGUMENT', `invalid --ssh "${v}": the id must be letters, digits, ".", "_" or "-"`, {
        hint: 'use --ssh default or --ssh ID=PATH',
      });
    if (seen.has(id)) throw new BerthError('INVALID_ARGUMENT', `invalid --ssh "${v}": id ${id} given twice`);
    seen.add(id);
    const paths =
      i < 0
        ? []
        : v
            .slice(i + 1)
            .split(',')
            .filter((p) => p !== '');
    if (paths.length) return { id, paths };
    const sock = env.SSH_AUTH_SOCK;
    if (!sock)
      throw new BerthError('INVALID_ARGUMENT', `invalid empty ssh agent socket for --ssh ${id}: make sure SSH_AUTH_SOCK is set`, {
        hint: `start an agent (eval $(ssh-agent); ssh-add), or give key files: --ssh ${id}=~/.ssh/id_ed25519`,
      });
    return { id, paths: [sock] };
  });
}

/** openssh's tools, found on PATH (spawnChild does no search of its own). */
function tool(name: string): string {
  for (const dir of (process.env.PATH || '/usr/local/bin:/usr/bin:/bin').split(':')) {
    const file = join(dir || '.', name);
    try {
      if (lstatSync(file)) return file;
    } catch {
      // not in this dir
    }
  }
  throw new BerthError('UNAVAILABLE', `--ssh with key files needs ${name}, which is not installed`, {
    hint: 'install openssh-client, or pass an agent socket',
  });
}

function kindOf(path: string): 'socket' | 'file' {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(path);
  } catch (e) {
    throw new BerthError('NOT_FOUND', `--ssh: cannot read ${path}: ${(e as Error).message}`);
  }
  if (st.isSocket()) return 'socket';
  if (st.isFile()) return 'file';
  throw new BerthError('INVALID_ARGUMENT', `--ssh: ${path} is neither an agent socket nor a key file`);
}

async function waitExit(child: SpawnedChild): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout?.resume();
  const e = await child.exited;
  return { code: e.code, stderr: stderr.trim() };
}

/** Starts `ssh-agent -D` on a socket in `dir` and adds the key files to it. */
async function startAgent(id: string, keys: readonly string[], dir: string): Promise<{ socket: string; child: SpawnedChild }> {
  const socket = join(dir, `agent-${id.slice(0, 40)}`);
  const child = spawnChild(tool('ssh-agent'), ['-D', '-a', socket], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.resume();
  child.stderr?.resume();
  let gone = false;
  void child.exited.then(
    () => (gone = true),
    () => (gone = true),
  );
  for (let i = 0; i < 200 && !gone; i++) {
    try {
      if (lstatSync(socket).isSocket()) break;
    } catch {
      // not bound yet
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  if (gone) throw new BerthError('UNAVAILABLE', `--ssh ${id}: ssh-agent exited before it listened`, { hint: 'install openssh-client' });
  // `ssh-add` must not ask for a passphrase: without a terminal or askpass it fails at once.
  const add = spawnChild(tool('ssh-add'), ['-q', ...keys], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', SSH_AUTH_SOCK: socket, SSH_ASKPASS_REQUIRE: 'never' },
  });
  const r = await waitExit(add);
  if (r.code !== 0) {
    process.kill(child.pid, 'SIGTERM');
    throw new BerthError('INVALID_ARGUMENT', `--ssh ${id}: ssh-add could not load ${keys.join(', ')}: ${r.stderr || `exit ${r.code}`}`, {
      hint: 'give an unencrypted private key, or load it into your own agent and pass --ssh default',
    });
  }
  return { socket, child };
}

/** The agents of a build's `--ssh` values; key files are loaded into agents berth starts and stops. */
export async function openSshAgents(specs: readonly SshSpec[]): Promise<SshAgents> {
  const sockets = new Map<string, string>();
  const children: SpawnedChild[] = [];
  let dir: string | undefined;
  const close = async () => {
    for (const c of children) {
      try {
        process.kill(c.pid, 'SIGTERM');
      } catch {
        // gone already
      }
      await c.exited.catch(() => undefined);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const spec of specs) {
      const kinds = spec.paths.map(kindOf);
      if (kinds.every((k) => k === 'socket') && spec.paths.length === 1) {
        sockets.set(spec.id, spec.paths[0]!);
        continue;
      }
      if (kinds.includes('socket')) throw new BerthError('INVALID_ARGUMENT', `--ssh ${spec.id}: give one agent socket or key files, not both`);
      // A short private dir of its own: socket paths are limited in length, and it holds only sockets.
      dir ??= mkdtempSync(join(tmpdir(), 'berth-ssh-agent-'));
      const agent = await startAgent(spec.id, spec.paths, dir);
      children.push(agent.child);
      sockets.set(spec.id, agent.socket);
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { socketOf: (id) => sockets.get(id), ids: [...sockets.keys()], close };
}

/**
 * A socket at `path` relaying every connection to `agent`, owned and moded as the mount
 * asks (root's and 0600 by default, as BuildKit's). `close` stops it and its connections.
 */
export async function relaySocket(agent: string, path: string, own: { uid?: number; gid?: number; mode?: number }): Promise<() => Promise<void>> {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH)
    throw new BerthError('FAILED_PRECONDITION', `cannot forward ssh: the socket path ${path} is too long for a unix socket`, {
      hint: 'use a shorter state root (--root)',
    });
  const open = new Set<import('node:net').Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection(agent);
    open.add(client).add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  await chown(path, own.uid ?? 0, own.gid ?? 0);
  await chmod(path, own.mode ?? 0o600);
  return async () => {
    for (const s of open) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}
