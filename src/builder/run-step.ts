/**
 * RUN: the command runs in a container on a fresh overlay over the stage's layers, with
 * the build env (image ENV plus ARGs in scope), the stage's USER and WORKDIR, and the
 * step's mounts; its upperdir becomes the new layer. Mount points runc had to create for
 * the step (e.g. /etc/resolv.conf, a secret's target) are removed before the commit.
 */
import { openSync, readdirSync, rmdirSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError, errnoCode } from '../errors/index.ts';
import { runFlags, type Instruction, type RunMount } from '../dockerfile/index.ts';
import { closeFd, fdPath, O_DIRECTORY, O_NOFOLLOW, O_PATH, openInRoot, openRoot } from '../sys/in-root.ts';
import { cleanComponents } from '../layer/index.ts';
import { lstatOrUndefined } from '../sys/quiet-fs.ts';
import { mkdirInRoot } from './copy-files.ts';
import { setupNetwork, teardownNetwork } from '../network/index.ts';
import { composeEnv, ensureEmulator, Executor, resolveUser, type RunningContainer, type SpecMount } from '../runtime/index.ts';
import type { CommittedLayer } from '../snapshot/index.ts';
import { randomHex } from '../sys/crypto.ts';
import { stepDevices } from './devices.ts';
import { mountTarget, resolveRunMounts } from './mounts.ts';
import { envMap, expandWord, shellOf, type StageState } from './state.ts';
import type { StepContext } from './step-context.ts';

type RunInstruction = Extract<Instruction, { kind: 'run' }>;

/** A RUN whose process exited non-zero: its argv and exit code, which the Engine API reports as docker's classic builder does. */
export class StepExitError extends BerthError {
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number,
  ) {
    super('RUNTIME', `process "${argv.join(' ')}" did not complete successfully: exit code: ${exitCode}`);
  }
}

/** The argv a RUN executes: exec form as is; shell form (and heredocs) through the stage's SHELL. */
export function runArgv(inst: RunInstruction, state: StageState): string[] {
  if (inst.json) return inst.args;
  const shell = shellOf(state);
  const line = inst.args.join(' ');
  if (inst.heredocs.length) {
    if (/^\d*<<-?["']?[^\s"']+["']?$/.test(line.trim())) return [...shell, inst.heredocs[0]!.content];
    const body = inst.heredocs.map((h) => `${h.content}${h.name}\n`).join('');
    return [...shell, `${line}\n${body}`];
  }
  return [...shell, line];
}

/** ENV of the image plus the ARGs in scope: what a RUN sees, and part of its cache key. */
export function runEnv(state: StageState): string[] {
  return [...envMap(state)].map(([k, v]) => `${k}=${v}`);
}

const DIR_FD = O_PATH | O_DIRECTORY | O_NOFOLLOW;

/** The mount targets the rootfs lacks, which runc will create (and the commit removes). */
function createdMountPoints(rootfs: string, targets: readonly string[]): string[] {
  const rootFd = openRoot(rootfs);
  try {
    return targets.filter((t) => {
      try {
        closeFd(openInRoot(rootFd, t, { followFinal: true }));
        return false;
      } catch (e) {
        if (errnoCode(e) === 'ENOENT') return true;
        throw e;
      }
    });
  } finally {
    closeFd(rootFd);
  }
}

/**
 * Removes the (empty) mount points runc created from the upperdir, and their new empty
 * parents. The step's own process may have left symlinks in the upperdir: each target is
 * walked from the upperdir's fd with O_NOFOLLOW, and one that meets a link is left as it is,
 * so nothing outside the upperdir is ever removed. In line: a few metadata calls, each
 * quicker than a trip through the thread pool.
 */
