/**
 * The body of `POST /containers/create` (docker's Config + HostConfig + NetworkingConfig),
 * checked once here and mapped onto the CreateOptions that `berth create` builds from its
 * flags (cli/run-options.ts): publish, volume, mount and tmpfs specs in the CLI's syntax, so
 * one parser downstream reads both front ends. Pure: no state is read.
 *
 * What berth cannot do is refused with a message that says so (another container's network
 * namespace), and what it ignores without harm is listed
 * in `warnings`, which the reply carries as docker's `Warnings`.
 */
import { z } from 'zod';
import { BerthError } from '../errors/index.ts';
import { parseSecurityOpts } from '../runtime/security-opt.ts';
import { DeviceMappingSchema, DeviceRequestSchema, deviceRuntimeOptions } from './create-devices.ts';
import type { CreateOptions } from '../services/containers.ts';
import { hostResourceOptions } from './create-body-host.ts';
import type { LogConfig } from '../container/run-config.ts';

/** docker's strslice: a JSON string or an array of strings; null or absent is none. */
const StrSlice = z.union([z.string(), z.array(z.string())]).nullish();
const StringMap = z.record(z.string()).nullish();

const PortBindingSchema = z.object({ HostIp: z.string().nullish(), HostPort: z.string().nullish() }).passthrough();

const MountSchema = z
  .object({
    Type: z.string().nullish(),
    Source: z.string().nullish(),
    Target: z.string().nullish(),
    ReadOnly: z.boolean().nullish(),
    TmpfsOptions: z.object({ SizeBytes: z.number().nullish(), Mode: z.number().nullish() }).passthrough().nullish(),
  })
  .passthrough();

const HostConfigSchema = z
  .object({
    Binds: z.array(z.string()).nullish(),
    Mounts: z.array(MountSchema).nullish(),
    Tmpfs: StringMap,
    PortBindings: z.record(z.array(PortBindingSchema).nullish()).nullish(),
    PublishAllPorts: z.boolean().nullish(),
    AutoRemove: z.boolean().nullish(),
    NetworkMode: z.string().nullish(),
    Memory: z.number().nullish(),
    MemorySwap: z.number().nullish(),
    NanoCpus: z.number().nullish(),
    CpuShares: z.number().nullish(),
    CpuQuota: z.number().nullish(),
    CpuPeriod: z.number().nullish(),
    PidsLimit: z.number().nullish(),
    ShmSize: z.number().nullish(),
    ConsoleSize: z.array(z.number().int().min(0).max(65535)).length(2).nullish(),
    Devices: z.array(DeviceMappingSchema).nullish(),
    DeviceRequests: z.array(DeviceRequestSchema).max(64).nullish(),
    CapAdd: z.array(z.string()).nullish(),
    CapDrop: z.array(z.string()).nullish(),
    Privileged: z.boolean().nullish(),
    ReadonlyRootfs: z.boolean().nullish(),
    Init: z.boolean().nullish(),
    SecurityOpt: z.array(z.string()).nullish(),
    GroupAdd: z.array(z.string()).nullish(),
    Ulimits: z.array(z.object({ Name: z.string(), Soft: z.number(), Hard: z.number() }).passthrough()).nullish(),
    RestartPolicy: z.object({ Name: z.string().nullish(), MaximumRetryCount: z.number().nullish() }).passthrough().nullish(),
    ExtraHosts: z.array(z.string()).nullish(),
    Dns: z.array(z.string()).nullish(),
    DnsSearch: z.array(z.string()).nullish(),
    DnsOptions: z.array(z.string()).nullish(),
    LogConfig: z.object({ Type: z.string().nullish(), Config: StringMap }).passthrough().nullish(),
    VolumesFrom: z.array(z.string()).nullish(),
    OomScoreAdj: z.number().int().nullish(),
  })
  .passthrough();

