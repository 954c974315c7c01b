/**
 * `create`: everything decided up front. The image is resolved, the thin RW layer is
 * prepared, volumes are resolved, and the final process (entrypoint + cmd) is fixed in the
 * record. `start` then needs nothing the user typed.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { BerthError } from '../errors/index.ts';
import type { PullPolicy } from '../image/ensure.ts';
import type { LocalImage } from '../image/resolve.ts';
import type { ImageStores } from '../image/stores.ts';
import { isPredefinedNetwork, type NetworkRecords } from '../network/records.ts';
import { randomHex } from '../sys/crypto.ts';
import type { VolumeStore } from '../volume/index.ts';
import { containerEvent } from './events.ts';
import { mergeHealthConfig, validateHealthConfig, type HealthConfig } from './health-config.ts';
import { resolveMounts } from './mounts.ts';
import { checkHostOptions } from './namespaces.ts';
import { checkRunConfig, exposedPorts, labelsOf, publishAllPorts, runConfigFields, type RunFlagOptions, volumesFromMounts } from './create-extras.ts';
import { NAME_RE, randomName } from './names.ts';
import { containerPaths, type ContainerRoots } from './paths.ts';
import type { ContainerRecord, ContainerRecords } from './records.ts';
import { validateRestartPolicy } from './restart-policy.ts';
import { initialState, type ContainerConfigRecord } from './types.ts';

export interface CreateOptions extends RunFlagOptions {
  readonly image: string;
  readonly command: readonly string[];
  readonly name?: string;
  readonly entrypoint?: string;
  readonly env: readonly string[];
  readonly envFiles: readonly string[];
  readonly user?: string;
  readonly workdir?: string;
  readonly hostname?: string;
  readonly tty: boolean;
  readonly interactive: boolean;
  readonly network: string;
  readonly networkAliases?: readonly string[];
  readonly publish: readonly string[];
  readonly volumes: readonly string[];
  readonly mounts: readonly string[];
  readonly tmpfs: readonly string[];
  readonly autoRemove: boolean;
  readonly labels: Readonly<Record<string, string>>;
  readonly stopSignal?: string;
  readonly stopTimeout?: number;
  /** Options passed through to the runtime spec (caps, limits, read-only, init...). */
  readonly runtime: Readonly<Record<string, unknown>>;
  readonly pull?: PullPolicy;
  readonly platform?: string;
  /** docker's HostConfig.RestartPolicy as given (`--restart`, the API's body); checked at create. */
  readonly restartPolicy?: { readonly Name?: string | null; readonly MaximumRetryCount?: number | null };
  /** docker's Config.Healthcheck as given (`--health-*`, the API's body); the image's fills what it leaves unset. */
  readonly healthcheck?: HealthConfig;
}

/** Docker's rule: `--entrypoint` replaces the image's and drops the image's CMD. */
export function resolveProcess(
  image: { Entrypoint?: string[] | null; Cmd?: string[] | null },
  opts: { entrypoint?: string; command: readonly string[] },
): { path: string; args: string[]; entrypoint?: string[]; cmd?: string[] } {
  let entrypoint = image.Entrypoint ?? undefined;
  let cmd = image.Cmd ?? undefined;
  if (opts.entrypoint !== undefined) {
    entrypoint = opts.entrypoint === '' ? undefined : [opts.entrypoint];
    cmd = undefined;
  }
  if (opts.command.length) cmd = [...opts.command];
  const argv = [...(entrypoint ?? []), ...(cmd ?? [])];
  if (!argv.length) {
    throw new BerthError('INVALID_ARGUMENT', 'No command specified', { hint: 'give a command after the image name, or use an image with CMD or ENTRYPOINT' });
  }
  return { path: argv[0]!, args: argv.slice(1), entrypoint, cmd };
}

/** Lines of env (and label) files: blank lines and `#` comments skipped, as docker reads them. */
export async function readEnvFiles(files: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const f of files) {
    const text = await readFile(f, 'utf8').catch((e: Error) => {
      // Docker's words: `open FILE: no such file or directory`, without Node's `ENOENT: ` and `, open 'FILE'`.
      throw new BerthError('NOT_FOUND', `open ${f}: ${e.message.replace(/^[A-Z]+: /, '').replace(/, \w+(?: '.*')?$/s, '')}`);
    });
    for (const raw of text.split('\n')) {
      const line = raw.replace(/^\s+/, '');
      if (!line || line.startsWith('#')) continue;
      out.push(line.replace(/\r$/, ''));
    }
  }
  return out;
}

/** Docker's env merge: `K=V` sets, bare `K` copies from the caller's env (or is dropped). */
function mergeEnv(base: readonly string[], extra: readonly string[]): string[] {
  const env = new Map<string, string>();
  for (const e of base) env.set(e.split('=')[0]!, e);
  for (const e of extra) {
    const k = e.split('=')[0]!;
    if (e.includes('=')) env.set(k, e);
    else if (process.env[k] !== undefined) env.set(k, `${k}=${process.env[k]}`);
  }
  return [...env.values()];
}

