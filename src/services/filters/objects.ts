/**
 * The filters of `volume ls`/`volume prune` and `network ls`/`network prune`, in moby's
 * meanings (volume/service/convert.go, daemon/network.go).
 */
import { BerthError } from '../../errors/index.ts';
import { anyValue, boolFilter, checkFilterKeys, exactMatch, type FilterArgs, labelsMatch, regexMatch } from './args.ts';
import { untilCutoff } from './time.ts';

export const VOLUME_LIST_FILTER_KEYS = ['dangling', 'driver', 'label', 'name'] as const;
export const VOLUME_PRUNE_FILTER_KEYS = ['all', 'label', 'label!'] as const;
export const NETWORK_LIST_FILTER_KEYS = ['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type'] as const;
export const NETWORK_PRUNE_FILTER_KEYS = ['label', 'label!', 'until'] as const;

/** A volume as its filters see it. */
export interface VolumeFacts {
  readonly name: string;
  readonly driver: string;
  readonly labels: Readonly<Record<string, string>>;
  /** No container holds it. */
  readonly dangling: boolean;
}

/** `volume ls --filter`: `name` (docker's pattern), `driver`, `label`, `dangling`. */
export function volumeListMatcher(args: FilterArgs): (v: VolumeFacts) => boolean {
  checkFilterKeys(args, VOLUME_LIST_FILTER_KEYS);
  const dangling = boolFilter(args, 'dangling');
  return (v) =>
    regexMatch(args, 'name', v.name) &&
    exactMatch(args, 'driver', v.driver) &&
    labelsMatch(args, v.labels) &&
    (dangling === undefined || dangling === v.dangling);
}

/**
 * `volume prune`'s filters: `label`, `label!`, and `all` (how the API since 1.42 says `-a`:
 * named volumes too, not only anonymous ones).
 */
export function volumePruneSelection(
  args: FilterArgs,
  opts: { all?: boolean } = {},
): { all: boolean; matches: (labels: Readonly<Record<string, string>>) => boolean } {
  checkFilterKeys(args, VOLUME_PRUNE_FILTER_KEYS);
  return { all: !!opts.all || boolFilter(args, 'all') === true, matches: (labels) => labelsMatch(args, labels) };
}

/** A network as its filters see it. */
export interface NetworkFacts {
  readonly name: string;
  readonly id: string;
  readonly driver: string;
  readonly scope: string;
  readonly labels: Readonly<Record<string, string>>;
  /** A user-defined network (docker's `custom`), not a predefined one. */
  readonly custom: boolean;
  /** A user network no container names. */
  readonly dangling: boolean;
  /** When it was made, in ms (0 for the predefined ones). */
  readonly created: number;
}

/** `network ls --filter`: `name` and `id` as patterns, `driver`, `scope`, `type`, `label`, `dangling`. */
export function networkListMatcher(args: FilterArgs): (n: NetworkFacts) => boolean {
  checkFilterKeys(args, NETWORK_LIST_FILTER_KEYS);
  for (const t of args.get('type') ?? []) {
    if (t !== 'custom' && t !== 'builtin') throw new BerthError('INVALID_ARGUMENT', `invalid filter: 'type'='${t}'`);
  }
  let dangling: boolean | undefined;
  try {
    dangling = boolFilter(args, 'dangling');
  } catch {
    throw new BerthError('INVALID_ARGUMENT', `invalid value for filter 'dangling', must be "true" (or "1"), or "false" (or "0")`);
  }
  return (n) =>
    regexMatch(args, 'name', n.name) &&
    regexMatch(args, 'id', n.id) &&
    exactMatch(args, 'driver', n.driver) &&
    exactMatch(args, 'scope', n.scope) &&
    anyValue(args, 'type', (t) => (t === 'custom') === n.custom) &&
    labelsMatch(args, n.labels) &&
    (dangling === undefined || dangling === n.dangling);
}

/** `network prune`'s filters: `label`, `label!`, `until`. */
export function networkPruneMatcher(args: FilterArgs): (n: Pick<NetworkFacts, 'labels' | 'created'>) => boolean {
  checkFilterKeys(args, NETWORK_PRUNE_FILTER_KEYS);
  const until = untilCutoff(args);
  return (n) => labelsMatch(args, n.labels) && (until === undefined || n.created < until);
}