function removeMountPoints(upper: string, targets: readonly string[]): void {
  const quiet = (f: () => unknown) => {
    try {
      f();
    } catch {
      // gone already, not empty, or a link on the way: either way it stays as it is
    }
  };
  for (const t of targets) {
    const comps = cleanComponents(t);
    const leaf = comps.pop();
    if (leaf === undefined) continue;
    const dirs: number[] = [];
    try {
      dirs.push(openSync(upper, DIR_FD));
      for (const c of comps) dirs.push(openSync(fdPath(dirs[dirs.length - 1]!, c), DIR_FD));
    } catch {
      dirs.forEach(closeFd);
      continue;
    }
    const parent = dirs[dirs.length - 1]!;
    const p = fdPath(parent, leaf);
    const st = lstatOrUndefined(p);
    if (st?.isDirectory()) quiet(() => rmdirSync(p));
    else if (st && !st.isSymbolicLink() && st.size === 0) quiet(() => unlinkSync(p));
    for (let i = comps.length - 1; i >= 0; i--) {
      let entries: string[] = ['x'];
      quiet(() => (entries = readdirSync(fdPath(dirs[i + 1]!))));
      if (entries.length) break;
      quiet(() => rmdirSync(fdPath(dirs[i]!, comps[i]!)));
    }
    dirs.forEach(closeFd);
  }
}

/** The first ssh mount the step got (one of `mounts`), where SSH_AUTH_SOCK points, as BuildKit sets it. */
function stepSshSocket(specs: readonly RunMount[], mounts: readonly SpecMount[], workdir: string): string | undefined {
  return specs
    .filter((m) => m.type === 'ssh')
    .map((m) => mountTarget(m, workdir))
    .find((t) => mounts.some((s) => s.destination === t));
}

/** SSH_AUTH_SOCK set to the step's agent socket, unless the env sets it already. */
function withSshAuthSock(env: string[], socket: string | undefined): string[] {
  return socket && !env.some((e) => e.startsWith('SSH_AUTH_SOCK=')) ? [...env, `SSH_AUTH_SOCK=${socket}`] : env;
}

