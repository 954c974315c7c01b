import { formatReference, parseReference, withDefaultTag } from '../reference/index.ts';

/** The stored form of a name a user typed: `bb` → `docker.io/library/bb:latest`. */
export function normalizeName(s: string): string {
  return formatReference(withDefaultTag(parseReference(s)));
}
