/**
 * What `create` records of the run flags beyond the process and its own mounts: extra hosts
 * and DNS for the /etc files, the log driver, `-a`, exposed and `-P` ports, label files and
 * `--volumes-from`. Each is checked here with docker's words (run-config.ts), for the CLI
 * and the API alike.
 */
import { configPath, fileConfig } from '../config/file.ts';
import { BerthError, isBerthError } from '../errors/index.ts';
import { parsePublish } from '../network/index.ts';
import type { ContainerRecords } from './records.ts';
import { checkDnsSearch, checkExtraHost, checkIpAddress, checkLogConfig, checkOomScoreAdj, checkSignal, type LogConfig } from './run-config.ts';
import type { ContainerConfigRecord, ContainerMount } from './types.ts';

/** The options of `create` (CreateOptions) that this file reads. */
export interface RunFlagOptions {
  /** `--label-file`s: lines of `KEY=VALUE` under `labels`, read as env files are. */
  readonly labelFiles?: readonly string[];
  /** `--add-host NAME:IP` (or `NAME=IP`, or IP `host-gateway`). */
  readonly extraHosts?: readonly string[];
  readonly dns?: readonly string[];
  readonly dnsSearch?: readonly string[];
  readonly dnsOptions?: readonly string[];
  /** `-P`: every exposed port (the image's and `expose`) gets a random host port. */
  readonly publishAll?: boolean;
  /** `--expose`, one `PORT/PROTO` each (expandExpose). */
  readonly expose?: readonly string[];
  readonly logConfig?: LogConfig;
  /** `--volumes-from CONTAINER[:ro|rw]`. */
  readonly volumesFrom?: readonly string[];
  /** `-a`: the streams an attached run shows. */
  readonly attach?: ReadonlyArray<'stdin' | 'stdout' | 'stderr'>;
}

/** What else of CreateOptions these functions read. */
type CreateOptions = RunFlagOptions & {
  readonly publish: readonly string[];
  readonly stopSignal?: string;
  readonly runtime: Readonly<Record<string, unknown>>;
};

/**
 * The log config a container gets: the config file's `log-opts` fill in the options of the
 * default driver (json-file) that the flags leave out, as daemon.json's do for dockerd.
 */
function withLogDefaults(lc: LogConfig | undefined): LogConfig | undefined {
  const defaults = fileConfig()['log-opts'];
  if (!defaults || Object.keys(defaults).length === 0 || (lc && lc.type !== 'json-file')) return lc;
  try {
    checkLogConfig('json-file', defaults);
  } catch (e) {
    if (!isBerthError(e)) throw e;
    throw new BerthError(e.code, `${configPath()}: log-opts: ${e.message}`, { hint: `fix log-opts in ${configPath()}` });
  }
  return { type: 'json-file', config: { ...defaults, ...(lc?.config ?? {}) } };
}

/** The checks of these options that fail before an image is pulled or a volume made. */
export function checkRunConfig(opts: CreateOptions): void {
  for (const h of opts.extraHosts ?? []) checkExtraHost(h);
  for (const d of opts.dns ?? []) checkIpAddress(d);
  for (const d of opts.dnsSearch ?? []) checkDnsSearch(d);
  const logConfig = withLogDefaults(opts.logConfig);
  if (logConfig) checkLogConfig(logConfig.type, logConfig.config);
  if (opts.stopSignal) checkSignal(opts.stopSignal);
  const oom = (opts.runtime as { oomScoreAdj?: number }).oomScoreAdj;
  if (oom !== undefined) checkOomScoreAdj(oom);
}

/** The record's fields for these options, each only when given (records stay as small as before). */
export function runConfigFields(opts: CreateOptions): Partial<ContainerConfigRecord> {
  const some = <T>(v: readonly T[] | undefined) => (v?.length ? [...v] : undefined);
  const fields: Partial<Record<keyof ContainerConfigRecord, unknown>> = {
    extraHosts: some(opts.extraHosts?.map(checkExtraHost)),
    dns: some(opts.dns?.map(checkIpAddress)),
    dnsSearch: some(opts.dnsSearch),
    dnsOptions: some(opts.dnsOptions),
    logConfig: withLogDefaults(opts.logConfig),
    attach: some(opts.attach),
    publishAll: opts.publishAll || undefined,
    volumesFrom: some(opts.volumesFrom),
  };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Partial<ContainerConfigRecord>;
}

