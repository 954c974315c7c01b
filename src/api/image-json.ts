/**
 * Images as the Engine API shows them: the rows of `GET /images/json` (filtered by
 * services/filters/images.ts) and the rows of `/images/{name}/history`.
 */
import { createdSeconds } from '../services/filters/images.ts';
import type { HistoryRow, ImageDetail } from '../services/images.ts';

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
