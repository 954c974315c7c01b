/**
 * `system df [-v] [--format]` as docker 28 prints it: four summary lines (TYPE, TOTAL, ACTIVE,
 * SIZE, RECLAIMABLE), or with `-v` the images, containers, volumes and build cache records
 * each in their own table. `--format` takes docker's forms: `json`, `table TEMPLATE` and a Go
 * template, per summary line; with `-v`, one template over `.Images`, `.Containers`,
 * `.Volumes` and `.BuildCache`. The numbers come from services/disk-usage.ts.
 */
import { Command } from 'commander';
import type { Engine } from '../engine.ts';
import { asStruct, toJson } from '../template/index.ts';
import {
  ago,
  compileTemplate,
  DISK_USAGE_CONTEXT,
  formatRows,
  humanSize,
  IMAGES_CONTEXT,
  PS_CONTEXT,
  type RowContext,
  runTemplate,
  VOLUMES_CONTEXT,
} from './format.ts';
import { getEngine, out } from './context.ts';
import { goTimeString } from './ps.ts';

type Row = Record<string, unknown>;
const list = (v: unknown): Row[] => (Array.isArray(v) ? (v as Row[]) : []);

const BUILD_CACHE_CONTEXT: RowContext = {
  type: '*formatter.buildCacheContext',
  headers: { ID: 'CACHE ID', CacheType: 'CACHE TYPE', CreatedSince: 'CREATED', LastUsedSince: 'LAST USED', UsageCount: 'USAGE', InUse: 'IN USE' },
};
const DF_CONTAINERS_CONTEXT: RowContext = { ...PS_CONTEXT, ps: false };

/** go-units' HumanSize (4 significant digits), where docker's df prints it rather than its 3-digit form. */
const bigSize = (bytes: number) => humanSize(bytes, 4);

/** docker's `N (P%)`, for the three kinds whose reclaimable part it shows as a share. */
function share(reclaimable: number, total: number): string {
  return total > 0 ? `${bigSize(reclaimable)} (${Math.floor((reclaimable * 100) / total)}%)` : bigSize(reclaimable);
}

const shortId = (id: string, trunc: boolean) => (trunc ? id.replace(/^sha256:/, '').slice(0, 12) : id);
const isoOf = (unix: unknown) => new Date(Number(unix) * 1000).toISOString();

/** The rows of docker's verbose contexts, made from the API's detail. */
function verboseRows(detail: Row, trunc: boolean): { Images: Row[]; Containers: Row[]; Volumes: Row[]; BuildCache: Row[] } {
  const images = list(detail.Images).map((i) => {
    const tags = (i.RepoTags as string[]).filter((t) => t !== '<none>:<none>');
    const first = tags[0];
    const colon = first ? first.lastIndexOf(':') : -1;
    const size = Number(i.Size);
    const shared = Number(i.SharedSize);
    return {
      Containers: String(i.Containers),
      CreatedAt: goTimeString(isoOf(i.Created)),
      CreatedSince: ago(isoOf(i.Created)),
      Digest: '<none>',
      ID: shortId(String(i.Id), trunc),
      Repository: first ? first.slice(0, colon) : '<none>',
      SharedSize: shared === -1 ? 'N/A' : bigSize(shared),
      Size: humanSize(size),
      Tag: first ? first.slice(colon + 1) : '<none>',
      UniqueSize: shared === -1 ? 'N/A' : bigSize(size - shared),
      VirtualSize: bigSize(size),
    };
  });
  const containers = list(detail.Containers).map((c) => {
    const command = String(c.Command);
    const shown = trunc && command.length > 20 ? `${command.slice(0, 19)}…` : command;
    return {
      Command: `"${shown}"`,
      CreatedAt: goTimeString(isoOf(c.Created)),
      ID: shortId(String(c.Id), trunc),
      Image: String(c.Image),
      Labels: Object.entries((c.Labels ?? {}) as Record<string, string>)
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
      LocalVolumes: String(list(c.Mounts).filter((m) => m.Driver === 'local').length),
      Names: (c.Names as string[]).map((n) => n.replace(/^\//, '')).join(','),
      RunningFor: ago(isoOf(c.Created)),
      Size: humanSize(Number(c.SizeRw)),
      State: String(c.State),
      Status: String(c.Status),
    };
  });
  const volumes = list(detail.Volumes).map((v) => {
    const u = (v.UsageData ?? {}) as Row;
    return {
      Driver: String(v.Driver),
      Labels: Object.entries((v.Labels ?? {}) as Record<string, string>)
        .map(([k, val]) => `${k}=${val}`)
        .join(','),
      Links: String(u.RefCount ?? 'N/A'),
      Mountpoint: String(v.Mountpoint),
      Name: String(v.Name),
      Scope: String(v.Scope),
      Size: u.Size === undefined ? 'N/A' : bigSize(Number(u.Size)),
    };
  });
  // Oldest use first, as docker sorts them.
  const cache = [...list(detail.BuildCache)].sort(
    (a, b) => String(a.LastUsedAt ?? '').localeCompare(String(b.LastUsedAt ?? '')) || String(a.ID).localeCompare(String(b.ID)),
  );
  const buildCache = cache.map((r) => ({
    CacheType: String(r.Type),
    CreatedAt: goTimeString(String(r.CreatedAt)),
    CreatedSince: ago(String(r.CreatedAt)),
    Description: String(r.Description),
    ID: `${shortId(String(r.ID), trunc)}${r.InUse ? '*' : ''}`,
    InUse: String(r.InUse),
    LastUsedAt: r.LastUsedAt ? goTimeString(String(r.LastUsedAt)) : '',
    LastUsedSince: r.LastUsedAt ? ago(String(r.LastUsedAt)) : '',
    Parent: '',
    Shared: String(r.Shared),
    Size: humanSize(Number(r.Size)),
    UsageCount: String(r.UsageCount),
  }));
  return { Images: images, Containers: containers, Volumes: volumes, BuildCache: buildCache };
}

const TABLES = {
  Images: {
    title: 'Images space usage:',
    format: 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}',
    ctx: IMAGES_CONTEXT,
  },
  Containers: {
    title: 'Containers space usage:',
    format: 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}',
    ctx: DF_CONTAINERS_CONTEXT,
  },
  Volumes: { title: 'Local Volumes space usage:', format: 'table {{.Name}}\t{{.Links}}\t{{.Size}}', ctx: VOLUMES_CONTEXT },
  BuildCache: {
    title: '',
    format: 'table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}',
    ctx: BUILD_CACHE_CONTEXT,
  },
} as const;