/** `KEY=VALUE` lines as labels; a bare `KEY` is a label with an empty value, as docker has it. */
export function labelsOf(lines: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of lines) {
    const eq = l.indexOf('=');
    out[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? '' : l.slice(eq + 1);
  }
  return out;
}

function portKey(p: string): string {
  return p.includes('/') ? p.toLowerCase() : `${p}/tcp`;
}

/**
 * The container's exposed ports, `PORT/PROTO`: the image's, `--expose`'s, the API's
 * ExposedPorts, and the container side of each `-p`, as docker merges them.
 */
export function exposedPorts(image: { ExposedPorts?: Record<string, unknown> | null }, opts: CreateOptions): string[] {
  const out = new Set<string>();
  for (const p of Object.keys(image.ExposedPorts ?? {})) out.add(portKey(p));
  for (const p of opts.expose ?? []) out.add(portKey(p));
  for (const p of (opts.runtime as { exposedPorts?: string[] }).exposedPorts ?? []) out.add(portKey(p));
  for (const spec of opts.publish) {
    try {
      for (const m of parsePublish(spec)) out.add(`${m.containerPort}/${m.protocol}`);
    } catch {
      // A malformed -p is refused with its own words when the container starts.
    }
  }
  return [...out];
}

/** `-P`: the `-p` specs, plus a random host port for each exposed port no spec publishes. */
export function publishAllPorts(publish: readonly string[], exposed: readonly string[]): string[] {
  const published = new Set<string>();
  for (const spec of publish) {
    try {
      for (const m of parsePublish(spec)) published.add(`${m.containerPort}/${m.protocol}`);
    } catch {
      // As above.
    }
  }
  return [...publish, ...exposed.filter((p) => !published.has(p))];
}

/**
 * `--volumes-from CONTAINER[:ro|rw]`: the bind and volume mounts of each container, read-only
 * or read-write as the mode says (as they are when none is given). They belong to the other
 * container: this one's `rm -v` leaves them.
 */
export function volumesFromMounts(containers: ContainerRecords, specs: readonly string[]): ContainerMount[] {
  const out: ContainerMount[] = [];
  for (const spec of specs) {
    const colon = spec.indexOf(':');
    const name = colon < 0 ? spec : spec.slice(0, colon);
    const mode = colon < 0 ? undefined : spec.slice(colon + 1);
    if (mode !== undefined && mode !== 'ro' && mode !== 'rw') throw new BerthError('INVALID_ARGUMENT', `invalid mode: ${mode}`);
    const from = containers.find(name);
    if (!name || !from) throw new BerthError('NOT_FOUND', `No such container: ${name}`);
    for (const m of from.config.mounts) {
      if (m.type === 'tmpfs') continue;
      out.push({
        type: m.type,
        source: m.source,
        destination: m.destination,
        readonly: mode === undefined ? m.readonly : mode === 'ro',
        ...(m.volumeName ? { volumeName: m.volumeName } : {}),
        noCopy: true,
      });
    }
  }
  return out;
}

/** inspect's HostConfig fields of these options, as docker shows them (over the defaults views.ts writes). */
export function runFlagsHostConfig(c: ContainerConfigRecord): Record<string, unknown> {
  return {
    LogConfig: { Type: c.logConfig?.type ?? 'json-file', Config: c.logConfig?.config ?? {} },
    Dns: c.dns ?? [],
    DnsOptions: c.dnsOptions ?? [],
    DnsSearch: c.dnsSearch ?? [],
    ExtraHosts: c.extraHosts?.length ? c.extraHosts : null,
    PublishAllPorts: !!c.publishAll,
    VolumesFrom: c.volumesFrom?.length ? c.volumesFrom : null,
    OomScoreAdj: (c.runtime as { oomScoreAdj?: number }).oomScoreAdj ?? 0,
  };
}
