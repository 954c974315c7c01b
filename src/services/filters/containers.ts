/**
 * The filters of `ps` (`GET /containers/json`) and `container prune`, in moby's meanings
 * (daemon/list.go, daemon/prune.go). A matcher is built once per listing, checking every
 * key and value first, then applied to each record with the facts only the caller knows.
 */
import type { ContainerRecord } from '../../container/records.ts';
import { BerthError } from '../../errors/index.ts';
import { boolFilter, checkFilterKeys, exactMatch, type FilterArgs, invalidValue, labelsMatch, regexMatch } from './args.ts';
import { untilCutoff } from './time.ts';

export const PS_FILTER_KEYS = [
  'ancestor',
  'before',
  'exited',
  'expose',
  'health',
  'id',
  'is-task',
  'isolation',
  'label',
  'name',
  'network',
  'publish',
  'since',
  'status',
  'volume',
] as const;

export const CONTAINER_STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'] as const;
export const HEALTH_STATUSES = ['starting', 'healthy', 'unhealthy', 'none'] as const;

/** What a listing knows of the world beyond one record. */
export interface ContainerLookups {
  /** The creation time (ms) of a container by name or id; throws NOT_FOUND as docker does. */
  readonly createdOf: (nameOrId: string) => number;
  /** The image id an `ancestor` value names, if an image has that name or id. */
  readonly imageIdOf: (ref: string) => string | undefined;
}

/** One container's live facts: what the record alone does not say. */
export interface ContainerLive {
  /** docker's status word (`paused` is a running container the freezer holds). */
  readonly status: string;
  /** `none` without a health check, else `starting`, `healthy` or `unhealthy`. */
  readonly health: string;
}

type PortSpec = { readonly lo: number; readonly hi: number; readonly proto: string };

/** `80`, `80/udp`, `8000-8080[/tcp]`, with moby's error for what is not a port. */
function parsePortFilter(key: string, value: string): PortSpec {
  const [range = '', proto = 'tcp'] = value.split('/', 2);
  const [lo = '', hi = lo] = range.split('-', 2);
  for (const p of [lo, hi]) {
    if (!/^\d+$/.test(p) || Number(p) > 65535)
      throw new BerthError('INVALID_ARGUMENT', `error while looking up for ${key} ${value}: strconv.ParseUint: parsing "${p}": invalid syntax`);
  }
  return { lo: Number(lo), hi: Number(hi), proto: proto.toLowerCase() };
}

function portsHold(specs: readonly PortSpec[], ports: ReadonlyArray<readonly [number, string]>): boolean {
  return !specs.length || specs.some((s) => ports.some(([port, proto]) => port >= s.lo && port <= s.hi && proto === s.proto));
}

/** The container ports a container exposes (its image's and `--expose`), with their protocols. */
function exposedOf(rec: ContainerRecord): Array<[number, string]> {
  const exposed = ((rec.config.runtime as { exposedPorts?: string[] }).exposedPorts ?? []).map((e): [number, string] => {
    const [port, proto = 'tcp'] = e.split('/');
    return [Number(port), proto];
  });
  return [...exposed, ...(rec.state.ports ?? []).map((b): [number, string] => [b.containerPort, b.protocol])];
}

export interface ContainerListMatcher {
  /** Whether stopped containers are listed without `-a`: a `status` filter asks for them itself. */
  readonly wantsStopped: boolean;
  readonly matches: (rec: ContainerRecord, live: ContainerLive) => boolean;
}

/** Checks `ps`'s filters and builds their matcher; an unknown key or bad value is docker's 400. */
export function containerListMatcher(args: FilterArgs, lookups: ContainerLookups): ContainerListMatcher {
  checkFilterKeys(args, PS_FILTER_KEYS);
  for (const s of args.get('status') ?? []) {
    if (!(CONTAINER_STATUSES as readonly string[]).includes(s)) throw new BerthError('INVALID_ARGUMENT', `invalid filter 'status=${s}'`);
  }
  const exited = (args.get('exited') ?? []).map((e) => {
    if (!/^[-+]?\d+$/.test(e)) throw new BerthError('INVALID_ARGUMENT', `strconv.Atoi: parsing "${e}": invalid syntax`);
    return Number(e);
  });
  for (const h of args.get('health') ?? []) {
    if (!(HEALTH_STATUSES as readonly string[]).includes(h)) throw new BerthError('INVALID_ARGUMENT', `Unrecognised filter value for health: ${h}`);
  }
  const isTask = args.get('is-task')?.length ? boolFilter(args, 'is-task') : undefined;
  for (const i of args.get('isolation') ?? []) {
    if (!['', 'default', 'process', 'hyperv'].includes(i.toLowerCase())) throw invalidValue('isolation', [i]);
  }
  const publish = (args.get('publish') ?? []).map((p) => parsePortFilter('publish', p));
  const expose = (args.get('expose') ?? []).map((p) => parsePortFilter('expose', p));
  // Several `before` values: older than the oldest of them; several `since`: newer than the newest.
  const before = args.get('before')?.length ? Math.min(...args.get('before')!.map(lookups.createdOf)) : undefined;
  const since = args.get('since')?.length ? Math.max(...args.get('since')!.map(lookups.createdOf)) : undefined;
  const ancestors = (args.get('ancestor') ?? []).map((a) => ({ ref: a, id: lookups.imageIdOf(a) }));
  return {
    wantsStopped: !!args.get('status')?.length,
    matches: (rec, live) => {
      const created = Date.parse(rec.created);
      return (
        exactMatch(args, 'status', live.status) &&
        labelsMatch(args, rec.config.labels) &&
        // docker matches the name with and without its slash.
        (regexMatch(args, 'name', `/${rec.name}`) || regexMatch(args, 'name', rec.name)) &&
        regexMatch(args, 'id', rec.id) &&
        (!exited.length || (rec.state.status === 'exited' && exited.includes(rec.state.exitCode))) &&
        (!ancestors.length || ancestors.some((a) => a.ref === rec.imageRef || (a.id !== undefined && a.id === rec.imageId))) &&
        exactMatch(args, 'network', rec.config.network) &&
        (!args.get('volume')?.length ||
          args.get('volume')!.some((v) => rec.config.mounts.some((m) => m.volumeName === v || m.destination === v || m.source === v))) &&
        exactMatch(args, 'health', live.health) &&
        // berth runs no swarm tasks.
        (isTask === undefined || isTask === false) &&
        portsHold(
          publish,
          (rec.state.ports ?? []).map((b) => [b.hostPort, b.protocol]),
        ) &&
        portsHold(expose, exposedOf(rec)) &&
        (before === undefined || created < before) &&
        (since === undefined || created > since)
      );
    },
  };
}

export const CONTAINER_PRUNE_FILTER_KEYS = ['label', 'label!', 'until'] as const;

/** Which stopped containers `container prune` takes: `label`, `label!` and `until`. */
export function containerPruneMatcher(args: FilterArgs): (rec: ContainerRecord) => boolean {
  checkFilterKeys(args, CONTAINER_PRUNE_FILTER_KEYS);
  const until = untilCutoff(args);
  return (rec) => labelsMatch(args, rec.config.labels) && (until === undefined || Date.parse(rec.created) < until);
}
