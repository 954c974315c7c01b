/**
 * The `filters` query parameter of list, prune and events endpoints: JSON of each key's
 * values, as `{"label":["a=b"]}` or the older `{"label":{"a=b":true}}` that some clients
 * still send. Which keys an endpoint knows is its own check.
 */
import { BerthError } from '../errors/index.ts';
import type { ApiContext } from './http.ts';

export function queryFilters(ctx: ApiContext): Map<string, string[]> {
  const raw = ctx.query.json<unknown>('filters', {});
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new BerthError('INVALID_ARGUMENT', 'invalid filters: not an object of lists');
  const out = new Map<string, string[]>();
  for (const [k, v] of Object.entries(raw)) {
    if (Array.isArray(v)) out.set(k, v.map(String));
    else if (v && typeof v === 'object')
      out.set(
        k,
        Object.keys(v).filter((x) => (v as Record<string, unknown>)[x]),
      );
    else throw new BerthError('INVALID_ARGUMENT', `invalid filter '${k}': its values must be a list`);
  }
  return out;
}
