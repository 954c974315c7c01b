/**
 * Images as the Engine API shows them: the rows of `GET /images/json` with its filters
 * (reference, dangling, label, before, since), and the rows of `/images/{name}/history`.
 */
import { BerthError } from '../errors/index.ts';
import type { HistoryRow, ImageDetail } from '../services/images.ts';

/** docker's filters parameter: `{"key":{"value":true}}`, or the older `{"key":["value"]}`. */
export type Filters = ReadonlyMap<string, readonly string[]>;

export function parseFilters(raw: unknown, known: readonly string[]): Filters {
  if (raw === null || raw === undefined) return new Map();
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new BerthError('INVALID_ARGUMENT', 'invalid filters parameter: not a JSON object');
  const out = new Map<string, string[]>();
  for (const [key, v] of Object.entries(raw as Record<string, unknown>)) {
    if (!known.includes(key)) throw new BerthError('INVALID_ARGUMENT', `invalid filter '${key}'`);
    let values: string[];
    if (Array.isArray(v)) values = v.map(String);
    else if (v && typeof v === 'object') values = Object.entries(v as Record<string, unknown>).flatMap(([k, on]) => (on ? [k] : []));
    else throw new BerthError('INVALID_ARGUMENT', `invalid filter '${key}': not a list of values`);
    out.set(key, values);
  }
  return out;
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
function referenceMatches(pattern: string, familiar: string): boolean {
  if (pathMatch(pattern, familiar)) return true;
  const at = familiar.indexOf('@');
  const colon = familiar.lastIndexOf(':');
  const repo = at >= 0 ? familiar.slice(0, at) : colon > familiar.lastIndexOf('/') ? familiar.slice(0, colon) : familiar;
  return pathMatch(pattern, repo);
}

function labelMatches(filter: string, labels: Readonly<Record<string, string>> | null): boolean {
  const i = filter.indexOf('=');
  const key = i < 0 ? filter : filter.slice(0, i);
  if (!labels || !(key in labels)) return false;
  return i < 0 || labels[key] === filter.slice(i + 1);
}

function createdSeconds(created: string | undefined): number {
  const t = created ? Date.parse(created) : Number.NaN;
  return Number.isFinite(t) ? Math.floor(t / 1000) : 0;
}

/** The images a filter set keeps, each with the names it keeps (a reference filter narrows RepoTags). */
export function filterImages(images: readonly ImageDetail[], filters: Filters, byName: (name: string) => ImageDetail | undefined): ImageDetail[] {
  const dangling = filters.get('dangling');
  if (dangling?.some((v) => !['true', 'false', '1', '0'].includes(v)))
    throw new BerthError('INVALID_ARGUMENT', `invalid filter 'dangling=${dangling.join(',')}'`);
  const wantDangling = dangling?.length ? dangling.includes('true') || dangling.includes('1') : undefined;
  const bound = (key: string) => {
    const names = filters.get(key);
    if (!names?.length) return undefined;
    const img = byName(names[0]!);
    if (!img) throw new BerthError('NOT_FOUND', `No such image: ${names[0]}`);
    return createdSeconds(img.created);
  };
  const before = bound('before');
  const since = bound('since');
  const out: ImageDetail[] = [];
  for (const img of images) {
    if (wantDangling !== undefined && (img.tags.length === 0) !== wantDangling) continue;
    const labels = filters.get('label') ?? [];
    if (!labels.every((l) => labelMatches(l, img.labels))) continue;
    const created = createdSeconds(img.created);
    if (before !== undefined && created >= before) continue;
    if (since !== undefined && created <= since) continue;
    const refs = filters.get('reference') ?? [];
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

/** One row of `GET /images/json`, as dockerd 20.10 writes it. */
export function imageSummaryJson(img: ImageDetail): Record<string, unknown> {
  const untagged = img.tags.length === 0;
  return {
    Containers: -1,
    Created: createdSeconds(img.created),
    Id: img.id,
    Labels: img.labels,
    ParentId: '',
    RepoDigests: img.repoDigests.length ? img.repoDigests : untagged ? ['<none>@<none>'] : null,
    RepoTags: untagged ? ['<none>:<none>'] : img.tags,
    SharedSize: -1,
    Size: img.size,
    VirtualSize: img.size,
  };
}

/** The rows of `GET /images/{name}/history`: the image's id and names on the top row only. */
export function historyJson(rows: readonly HistoryRow[], tags: readonly string[]): Array<Record<string, unknown>> {
  return rows.map((r, i) => ({
    Id: r.id,
    Created: createdSeconds(r.created),
    CreatedBy: r.createdBy,
    Tags: i === 0 && tags.length ? tags : null,
    Size: r.size,
    Comment: r.comment,
  }));
}
