/**
 * `ps` (`container ls`) as docker 28 has it: `-a`, `-q`, `-n/--last`, `-l/--latest`,
 * `-s/--size`, `--no-trunc`, `-f/--filter` and `--format` with docker's placeholders
 * (`.ID .Image .Command .CreatedAt .RunningFor .Ports .State .Status .Size .Names .Labels
 * .Label "k" .Mounts .Networks`). The filters' meanings are services/filters/containers.ts.
 */
import { type Command, InvalidArgumentError } from 'commander';
import type { Engine } from '../engine.ts';
import { addFilterOption, cliFilters } from './filter-option.ts';
import { formatRows, humanSize, labelMethod, PS_CONTEXT } from './format.ts';

export interface PsFlags {
  readonly all?: boolean;
  readonly quiet?: boolean;
  readonly latest?: boolean;
  readonly last: number;
  readonly size?: boolean;
  readonly trunc?: boolean;
  readonly filter?: string[];
  readonly format?: string;
}

/** Go's strconv.ParseInt, with the docker CLI's words for a bad `-n`. */
function parseLast(value: string): number {
  if (!/^[-+]?\d+$/.test(value)) throw new InvalidArgumentError(`strconv.ParseInt: parsing "${value}": invalid syntax`);
  return Number(value);
}

export function addPsFlags(cmd: Command): Command {
  cmd
    .option('-a, --all', 'show all containers (default shows just running)')
    .option('-q, --quiet', 'only display container IDs')
    .option('-n, --last <int>', 'show n last created containers (includes all states)', parseLast, -1)
    .option('-l, --latest', 'show the latest created container (includes all states)')
    .option('-s, --size', 'display total file sizes')
    .option('--no-trunc', "don't truncate output")
    .option('--format <format>', 'table, json, or a Go template');
  return addFilterOption(cmd, { short: true });
}

/** Go's time.Time String() of a creation time, as docker's `.CreatedAt`: `2026-12-07 21:54:00 +0000 UTC`. */
export function goTimeString(iso: string): string {
  const t = new Date(Date.parse(iso));
  const offsetMin = -t.getTimezoneOffset();
  const local = new Date(t.getTime() + offsetMin * 60_000).toISOString();
  const abs = Math.abs(offsetMin);
  const offset = `${offsetMin < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
  const zone =
    offsetMin === 0
      ? 'UTC'
      : (new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(t).find((p) => p.type === 'timeZoneName')?.value ?? offset);
  return `${local.slice(0, 10)} ${local.slice(11, 19)} ${offset} ${zone}`;
}

/** The network docker names for a container on the default bridge, however it was asked for. */
function networkName(network: string): string {
  return network === '' || network === 'default' ? 'bridge' : network;
}

const HEADERS = ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'];

/** The text `ps` prints for these flags. */
export async function listContainersForPs(engine: Engine, o: PsFlags): Promise<string> {
  const { listContainersFiltered, liveStatus } = await import('../services/container-ops.ts');
  const { psRow } = await import('../services/containers.ts');
  const limit = o.latest ? 1 : o.last;
  const recs = await listContainersFiltered(engine, { all: o.all, limit, filters: cliFilters(o.filter) });
  const noTrunc = o.trunc === false;
  if (o.quiet) return recs.map((r) => `${noTrunc ? r.id : r.id.slice(0, 12)}\n`).join('');
  // docker sizes the containers when asked, or when the template shows the size.
  const sized = !!o.size || !!o.format?.includes('.Size');
  const { containerSize } = await import('../services/container-fs.ts');
  const rows: Array<Record<string, unknown>> = [];
  for (const rec of recs) {
    const row: Record<string, unknown> = {
      ...psRow(rec, { noTrunc }),
      CreatedAt: goTimeString(rec.created),
      LocalVolumes: String(rec.config.mounts.filter((m) => m.volumeName).length),
      Platform: null,
      State: liveStatus(rec),
      Networks: networkName(rec.config.network),
    };
    if (sized) {
      const s = await containerSize(engine, rec).catch(() => ({ SizeRw: 0, SizeRootFs: 0 }));
      row.Size = `${humanSize(s.SizeRw)} (virtual ${humanSize(s.SizeRootFs)})`;
    }
    // `.Label "k"`: a method in docker's row; JSON output leaves functions out, as docker's has no Label key.
    row.Label = labelMethod(rec.config.labels);
    rows.push(row);
  }
  const headers = o.size ? [...HEADERS, 'SIZE'] : HEADERS;
  return formatRows(
    o.format,
    rows,
    {
      headers,
      cells: (r) => [r.ID, r.Image, r.Command, r.RunningFor, r.Status, r.Ports, r.Names, ...(o.size ? [r.Size] : [])].map(String),
    },
    PS_CONTEXT,
  );
}
