/** (to be written, issue 20) */
import type { ApiDeps } from '../deps.ts';
import type { Route } from '../router.ts';

export function diskRoutes(_deps: ApiDeps): Route[] {
  return [];
}