export const CreateBodySchema = z
  .object({
    Image: z.string().nullish(),
    Cmd: StrSlice,
    Entrypoint: StrSlice,
    Env: z.array(z.string()).nullish(),
    User: z.string().nullish(),
    WorkingDir: z.string().nullish(),
    Hostname: z.string().nullish(),
    Labels: StringMap,
    Tty: z.boolean().nullish(),
    OpenStdin: z.boolean().nullish(),
    ExposedPorts: z.record(z.unknown()).nullish(),
    Volumes: z.record(z.unknown()).nullish(),
    StopSignal: z.string().nullish(),
    StopTimeout: z.number().int().nullish(),
    Healthcheck: z
      .object({
        Test: z.array(z.string()).nullish(),
        Interval: z.number().int().nullish(),
        Timeout: z.number().int().nullish(),
        StartPeriod: z.number().int().nullish(),
        StartInterval: z.number().int().nullish(),
        Retries: z.number().int().nullish(),
      })
      .passthrough()
      .nullish(),
    HostConfig: HostConfigSchema.nullish(),
    NetworkingConfig: z
      .object({
        EndpointsConfig: z
          .record(
            z
              .object({ Aliases: z.array(z.string()).nullish() })
              .passthrough()
              .nullish(),
          )
          .nullish(),
      })
      .passthrough()
      .nullish(),
  })
  .passthrough();

export type CreateBody = z.infer<typeof CreateBodySchema>;

export interface MappedCreate {
  readonly options: CreateOptions;
  /** What berth accepted but does not do, one sentence each: the reply's `Warnings`. */
  readonly warnings: string[];
}

function invalid(message: string): BerthError {
  return new BerthError('INVALID_ARGUMENT', message);
}

function strSlice(v: string | string[] | null | undefined): string[] | undefined {
  if (v === null || v === undefined) return undefined;
  return typeof v === 'string' ? [v] : v;
}

