/**
 * Caches that package managers and tools leave in a layer when a RUN does not clean up after
 * itself: each known by where it lives, with the Dockerfile fix and the berth lint rule that
 * finds the habit (looked up in `RULES`, so a renamed or removed rule is never named here).
 */
import { RULES } from '../lint/index.ts';
import type { CacheLeft } from './report.ts';
import type { PathNode } from './tree.ts';

interface CacheKind {
  readonly kind: string;
  readonly label: string;
  /** Matches a path (components joined by `/`, no leading slash); group 1 is the cache's root. */
  readonly pattern: RegExp;
  readonly fix: string;
  readonly ruleId?: string;
}

export const CACHE_KINDS: readonly CacheKind[] = [
  {
    kind: 'pip',
    label: 'pip download cache',
    pattern: /^((?:[^/]+\/)*\.cache\/pip)\//,
    fix: 'pip install --no-cache-dir …, or RUN --mount=type=cache,target=/root/.cache/pip pip install …',
    ruleId: 'BL006',
  },
  {
    kind: 'apt-lists',
    label: 'apt package lists',
    pattern: /^(var\/lib\/apt\/lists)\/(?!lock$|partial\/?$|auxfiles\/?$)/,
    fix: 'end the RUN that installs with && rm -rf /var/lib/apt/lists/*, or RUN --mount=type=cache,target=/var/lib/apt/lists,sharing=locked …',
    ruleId: 'BL004',
  },
  {
    kind: 'apt-archives',
    label: 'apt package cache',
    pattern: /^(var\/cache\/apt)\/(?!archives\/lock$|archives\/partial\/?$)/,
    fix: 'end the RUN that installs with && apt-get clean, or RUN --mount=type=cache,target=/var/cache/apt,sharing=locked …',
    ruleId: 'BL004',
  },
  {
    kind: 'conda-pkgs',
    label: 'conda package cache',
    pattern: /^((?:[^/]+\/)*(?:conda|miniconda3?|anaconda3?|miniforge3?|mambaforge|micromamba)\/pkgs)\//,
    fix: 'end the RUN that installs with && conda clean -afy, or RUN --mount=type=cache,target=/opt/conda/pkgs …',
  },
  {
    kind: 'huggingface',
    label: 'Hugging Face hub cache',
    pattern: /^((?:[^/]+\/)*\.cache\/huggingface)\//,
    fix: 'download models at run time into a volume, or RUN --mount=type=cache,target=/root/.cache/huggingface … and copy out only what the image needs',
  },
  {
    kind: 'npm',
    label: 'npm cache',
    pattern: /^((?:[^/]+\/)*\.npm\/_cacache)\//,
    fix: 'npm ci && npm cache clean --force in one RUN, or RUN --mount=type=cache,target=/root/.npm npm ci',
  },
  {
    kind: 'git',
    label: '.git directory',
    pattern: /^((?:[^/]+\/)*\.git)\//,
    fix: 'add .git to .dockerignore (COPY . brings it in), or clone with --depth 1 and remove .git in the same RUN',
    ruleId: 'BL019',
  },
  {
    kind: 'pycache',
    label: 'Python bytecode cache',
    pattern: /^((?:[^/]+\/)*__pycache__)\//,
    fix: 'ENV PYTHONDONTWRITEBYTECODE=1 before the RUN that runs Python, and __pycache__ in .dockerignore',
  },
];

/** Groups the final tree's files that sit in a known cache, by cache root and layer. */
export class CacheFinder {
  private readonly found = new Map<string, { kind: CacheKind; root: string; layer: number; size: number; files: number }>();

  offer(parts: readonly string[], node: PathNode): void {
    if (parts.length < 2) return;
    const path = parts.join('/');
    for (const kind of CACHE_KINDS) {
      const m = kind.pattern.exec(path);
      if (!m) continue;
      const key = `${kind.kind}\0${m[1]}\0${node.layer}`;
      const t = this.found.get(key) ?? { kind, root: `/${m[1]}`, layer: node.layer, size: 0, files: 0 };
      t.size += node.size;
      t.files++;
      this.found.set(key, t);
      return;
    }
  }

  results(): CacheLeft[] {
    return [...this.found.values()]
      .map((t) => {
        const rule = t.kind.ruleId ? RULES.find((r) => r.id === t.kind.ruleId) : undefined;
        return {
          kind: t.kind.kind,
          label: t.kind.label,
          path: t.root,
          size: t.size,
          files: t.files,
          layer: t.layer,
          fix: t.kind.fix,
          lintRule: rule ? { id: rule.id, name: rule.name } : null,
        };
      })
      .sort((a, b) => b.size - a.size || a.path.localeCompare(b.path));
  }
}
