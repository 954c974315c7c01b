/**
 * The filters of `images` (`GET /images/json`) and `image prune`, in moby's meanings: a
 * `reference` is a glob (Go's path.Match) on the familiar name or its repository, and keeps
 * only the names it matches; `before` and `since` name an image; `dangling` is an image with
 * no name.
 */
import { BerthError } from '../../errors/index.ts';
import { boolFilter, checkFilterKeys, type FilterArgs, labelsMatch } from './args.ts';
import { untilCutoff } from './time.ts';

export const IMAGE_LIST_FILTER_KEYS = ['before', 'dangling', 'label', 'reference', 'since', 'until'] as const;
export const IMAGE_PRUNE_FILTER_KEYS = ['dangling', 'label', 'label!', 'until'] as const;

/** An image as its filters see it (services/images.ts's ImageDetail fits). */
export interface ImageFacts {
  /** Familiar names: `bb:1`. */
  readonly tags: readonly string[];
  /** `NAME@sha256:...`. */
  readonly repoDigests: readonly string[];
  readonly created?: string;
  readonly labels: Readonly<Record<string, string>> | null;
}

/** Go's path.Match, which docker's reference filter uses: `*` and `?` stop at `/`, `[...]` is a class. */
export function pathMatch(pattern: string, name: string): boolean {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) return false;
      let body = pattern.slice(i + 1, end);
      const negate = body.startsWith('^') || body.startsWith('!');
      if (negate) body = body.slice(1);
      re += `[${negate ? '^' : ''}${body.replace(/[\\\]]/g, '\\$&')}]`;
      i = end;
    } else if (c === '\\' && i + 1 < pattern.length) re += escapeRe(pattern[++i]!);
    else re += escapeRe(c);
  }
  try {
    return new RegExp(`${re}$`).test(name);
  } catch {
    return false;
  }
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** A name matches a reference filter on its whole (`bb:1`) or on its repository (`bb`). */
export function referenceMatches(pattern: string, familiar: string): boolean {
  if (pathMatch(pattern, familiar)) return true;
  const at = familiar.indexOf('@');
  const colon = familiar.lastIndexOf(':');
  const repo = at >= 0 ? familiar.slice(0, at) : colon > familiar.lastIndexOf('/') ? familiar.slice(0, colon) : familiar;
  return pathMatch(pattern, repo);
}

/** Seconds since the epoch of an image's creation (0 when unknown), the unit docker compares in. */
export function createdSeconds(created: string | undefined): number {
  const t = created ? Date.parse(created) : Number.NaN;
  return Number.isFinite(t) ? Math.floor(t / 1000) : 0;
}

/**
 * The images a filter set keeps, each with the names it keeps (a reference filter narrows
 * RepoTags). `byName` finds a `before`/`since` image; an unknown one is docker's NOT_FOUND.
 */
export function filterImages<T extends ImageFacts>(images: readonly T[], args: FilterArgs, byName: (name: string) => T | undefined): T[] {
  checkFilterKeys(args, IMAGE_LIST_FILTER_KEYS);
  const dangling = boolFilter(args, 'dangling');
  const bound = (key: string) => {
    const names = args.get(key);
    if (!names?.length) return undefined;
    const img = byName(names[0]!);
    if (!img) throw new BerthError('NOT_FOUND', `No such image: ${names[0]!.includes(':') || names[0]!.includes('@') ? names[0] : `${names[0]}:latest`}`);
    return createdSeconds(img.created);
  };
  const before = bound('before');
  const since = bound('since');
  const until = untilCutoff(args);
  const refs = args.get('reference') ?? [];
  const out: T[] = [];
  for (const img of images) {
    if (dangling !== undefined && (img.tags.length === 0) !== dangling) continue;
    if (!labelsMatch(args, img.labels)) continue;
    const created = createdSeconds(img.created);
    if (before !== undefined && created >= before) continue;
    if (since !== undefined && created <= since) continue;
    if (until !== undefined && created * 1000 >= until) continue;
    if (refs.length) {
      const tags = img.tags.filter((t) => refs.some((r) => referenceMatches(r, t)));
      const digests = img.repoDigests.filter((d) => refs.some((r) => referenceMatches(r, d)));
      if (!tags.length && !digests.length) continue;
      out.push({ ...img, tags, repoDigests: digests.length ? digests : img.repoDigests });
      continue;
    }
    out.push(img);
  }
  return out;
}

/** What `image prune` takes: every unused image (`all`) or only dangling ones, narrowed by labels and `until`. */
export interface ImagePruneSelection {
  readonly all: boolean;
  readonly matches: (img: Pick<ImageFacts, 'created' | 'labels'>) => boolean;
}

/** `image prune`'s filters; `dangling=false` is how the API says `-a`. */
export function imagePruneSelection(args: FilterArgs, opts: { all?: boolean } = {}): ImagePruneSelection {
  checkFilterKeys(args, IMAGE_PRUNE_FILTER_KEYS);
  const dangling = boolFilter(args, 'dangling');
  const until = untilCutoff(args);
  return {
    all: !!opts.all || dangling === false,
    matches: (img) => labelsMatch(args, img.labels) && (until === undefined || createdSeconds(img.created) * 1000 < until),
  };
}
