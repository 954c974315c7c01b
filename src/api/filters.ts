/**
 * The `filters` query parameter of list, prune and events endpoints, read into the same
 * `FilterArgs` the CLI's `--filter` flags give (services/filters): which keys an endpoint
 * takes and what they mean is the shared matchers' business, not the route's.
 */
import { type FilterArgs, filtersFromJson } from '../services/filters/args.ts';
import type { ApiContext } from './http.ts';

export function queryFilters(ctx: ApiContext): FilterArgs {
  return filtersFromJson(ctx.query.json<unknown>('filters', null));
}