/** What creating a container writes: its record, its volumes, its snapshot, its dirs. */
export type CreateDeps = ContainerRoots &
  Pick<ImageStores, 'snapshots' | 'lease'> & {
    readonly containers: ContainerRecords;
    readonly networks: NetworkRecords;
    readonly volumes: VolumeStore;
  };

/** The checks that fail before an image is pulled: the name's syntax and the network. */
export function checkCreateOptions(engine: Pick<CreateDeps, 'networks' | 'containers'>, opts: CreateOptions): void {
  if (opts.name !== undefined && !NAME_RE.test(opts.name)) {
    throw new BerthError('INVALID_ARGUMENT', `Invalid container name (${opts.name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  validateRestartPolicy(opts.restartPolicy, opts.autoRemove);
  validateHealthConfig(opts.healthcheck);
  if (!isPredefinedNetwork(opts.network)) engine.networks.require(opts.network);
  else if (opts.networkAliases?.length) throw new BerthError('INVALID_ARGUMENT', 'network-scoped aliases are only supported for user-defined networks');
  checkHostOptions(engine.containers, opts.runtime, opts.network);
  checkRunConfig(opts);
}

/**
 * Records a container of `image` (already in the store: services/containers.ts pulls it when
 * missing) and prepares its snapshot. `checkCreateOptions` has passed.
 */
export async function createContainer(engine: CreateDeps, opts: CreateOptions, image: LocalImage): Promise<ContainerRecord> {
  const records = engine.containers;
  const ic = image.config.config ?? {};
  const proc = resolveProcess(ic, opts);
  const id = randomHex(32);
  const name = opts.name?.replace(/^\//, '') ?? randomName();
  const userEnv = [...(await readEnvFiles(opts.envFiles)), ...opts.env];
  const fileLabels = labelsOf(await readEnvFiles(opts.labelFiles ?? []));
  const mounts = await resolveMounts(engine.volumes, {
    volumes: opts.volumes,
    mounts: opts.mounts,
    tmpfs: opts.tmpfs,
    imageVolumes: Object.keys(ic.Volumes ?? {}),
    inherited: volumesFromMounts(records, opts.volumesFrom ?? []),
  });
  const exposed = exposedPorts(ic, opts);
  const config: ContainerConfigRecord = {
    path: proc.path,
    args: proc.args,
    cmd: proc.cmd,
    entrypoint: proc.entrypoint,
    env: mergeEnv(ic.Env ?? [], userEnv),
    user: opts.user ?? ic.User ?? '',
    workdir: opts.workdir ?? ic.WorkingDir ?? '',
    hostname: opts.hostname ?? id.slice(0, 12),
    tty: opts.tty,
    interactive: opts.interactive,
    network: opts.network,
    networkAliases: opts.networkAliases ?? [],
    // -P on none or host has nothing to publish on, and docker publishes nothing there.
    publish: opts.publishAll && opts.network !== 'none' && opts.network !== 'host' ? publishAllPorts(opts.publish, exposed) : opts.publish,
    mounts,
    volumes: mounts.flatMap((m) => (m.volumeName ? [m.volumeName] : [])),
    autoRemove: opts.autoRemove,
    labels: { ...(ic.Labels ?? {}), ...fileLabels, ...opts.labels },
    stopSignal: opts.stopSignal || ic.StopSignal || 'SIGTERM',
    stopSignalSet: Boolean(opts.stopSignal || ic.StopSignal),
    stopTimeout: opts.stopTimeout ?? 10,
    ...runConfigFields(opts),
    runtime: { ...opts.runtime, ...(exposed.length ? { exposedPorts: exposed } : {}) },
    restartPolicy: validateRestartPolicy(opts.restartPolicy, opts.autoRemove),
    healthcheck: mergeHealthConfig(opts.healthcheck, ic.Healthcheck ?? undefined),
  };
  let rec: ContainerRecord = { id, name, imageId: image.record.id, imageRef: opts.image, created: new Date().toISOString(), config, state: initialState() };
  const paths = containerPaths(engine, id);
  await mkdir(paths.bundle, { recursive: true, mode: 0o700 }); // containers/ too: store/private-root.ts
  for (let draws = 1; ; draws++) {
    try {
      records.insert(rec);
      break;
    } catch (e) {
      // A drawn name can meet one in use (or one another process just took): draw again, as dockerd does.
      if (opts.name !== undefined || draws >= 10 || !(e instanceof BerthError && e.code === 'CONFLICT')) throw e;
      rec = { ...rec, name: randomName() };
    }
  }
  try {
    await engine.snapshots.prepare(id, image.config.rootfs.diff_ids);
  } catch (e) {
    records.delete(id);
    throw e;
  }
  containerEvent(rec, 'create');
  // The record keeps the image and the snapshot from now on; a lease held on while the
  // container runs would keep every later crash's leftovers from prune.
  engine.lease.release();
  return rec;
}