/** A field of a `--mount` spec, quoted as CSV when it holds a comma or a quote (dockerfile/key-values.ts). */
function field(key: string, value: string): string {
  const f = `${key}=${value}`;
  return /[",]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f;
}

/** HostConfig.Mounts entries as `--mount` specs. */
function mountSpecs(mounts: NonNullable<z.infer<typeof HostConfigSchema>['Mounts']>): string[] {
  return mounts.map((m) => {
    const type = m.Type || 'volume';
    if (!['bind', 'volume', 'tmpfs'].includes(type)) throw invalid(`mount type "${type}" is not supported: use bind, volume or tmpfs`);
    if (!m.Target) throw invalid('invalid mount config: Target is required');
    const parts = [field('type', type)];
    if (m.Source) parts.push(field('source', m.Source));
    parts.push(field('target', m.Target));
    if (m.ReadOnly) parts.push('readonly');
    if (type === 'tmpfs' && m.TmpfsOptions?.SizeBytes) parts.push(field('tmpfs-size', String(m.TmpfsOptions.SizeBytes)));
    if (type === 'tmpfs' && m.TmpfsOptions?.Mode) parts.push(field('tmpfs-mode', m.TmpfsOptions.Mode.toString(8)));
    return parts.join(',');
  });
}

/** `"80/tcp"` → its port and protocol; a malformed key is a 400. */
function portKey(key: string): { port: string; proto: string } {
  const m = /^(\d{1,5}(?:-\d{1,5})?)(?:\/(tcp|udp|sctp))?$/i.exec(key.trim());
  if (!m) throw invalid(`invalid port specification: "${key}"`);
  return { port: m[1]!, proto: (m[2] ?? 'tcp').toLowerCase() };
}

/** PortBindings as `-p` specs (HostPort "" or "0" is a random host port); each ExposedPorts key checked. */
function publishSpecs(hc: z.infer<typeof HostConfigSchema>, exposed: readonly string[]): string[] {
  const out: string[] = [];
  for (const [key, bindings] of Object.entries(hc.PortBindings ?? {})) {
    const { port, proto } = portKey(key);
    for (const b of bindings ?? []) {
      const hostPort = !b.HostPort || b.HostPort === '0' ? '' : b.HostPort;
      const ip = b.HostIp ? (b.HostIp.includes(':') ? `[${b.HostIp}]` : b.HostIp) : '';
      out.push(ip ? `${ip}:${hostPort}:${port}/${proto}` : hostPort ? `${hostPort}:${port}/${proto}` : `${port}/${proto}`);
    }
  }
  // PublishAllPorts is create's (publishAll), which knows the image's exposed ports too.
  for (const key of exposed) portKey(key);
  return out;
}

/** The destination of a `-v` spec (`SRC:DEST[:MODE]` or `DEST`), to tell which Volumes entries a bind covers. */
function bindDestination(spec: string): string {
  const parts = spec.split(':');
  return (parts.length === 1 ? parts[0]! : parts[1]!).replace(/\/+$/, '') || '/';
}

/** docker's NetworkMode: `default` and '' are the bridge; another container's namespace is refused. */
function networkOf(mode: string | null | undefined): string {
  if (!mode || mode === 'default') return 'bridge';
  if (mode.startsWith('container:')) {
    throw invalid(`NetworkMode "${mode}" is not supported: berth cannot join another container's network namespace; use a user network instead`);
  }
  return mode;
}

/** Config.Healthcheck with docker's zeros for what is unset (nulls dropped); checked at create. */
function healthcheckOf(h: CreateBody['Healthcheck']): CreateOptions['healthcheck'] {
  if (!h) return undefined;
  return {
    ...(h.Test ? { Test: h.Test } : {}),
    Interval: h.Interval ?? 0,
    Timeout: h.Timeout ?? 0,
    StartPeriod: h.StartPeriod ?? 0,
    StartInterval: h.StartInterval ?? 0,
    Retries: h.Retries ?? 0,
  };
}

/** HostConfig.LogConfig; an empty Type is the default driver, json-file. Checked downstream (container/run-config.ts). */
function logConfigOf(lc: NonNullable<z.infer<typeof HostConfigSchema>['LogConfig']>): LogConfig {
  const type = lc.Type || 'json-file';
  return { type: type as LogConfig['type'], config: lc.Config ?? {} };
}

/**
 * Maps a create body onto CreateOptions. `name` and `platform` come from the query, which
 * is all docker reads there (dockerode repeats the whole body in it).
 */
export function mapCreateBody(raw: unknown, query: { name?: string; platform?: string } = {}): MappedCreate {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw invalid('Config cannot be empty in order to create a container');
  const parsed = CreateBodySchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw invalid(`invalid container config: ${issue.path.join('.') || 'body'}: ${issue.message}`);
  }
  const b = parsed.data;
  const hc = b.HostConfig ?? {};
  const warnings: string[] = [];
  if (!b.Image) throw invalid('Config.Image is required: the image to create the container from');
  const network = networkOf(hc.NetworkMode);
  const endpoint = b.NetworkingConfig?.EndpointsConfig?.[network] ?? b.NetworkingConfig?.EndpointsConfig?.[hc.NetworkMode ?? ''];
  // Aliases on a predefined network are refused downstream, as docker refuses them.
  const aliases = endpoint?.Aliases ?? [];
  const security = parseSecurityOpts(hc.SecurityOpt ?? []);
  // The docker CLI sends a seccomp profile's JSON itself, where berth's CLI names a file.
  if (security.seccomp?.trimStart().startsWith('{')) {
    throw new BerthError('UNSUPPORTED', 'a seccomp profile given inline is not supported: use seccomp=unconfined or the builtin profile');
  }

  let entrypoint: string | undefined;
  let command = strSlice(b.Cmd) ?? [];
  const ep = strSlice(b.Entrypoint);
  if (ep !== undefined) {
    // CreateOptions holds one entrypoint word: the rest of a longer one leads the command,
    // which gives the same argv (an entrypoint given drops the image's CMD either way).
    if (ep.length === 0 || (ep.length === 1 && ep[0] === '')) entrypoint = '';
    else {
      entrypoint = ep[0]!;
      command = [...ep.slice(1), ...command];
    }
  }

  const binds = hc.Binds ?? [];
  const mounts = mountSpecs(hc.Mounts ?? []);
  const tmpfs = Object.entries(hc.Tmpfs ?? {}).map(([dest, opts]) => (opts ? `${dest}:${opts}` : dest));
  const taken = new Set([
    ...binds.map(bindDestination),
    ...(hc.Mounts ?? []).map((m) => (m.Target ?? '').replace(/\/+$/, '') || '/'),
    ...Object.keys(hc.Tmpfs ?? {}).map((d) => d.replace(/\/+$/, '') || '/'),
  ]);
  // Config.Volumes: anonymous volumes, except where a bind, mount or tmpfs already goes.
  const anonymous = Object.keys(b.Volumes ?? {}).filter((d) => !taken.has(d.replace(/\/+$/, '') || '/'));

  const cpus = hc.NanoCpus ? hc.NanoCpus / 1e9 : undefined;
  if (hc.Memory !== undefined && hc.Memory !== null && hc.Memory < 0) throw invalid('invalid Memory: must be positive');

  const options: CreateOptions = {
    image: b.Image,
    command,
    name: query.name || undefined,
    entrypoint,
    env: b.Env ?? [],
    envFiles: [],
    user: b.User || undefined,
    workdir: b.WorkingDir || undefined,
    hostname: b.Hostname || undefined,
    tty: !!b.Tty,
    interactive: !!b.OpenStdin,
    network,
    networkAliases: aliases,
    publish: publishSpecs(hc, Object.keys(b.ExposedPorts ?? {})),
    volumes: [...binds, ...anonymous],
    mounts,
    tmpfs,
    autoRemove: !!hc.AutoRemove,
    labels: b.Labels ?? {},
    stopSignal: b.StopSignal || undefined,
    stopTimeout: b.StopTimeout ?? undefined,
    pull: 'never',
    platform: query.platform || undefined,
    restartPolicy: hc.RestartPolicy ? { Name: hc.RestartPolicy.Name, MaximumRetryCount: hc.RestartPolicy.MaximumRetryCount } : undefined,
    healthcheck: healthcheckOf(b.Healthcheck),
    extraHosts: hc.ExtraHosts ?? [],
    dns: hc.Dns ?? [],
    dnsSearch: hc.DnsSearch ?? [],
    dnsOptions: hc.DnsOptions ?? [],
    publishAll: !!hc.PublishAllPorts,
    logConfig: hc.LogConfig?.Type || Object.keys(hc.LogConfig?.Config ?? {}).length ? logConfigOf(hc.LogConfig!) : undefined,
    volumesFrom: hc.VolumesFrom ?? [],
    runtime: {
      readOnly: !!hc.ReadonlyRootfs,
      capAdd: hc.CapAdd ?? [],
      capDrop: hc.CapDrop ?? [],
      privileged: !!hc.Privileged,
      securityOpt: hc.SecurityOpt ?? [],
      init: !!hc.Init,
      memory: hc.Memory || undefined,
      memorySwap: hc.MemorySwap === -1 ? -1 : hc.MemorySwap || undefined,
      cpus,
      pidsLimit: hc.PidsLimit && hc.PidsLimit > 0 ? hc.PidsLimit : undefined,
      shmSize: hc.ShmSize || undefined,
      // [rows, cols], as `docker run -t` sends it: the pty has its size before the process starts.
      consoleSize: b.Tty && hc.ConsoleSize?.[0] && hc.ConsoleSize[1] ? [hc.ConsoleSize[0], hc.ConsoleSize[1]] : undefined,
      groupAdd: hc.GroupAdd ?? [],
      platform: query.platform || undefined,
      ...(hc.OomScoreAdj ? { oomScoreAdj: hc.OomScoreAdj } : {}),
      exposedPorts: Object.keys(b.ExposedPorts ?? {}),
      ...hostResourceOptions(hc),
      ...deviceRuntimeOptions(hc.Devices ?? [], hc.DeviceRequests ?? []),
    },
  };
  return { options, warnings };
}
