/**
 * The shared corpus (BuildKit's parser tests and shell vectors, .dockerignore cases, ML
 * Dockerfiles) lives in ../shared beside the clone in CI; a user's fresh clone has none of it,
 * and the tests that read it skip with this one line instead of failing.
 */
import { existsSync } from 'node:fs';

export const CORPUS_ABSENT = '../shared/corpus is absent (it sits beside the clone in CI)';

/** The corpus dir `sub` (with a trailing slash), or undefined when ../shared is not there. */
export function corpusDir(sub: string): URL | undefined {
  const url = new URL(`../../../shared/corpus/${sub.replace(/\/?$/, '/')}`, import.meta.url);
  return existsSync(url) ? url : undefined;
}