/** `system df -v`'s text for a format (none or `table`: docker's four tables). */
function verboseText(detail: Row, format: string | undefined): string {
  const table = !format || format === 'table';
  const rows = verboseRows(detail, table || format.startsWith('table'));
  if (format === 'json') return `${toJson(rows, true)}\n`;
  if (!table) {
    const tpl = compileTemplate(
      format
        .replace(/^table\s*/, '')
        .replace(/\\t/g, '\t')
        .replace(/\\n/g, '\n'),
    );
    const struct = (type: string) => (r: Row) => asStruct({ ...r }, type);
    const data = asStruct(
      {
        Images: rows.Images.map(struct('*formatter.imageContext')),
        Containers: rows.Containers.map(struct('*formatter.ContainerContext')),
        Volumes: rows.Volumes.map(struct('*formatter.volumeContext')),
        BuildCache: rows.BuildCache.map(struct('*formatter.buildCacheContext')),
      },
      '*formatter.diskUsageContext',
    );
    return runTemplate(tpl, data);
  }
  const section = (name: keyof typeof TABLES) => formatRows(TABLES[name].format, rows[name], { headers: [], cells: () => [] }, TABLES[name].ctx);
  return [
    `${TABLES.Images.title}\n\n${section('Images')}`,
    `\n${TABLES.Containers.title}\n\n${section('Containers')}`,
    `\n${TABLES.Volumes.title}\n\n${section('Volumes')}`,
    `\nBuild cache usage: ${bigSize(Number(detail.BuilderSize ?? 0))}\n\n${section('BuildCache')}`,
  ].join('');
}

export async function systemDfText(engine: Engine, o: { verbose?: boolean; format?: string }): Promise<string> {
  const { diskUsageDetail, summarizeDiskUsage } = await import('../services/disk-usage.ts');
  const detail = await diskUsageDetail(engine);
  if (o.verbose) return verboseText(detail, o.format);
  const rows = summarizeDiskUsage(detail).map((u) => ({
    Active: String(u.active),
    Reclaimable: u.type === 'Build Cache' ? bigSize(u.reclaimable) : share(u.reclaimable, u.bytes),
    Size: bigSize(u.bytes),
    TotalCount: String(u.total),
    Type: u.type,
  }));
  return formatRows(
    o.format,
    rows,
    { headers: ['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'], cells: (r) => [r.Type, r.TotalCount, r.Active, r.Size, r.Reclaimable].map(String) },
    DISK_USAGE_CONTEXT,
  );
}

export function systemDf(): Command {
  return new Command('df')
    .description('Show disk usage')
    .option('--format <format>', 'format output using a custom template')
    .option('-v, --verbose', 'show detailed information on space usage')
    .action(async (o: { format?: string; verbose?: boolean }, cmd: Command) => {
      out(await systemDfText(await getEngine(cmd), o));
    });
}
