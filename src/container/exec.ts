/** `exec`: a new process in a running container, through `runc exec`, attached to this terminal. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { BerthError } from '../errors/index.ts';
import { checkCommand, composeEnv, Executor, resolveUser, capabilitySet, type RuntimeOptions } from '../runtime/index.ts';
import { exitStatus } from '../sys/spawn.ts';
import { randomHex } from '../sys/crypto.ts';
import { reconcile, type ContainerControl } from './control.ts';
import { containerPaths } from './paths.ts';

export interface ExecOptions {
  readonly command: readonly string[];
  readonly tty: boolean;
  readonly interactive: boolean;
  readonly user?: string;
  readonly env: readonly string[];
  readonly workdir?: string;
  readonly privileged?: boolean;
  /** `-d`: return once the process has started; its output goes nowhere, as docker's does. */
  readonly detach?: boolean;
}

export async function execInContainer(engine: ContainerControl, idOrName: string, opts: ExecOptions): Promise<number> {
  const rec = await reconcile(engine, engine.containers.require(idOrName));
  if (rec.state.status !== 'running') throw new BerthError('CONFLICT', `container ${rec.id} is not running`);
  if (!opts.command.length) throw new BerthError('INVALID_ARGUMENT', 'exec needs a command to run');
  const rootfs = join(engine.root, 'snapshots', 'active', rec.id, 'merged');
  const user = await resolveUser(rootfs, opts.user ?? rec.config.user);
  const env = composeEnv([...rec.config.env, ...opts.env], rec.config.hostname, opts.tty, user.home);
  const cwd = opts.workdir ?? (rec.config.workdir || '/');
  await checkCommand(rootfs, opts.command[0]!, env, cwd);
  const caps = capabilitySet({ ...(rec.config.runtime as RuntimeOptions), ...(opts.privileged ? { privileged: true } : {}) });
  const process_ = {
    terminal: opts.tty && !opts.detach,
    user: { uid: user.uid, gid: user.gid, ...(user.additionalGids.length ? { additionalGids: user.additionalGids } : {}) },
    args: opts.command,
    env,
    cwd,
    capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] },
    noNewPrivileges: false,
  };
  const paths = containerPaths(engine, rec.id);
  const file = join(paths.runDir, `exec-${randomHex(6)}.json`);
  await writeFile(file, JSON.stringify(process_), { mode: 0o600 }); // its env
  try {
    const executor = new Executor(paths.runcRoot);
    if (opts.detach) {
      const child = executor.exec(rec.id, file, { stdio: ['ignore', 'ignore', 'ignore'], tty: false, detach: true });
      const code = await child.exited.then(
        (e) => exitStatus(e),
        () => null,
      );
      if (code !== 0)
        throw new BerthError(
          'RUNTIME',
          `cannot start ${opts.command.join(' ')} in container ${rec.id.slice(0, 12)}: runc exec exited with ${code ?? 'an error'}`,
        );
      return 0;
    }
    // In the foreground runc passes this terminal (or these fds) to the process, proxying a pty of its own for -t.
    const child = executor.exec(rec.id, file, { stdio: [opts.interactive || opts.tty ? 'inherit' : 'ignore', 'inherit', 'inherit'], tty: opts.tty });
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => undefined);
    return await child.exited.then(
      (e) => exitStatus(e),
      () => 127,
    );
  } finally {
    await rm(file, { force: true });
  }
}
