/**
 * The executor: the one place that turns "this rootfs, this process, these mounts, this
 * network" into a runc container, for a build step and for a container alike.
 *
 * Lifecycle: `writeBundle` writes the bundle (config.json) from a `ContainerSpec`; `start`
 * starts `runc run` on a written bundle and returns a `RunningContainer`; `run` does both.
 * A container's CLI writes the bundle and its monitor may start it later, so the two are
 * apart. The caller prepares the network through network/ and passes the attachment's netns
 * and /etc files; the executor makes the network namespace and the /etc binds from them the
 * same way for every caller. Every mount destination is resolved inside the rootfs first
 * (in-root.ts), so an image whose /etc/hosts is a link to a host path gets its bind on the
 * link's target inside the rootfs, never outside it, whatever the runtime does with links.
 *
 * The io of a start is either stdio (pipes, /dev/null or this process's own, passed to runc,
 * which proxies a pty of its own on an inherited terminal for a tty spec) or a console socket:
 * then runc sends the pty's master there and leaves the container to this process, which
 * becomes the child subreaper for it (sys/terminal.ts). runc always starts through
 * sys/spawn.ts.
 */
import { mkdirSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { closeFd, fdPath, hostPathOf, openInRoot, openRoot, splitLeaf } from '../sys/in-root.ts';
import { exitStatus, waitAdoptedChild, waitChild, type SpawnedChild, type StdioKind } from '../sys/spawn.ts';
import { becomeSubreaper, listenConsoleSocket, type Terminal } from '../sys/terminal.ts';
import type { CdiInjection } from '../cdi/index.ts';
import type { SpecMount } from './defaults.ts';
import { Runc, waitForPidFile } from './runc.ts';
import { rootlessSpec } from './rootless.ts';
import { buildSpec, type NetNamespace, type RuntimeOptions } from './spec.ts';
import { specJson } from './ulimits.ts';
import type { ResolvedUser } from './user.ts';

/**
 * The network a container joins, as network/ prepared it (a `NetworkAttachment` fits):
 * `host` shares the host's namespace, a `netnsPath` is joined, anything else gets a fresh
 * namespace from runc. The /etc files are bound over the rootfs's; `hostnamePath` is optional.
 */
export interface ExecutorNetwork {
  readonly mode: string;
  readonly netnsPath?: string;
  readonly hostsPath: string;
  readonly resolvConfPath: string;
  readonly hostnamePath?: string;
}

export interface ContainerProcess {
  readonly args: readonly string[];
  /** As the caller composed it; buildSpec adds Docker's PATH, HOSTNAME, TERM and HOME where missing. */
  readonly env: readonly string[];
  readonly cwd: string;
  readonly user: ResolvedUser;
  readonly tty: boolean;
}

export interface ContainerSpec {
  /** runc's container id, unique under the executor's state root. */
  readonly id: string;
  /** The merged root file system (from the snapshotter). */
  readonly rootfs: string;
  /** The bundle dir config.json is written to (it holds the env: private to root). */
  readonly bundle: string;
  readonly hostname: string;
  readonly process: ContainerProcess;
  readonly mounts: readonly SpecMount[];
  readonly network: ExecutorNetwork;
  /** Binds the /etc files read-only (a build step's). */
  readonly etcReadOnly?: boolean;
  readonly options?: RuntimeOptions;
  /** Hard limits of this process: a spec may never ask above them. */
  readonly hardLimits?: Readonly<Record<string, number>>;
  /** The CDI devices' edits (cdi/request.ts). */
  readonly cdi?: CdiInjection;
}

export type StartIo =
  /** runc's own fds 0-2: the container's, or the terminal runc proxies for a tty spec. */
  | { readonly stdio: readonly [StdioKind, StdioKind, StdioKind]; readonly pidFile?: string }
  /** A tty spec whose terminal this process holds: the socket path runc sends it to (in a private dir). */
  | { readonly consoleSocket: string; readonly pidFile: string };

/** A started container. */
export interface RunningContainer {
  readonly id: string;
  /** The pipes of runc's stdio that were asked for; with a console socket, stderr carries runc's own errors. */
  readonly stdin: NodeJS.WritableStream | null;
  readonly stdout: NodeJS.ReadableStream | null;
  readonly stderr: NodeJS.ReadableStream | null;
  /** With a console socket: the container's terminal, once runc has sent it. */
  readonly terminal?: Promise<Terminal>;
  /** The container's pid once runc has written it (a pid file was asked for), or 0 when it was gone first. */
  started(): Promise<number>;
  /** Its exit status (128+n for a signal); runc's state of it is gone by then. */
  wait(): Promise<number>;
  kill(signal: string): Promise<void>;
  /** Removes runc's state of it (killing it first): for a start that is abandoned. */
  delete(): Promise<void>;
}

/** An exec'd process whose terminal this process holds (`Executor.execWithConsole`). */
export interface RunningExec {
  /** Its pid once runc has started it, or 0 when runc failed. */
  readonly pid: Promise<number>;
  readonly terminal: Promise<Terminal>;
  /** runc's own errors. */
  readonly stderr: NodeJS.ReadableStream | null;
  /** Its exit status (128+n for a signal), or runc's when it never started. */
  readonly exited: Promise<number>;
}

/** The network namespace runc is told to make or join. */
function netnsOf(net: ExecutorNetwork): NetNamespace {
  return net.mode === 'host' ? { kind: 'host' } : net.netnsPath ? { kind: 'path', path: net.netnsPath } : { kind: 'new' };
}

/** The /etc binds every container and build step gets from its network. */
function etcMounts(net: ExecutorNetwork, readOnly: boolean): SpecMount[] {
  const options = ['rbind', 'rprivate', ...(readOnly ? ['ro'] : [])];
  const files: Array<[string, string | undefined]> = [
    ['/etc/resolv.conf', net.resolvConfPath],
    ['/etc/hostname', net.hostnamePath],
    ['/etc/hosts', net.hostsPath],
  ];
  return files.flatMap(([destination, source]) => (source ? [{ destination, type: 'bind', source, options }] : []));
}

/**
 * A mount's destination with links resolved inside the rootfs: `VOLUME /data` over
 * `data -> /etc` mounts on the rootfs's /etc, and an /etc/hosts that links to `/x` (which
 * may not exist yet) is bound on the rootfs's /x. A missing destination keeps its resolved
 * parent (runc creates the last component); one under another mount is left to runc, which
 * resolves it once that is mounted.
 */
function inRootDestination(rootFd: number, rootReal: string, dest: string, depth = 0): string {
  const inside = (fd: number): string | undefined => {
    const host = hostPathOf(fd);
    return host === rootReal ? '/' : host.startsWith(`${rootReal}/`) ? host.slice(rootReal.length) : undefined;
  };
  const open = (rel: string): number | undefined => {
    try {
      return openInRoot(rootFd, rel, { followFinal: true });
    } catch {
      return undefined;
    }
  };
  const whole = open(dest);
  if (whole !== undefined) {
    try {
      return inside(whole) ?? dest;
    } finally {
      closeFd(whole);
    }
  }
  const { parent, leaf } = splitLeaf(dest);
  const dir = leaf === undefined ? undefined : open(parent);
  if (dir === undefined) return dest;
  try {
    const at = inside(dir);
    if (at === undefined) return dest;
    // A dangling link: its target, taken as a path inside the rootfs (readlink through the dir's fd follows nothing).
    let target: string | undefined;
    try {
      target = readlinkSync(fdPath(dir, leaf));
    } catch {
      target = undefined; // not a link: the leaf is simply missing
    }
    if (target !== undefined && depth < MAX_LINKS) return inRootDestination(rootFd, rootReal, posix.resolve(at, target), depth + 1);
    return posix.join(at, leaf!);
  } finally {
    closeFd(dir);
  }
}

/** As the kernel's limit on links followed in one lookup. */
const MAX_LINKS = 40;

function resolveDestinations(rootfs: string, mounts: readonly SpecMount[]): SpecMount[] {
  const nested = (d: string) => mounts.some((o) => o.destination !== d && d.startsWith(`${o.destination.replace(/\/+$/, '')}/`));
  const rootFd = openRoot(rootfs);
  try {
    const rootReal = hostPathOf(rootFd);
    return mounts.map((m) => (nested(m.destination) ? m : { ...m, destination: inRootDestination(rootFd, rootReal, m.destination) }));
  } finally {
    closeFd(rootFd);
  }
}

export class Executor {
  private readonly runc: Runc;

  /**
   * `stateRoot`: runc's --root, where it keeps the state of the containers it runs;
   * `runtime`: the runtime binary (runc unless `--runtime` named another).
   */
  constructor(stateRoot: string, runtime?: string) {
    this.runc = new Runc(stateRoot, runtime);
  }

  /** The OCI spec of `spec`, with its mounts resolved inside the rootfs. */
  specOf(spec: ContainerSpec): Record<string, unknown> {
    const p = spec.process;
    return rootlessSpec(
      buildSpec({
        id: spec.id,
        rootfs: spec.rootfs,
        args: p.args,
        env: p.env,
        user: p.user,
        workdir: p.cwd,
        hostname: spec.hostname,
        tty: p.tty,
        mounts: resolveDestinations(spec.rootfs, [...etcMounts(spec.network, !!spec.etcReadOnly), ...spec.mounts]),
        netns: netnsOf(spec.network),
        options: spec.options ?? {},
        hardLimits: spec.hardLimits,
        // A CDI mount's destination is resolved inside the rootfs as every other mount's is.
        cdi: spec.cdi && { ...spec.cdi, mounts: resolveDestinations(spec.rootfs, spec.cdi.mounts) },
      }),
    );
  }

  /**
   * Writes the bundle: config.json by rename, so a reader never sees half of it. In line: one
   * small file, where a trip through the thread pool would cost more than the write.
   */
  writeBundle(spec: ContainerSpec): void {
    const config = specJson(this.specOf(spec)); // rlimits are uint64s, which JSON.stringify cannot write
    mkdirSync(spec.bundle, { recursive: true, mode: 0o700 });
    const path = join(spec.bundle, 'config.json');
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, config, { mode: 0o600 }); // the env, build args and -e values included
    renameSync(tmp, path);
  }

  /** Starts `runc run` on a written bundle. */
  async start(id: string, bundle: string, io: StartIo): Promise<RunningContainer> {
    // A restarted container's last pid file would otherwise be read as this run's pid.
    if (io.pidFile) rmSync(io.pidFile, { force: true });
    return 'consoleSocket' in io ? this.startWithConsole(id, bundle, io) : this.startForeground(id, bundle, io);
  }

  /** writeBundle, then start. */
  run(spec: ContainerSpec, io: StartIo): Promise<RunningContainer> {
    this.writeBundle(spec);
    return this.start(spec.id, spec.bundle, io);
  }

  private startForeground(id: string, bundle: string, io: { stdio: readonly [StdioKind, StdioKind, StdioKind]; pidFile?: string }): RunningContainer {
    const child = this.runc.run(id, bundle, io);
    // A runc that could not even be started counts as 127, as a shell has it.
    const exited = child.exited.then(exitStatus, () => 127);
    let gone = false; // `runc run` removes its container when the process exits
    void exited.then(() => (gone = true));
    return {
      id,
      stdin: child.stdin,
      stdout: child.stdout,
      stderr: child.stderr,
      started: () => (io.pidFile ? pidOrExit(io.pidFile, exited) : Promise.resolve(child.pid)),
      wait: () => exited,
      kill: (signal) => this.runc.kill(id, signal),
      delete: async () => {
        if (!gone) await this.runc.delete(id);
      },
    };
  }

  private async startWithConsole(id: string, bundle: string, io: { consoleSocket: string; pidFile: string }): Promise<RunningContainer> {
    const socket = await listenConsoleSocket(io.consoleSocket);
    // Without this the container would be init's child once runc has gone, and its exit lost.
    becomeSubreaper();
    const child = this.runc.runWithConsole(id, bundle, io);
    const runcStatus = child.exited.then(exitStatus, () => 127);
    void runcStatus.then(() => socket.close());
    const pid = runcStatus.then(async (status) => (status === 0 ? Number((await readFile(io.pidFile, 'utf8').catch(() => '')).trim()) || 0 : 0));
    // The container is this process's child once `runc run --detach` is gone: waited for
    // here, then its runc state removed, so that wait() ends as a foreground run's does.
    const exited = pid.then(async (p) => {
      if (!p) return runcStatus;
      const status = exitStatus(await waitChild(p));
      await this.runc.delete(id);
      return status;
    });
    return {
      id,
      stdin: null,
      stdout: null,
      stderr: child.stderr,
      terminal: socket.terminal,
      started: () => pid,
      wait: () => exited,
      kill: (signal) => this.runc.kill(id, signal),
      delete: () => this.runc.delete(id),
    };
  }

  /** `runc exec` of a process.json in a running container, in the foreground or detached. */
  exec(
    id: string,
    processJson: string,
    opts: { stdio: readonly [StdioKind, StdioKind, StdioKind]; tty: boolean; detach?: boolean; pidFile?: string; longLived?: boolean },
  ): SpawnedChild {
    return this.runc.exec(id, processJson, opts);
  }

  /**
   * `runc exec` of a tty process whose terminal this process holds: runc sends the pty's
   * master to `consoleSocket` and exits once the process runs, leaving it to this process
   * (the child subreaper), which waits for it. `pid` is 0 when runc could not start it, and
   * `exited` is then runc's own status, with its reason on `stderr`.
   */
  async execWithConsole(id: string, processJson: string, io: { consoleSocket: string; pidFile: string }): Promise<RunningExec> {
    const socket = await listenConsoleSocket(io.consoleSocket);
    becomeSubreaper();
    const child = this.runc.exec(id, processJson, { stdio: ['ignore', 'ignore', 'pipe'], tty: true, detach: true, ...io });
    const runcStatus = child.exited.then(exitStatus, () => 127);
    void runcStatus.then(() => socket.close());
    const pid = runcStatus.then(async (status) => (status === 0 ? Number((await readFile(io.pidFile, 'utf8').catch(() => '')).trim()) || 0 : 0));
    // Waited for on SIGCHLD: a server may hold many of these, each for as long as its client likes.
    const exited = pid.then(async (p) => (p ? exitStatus(await waitAdoptedChild(p)) : runcStatus));
    return { pid, terminal: socket.terminal, stderr: child.stderr, exited };
  }

  kill(id: string, signal: string): Promise<void> {
    return this.runc.kill(id, signal);
  }

  delete(id: string): Promise<void> {
    return this.runc.delete(id);
  }

  status(id: string): Promise<string | undefined> {
    return this.runc.status(id);
  }
}

/** The container's pid once runc has written it, or 0 when runc exited first (the poll stops then). */
function pidOrExit(pidFile: string, exited: Promise<number>): Promise<number> {
  const gone = new AbortController();
  void exited.then(() => gone.abort());
  return Promise.race([waitForPidFile(pidFile, { signal: gone.signal }), exited.then(() => 0)]);
}