/** `extraEnv`: what the step's env has beyond runEnv(state), outside its cache key (proxy build args). */
export async function runStep(
  ctx: StepContext,
  state: StageState,
  inst: RunInstruction,
  stepNo: number,
  extraEnv: readonly string[] = [],
): Promise<CommittedLayer> {
  const key = `build-${randomHex(8)}`;
  const engine = ctx.engine;
  const snap = await engine.snapshots.prepare(
    key,
    state.layers.map((l) => l.diffId),
    { volatile: true },
  );
  const runDir = join(engine.runRoot, 'build', key);
  let net: Awaited<ReturnType<typeof setupNetwork>> | undefined;
  const executor = new Executor(join(engine.runRoot, 'runc'));
  let container: RunningContainer | undefined;
  /** What the step's mounts started (ssh relays): stopped once its container is gone. */
  const releases: Array<() => Promise<void>> = [];
  // The step's network and bundle dir (a few files on the run dir's tmpfs): released once
  // the container is gone, in the background (StepContext.background).
  const release = async () => {
    await Promise.all(releases.map((r) => r().catch(() => undefined)));
    rmSync(runDir, { recursive: true, force: true });
    if (net) await teardownNetwork(net).catch(() => undefined);
  };
  try {
    // A stage FROM another platform runs its RUN steps under qemu, as BuildKit does.
    await ensureEmulator(state.config.architecture);
    const c = state.config.config ?? {};
    const workdir = c.WorkingDir || '/';
    closeFd(mkdirInRoot(snap.rootfs, workdir, undefined, true));
    const flags = runFlags(inst.flags, (word) => expandWord(state, word));
    const mounts: SpecMount[] = await resolveRunMounts(flags.mounts, { ...ctx.mountEnv, secretDir: join(runDir, 'secrets'), releases }, workdir);
    // As BuildKit: a cache mount's target stays in the layer (an empty dir); other mount points go.
    const cacheTargets = new Set(flags.mounts.filter((m) => m.type === 'cache').map((m) => mountTarget(m, workdir)));
    const sshSocket = stepSshSocket(flags.mounts, mounts, workdir);
    const network = flags.network ?? ctx.network;
    const cdi = await stepDevices(ctx.devices, flags.devices, (text) => ctx.progress.emit({ kind: 'warning', text }));
    const created = createdMountPoints(snap.rootfs, [
      '/proc',
      '/dev',
      '/sys',
      '/etc/resolv.conf',
      '/etc/hosts',
      ...mounts.map((m) => m.destination).filter((d) => !cacheTargets.has(d)),
      ...(cdi?.mounts ?? []).map((m) => m.destination),
    ]);
    const resolved = await resolveUser(snap.rootfs, c.User ?? '');
    // As BuildKit: a USER with a group part runs with that group alone; one without has the
    // groups /etc/group lists it in, but not its primary group again, as a container's has.
    const user = { ...resolved, additionalGids: (c.User ?? '').includes(':') ? [] : resolved.additionalGids.filter((g) => g !== resolved.gid) };
    net = await setupNetwork({
      containerId: key.padEnd(64, '0'),
      mode: network === 'default' ? 'bridge' : network,
      publish: [],
      hostname: 'buildkitsandbox',
      stateDir: join(runDir, 'net'),
      extraHosts: ctx.host?.extraHosts,
    });
    const argv = runArgv(inst, state);
    // The bundle is on the run dir's tmpfs, which no crash outlives; its config.json holds the step's env, build args included.
    container = await executor.run(
      {
        id: key,
        rootfs: snap.rootfs,
        bundle: runDir,
        hostname: 'buildkitsandbox',
        process: {
          args: argv,
          env: withSshAuthSock(
            composeEnv([...extraEnv, ...runEnv(state)], 'buildkitsandbox', false, user.home).filter((e) => !e.startsWith('HOSTNAME=')),
            sshSocket,
          ),
          cwd: workdir,
          user,
          tty: false,
        },
        mounts,
        // A build step gets no /etc/hostname of its own, and its /etc files are read-only.
        network: { mode: net.mode, netnsPath: net.netnsPath, hostsPath: net.hostsPath, resolvConfPath: net.resolvConfPath },
        etcReadOnly: true,
        options: { privileged: flags.security === 'insecure', shmSize: ctx.host?.shmSize, ulimits: ctx.host?.ulimits },
        cdi,
      },
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const child = container;
    // What earlier commits left, while the container runs.
    ctx.background(engine.snapshots.cleanup());
    child.stdout!.on('data', (d: Buffer) => ctx.progress.emit({ kind: 'step-log', step: stepNo, stream: 'stdout', text: d.toString() }));
    child.stderr!.on('data', (d: Buffer) => ctx.progress.emit({ kind: 'step-log', step: stepNo, stream: 'stderr', text: d.toString() }));
    // Ctrl-C kills the step's container; one that `runc run` has not created yet is killed
    // as soon as it exists.
    let runcExited = false;
    const abort = (): void => void child.kill('SIGKILL').catch(() => void (runcExited || setTimeout(abort, 50)));
    ctx.signal?.addEventListener('abort', abort);
    if (ctx.signal?.aborted) abort();
    const code = await child.wait();
    runcExited = true;
    ctx.signal?.removeEventListener('abort', abort);
    if (ctx.signal?.aborted) throw new BerthError('CANCELLED', 'the build was cancelled');
    if (code !== 0) {
      throw new StepExitError(argv, code);
    }
    // Straight from the upperdir while the overlay is still mounted: nothing uses the merged
    // view any more, and the commit detaches it while it hashes. Unmounting first put the
    // detach (which syncs the file system under the overlay: briefly after a tiny step, far
    // longer after an apt-get) ahead of the hash instead of beside it.
    removeMountPoints(snap.upperDir, created);
    return await engine.snapshots.commit(key, { sourceDateEpoch: ctx.sourceDateEpoch });
  } catch (e) {
    await engine.snapshots.remove(key).catch(() => undefined);
    throw e;
  } finally {
    // `runc run` removes its container when the process exits; one that never got that far is removed here.
    await (container ? container.delete() : executor.delete(key)).catch(() => undefined);
    ctx.background(release());
  }
}
