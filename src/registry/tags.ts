/**
 * A repository's tags (`GET /v2/NAME/tags/list`), for `pull --all-tags`. The registry is
 * outside berth's trust: each page is read bounded, pages are followed only on the registry's
 * own host and only so far, and a tag that is not one by the reference grammar is refused.
 */
import { BerthError } from '../errors/index.ts';
import type { Credentials } from './credentials.ts';
import { RegistryClient, registryError } from './http.ts';

/** The most pages followed, and the most tags taken: a registry that lists more is refused. */
const MAX_PAGES = 100;
export const MAX_TAGS = 10_000;
const TAG_RE = /^[\w][\w.-]{0,127}$/;

/** The next page's path from a `Link: </v2/...?last=x&n=y>; rel="next"` header, when on the same registry. */
function nextPage(link: string | undefined): string | undefined {
  const m = link && /<([^>]+)>\s*;\s*rel="?next"?/.exec(link);
  return m && m[1]!.startsWith('/v2/') ? m[1] : undefined;
}

export async function listTags(
  registry: string,
  repository: string,
  opts: { insecure?: boolean; credentials?: Credentials | null; signal?: AbortSignal } = {},
): Promise<string[]> {
  const client = new RegistryClient(registry, { insecure: opts.insecure, credentials: opts.credentials });
  const scope = `repository:${repository}:pull`;
  const tags: string[] = [];
  let path: string | undefined = `/v2/${repository}/tags/list?n=1000`;
  for (let page = 0; path; page++) {
    if (page === MAX_PAGES) throw new BerthError('DATA_CORRUPT', `${registry} lists more than ${MAX_PAGES} pages of tags for ${repository}`);
    const res = await client.request('GET', path, { scope, signal: opts.signal });
    if (res.statusCode !== 200) throw await registryError(res, `tags of ${repository}`);
    const body = (await client.readDocument(res, `the tags of ${repository} from ${registry}`)).toString();
    let parsed: { tags?: unknown };
    try {
      parsed = JSON.parse(body) as { tags?: unknown };
    } catch {
      throw new BerthError('DATA_CORRUPT', `${registry} sent a tag list for ${repository} that is not JSON`);
    }
    const list = parsed.tags ?? [];
    if (!Array.isArray(list) || !list.every((t): t is string => typeof t === 'string' && TAG_RE.test(t))) {
      throw new BerthError('DATA_CORRUPT', `${registry} sent a tag list for ${repository} with something that is not a tag`);
    }
    tags.push(...list);
    if (tags.length > MAX_TAGS) throw new BerthError('DATA_CORRUPT', `${registry} lists more than ${MAX_TAGS} tags for ${repository}`);
    path = nextPage(res.headers.link as string | undefined);
  }
  return [...new Set(tags)];
}
