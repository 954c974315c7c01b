/**
 * The prune verbs as docker's CLI has them: `container`, `image`, `volume`, `network` and
 * `system prune`, each with docker's warning, asked on stdin unless `-f/--force` (a no, an
 * empty line or no input deletes nothing and exits 0, as docker's), then docker's report.
 * Each group's file adds its own (`volume.addCommand(volumePrune())`).
 */
import { Command } from 'commander';
import { BerthError } from '../errors/index.ts';
import { getEngine, out } from './context.ts';
import { addFilterOption, cliFilters } from './filter-option.ts';
import { humanSize } from './format.ts';
import { confirm } from './prompt.ts';
import { buildCacheReport } from './builder-prune.ts';

type PruneFlags = { force?: boolean; all?: boolean; volumes?: boolean; filter?: string[] };

/**
 * A prune command with `-f/--force` and `--filter`, whose action runs only once the user
 * agreed; `check` refuses flags that do not go together before anything is asked.
 */
function pruneCommand(
  description: string,
  warning: (o: PruneFlags) => string,
  run: (o: PruneFlags, cmd: Command) => Promise<void>,
  check: (o: PruneFlags) => void = () => undefined,
): Command {
  const cmd = new Command('prune').description(description).option('-f, --force', 'do not prompt for confirmation');
  addFilterOption(cmd, { short: false });
  return cmd.action(async (o: PruneFlags, c: Command) => {
    check(o);
    if (!o.force && !(await confirm(warning(o)))) return;
    await run(o, c);
  });
}

/** docker's section of a prune report: a title, one line per item, a blank line; nothing when empty. */
function section(title: string, lines: readonly string[]): string {
  return lines.length ? `${title}:\n${lines.map((l) => `${l}\n`).join('')}\n` : '';
}

export function containerPrune(): Command {
  return pruneCommand(
    'Remove all stopped containers',
    () => 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue?',
    async (o, cmd) => {
      const engine = await getEngine(cmd);
      const { containerPruneMatcher } = await import('../services/filters/containers.ts');
      const { pruneContainersReclaiming } = await import('../services/containers.ts');
      const r = await pruneContainersReclaiming(engine, containerPruneMatcher(cliFilters(o.filter)));
      out(`${section('Deleted Containers', r.removed)}Total reclaimed space: ${humanSize(r.reclaimedBytes)}\n`);
    },
  );
}

export function imagePrune(): Command {
  return pruneCommand(
    'Remove unused images',
    (o) =>
      o.all
        ? 'WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue?'
        : 'WARNING! This will remove all dangling images.\nAre you sure you want to continue?',
    async (o, cmd) => {
      const engine = await getEngine(cmd);
      const { imagePruneSelection } = await import('../services/filters/images.ts');
      const selection = imagePruneSelection(cliFilters(o.filter), { all: o.all });
      const r = await (await import('../services/gc.ts')).pruneStore(engine, { allImages: selection.all, matches: selection.matches });
      for (const w of r.warnings) process.stderr.write(`WARNING: could not remove ${w}\n`);
      const lines = [...r.untagged.map((t) => `untagged: ${t}`), ...r.deletedImages.map((d) => `deleted: ${d}`)];
      out(`${section('Deleted Images', lines)}Total reclaimed space: ${humanSize(r.reclaimedBytes)}\n`);
    },
  ).option('-a, --all', 'remove all unused images, not just dangling ones');
}

export function volumePrune(): Command {
  return pruneCommand(
    'Remove unused local volumes',
    (o) =>
      o.all
        ? 'WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue?'
        : 'WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue?',
    async (o, cmd) => {
      const engine = await getEngine(cmd);
      const r = await (await import('../services/volumes.ts')).pruneVolumes(engine, { all: o.all, filters: cliFilters(o.filter) });
      out(`${section('Deleted Volumes', r.removed)}Total reclaimed space: ${humanSize(r.bytes)}\n`);
    },
    (o) => {
      if (o.all && cliFilters(o.filter).has('all'))
        throw new BerthError('INVALID_ARGUMENT', 'conflicting options: cannot specify both --all and --filter all=1');
    },
  ).option('-a, --all', 'remove all unused volumes, not just anonymous ones');
}

export function networkPrune(): Command {
  return pruneCommand(
    'Remove all unused networks',
    () => 'WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?',
    async (o, cmd) => {
      const engine = await getEngine(cmd);
      const removed = await (await import('../services/networks.ts')).pruneNetworks(engine, { filters: cliFilters(o.filter) });
      out(section('Deleted Networks', removed));
    },
  );
}

/** docker's list of what `system prune` takes, which its flags change. */
function systemWarning(o: PruneFlags): string {
  const items = [
    'all stopped containers',
    'all networks not used by at least one container',
    ...(o.volumes ? ['all anonymous volumes not used by at least one container'] : []),
    o.all ? 'all images without at least one container associated to them' : 'all dangling images',
    o.all ? 'all build cache' : 'unused build cache',
  ];
  return `WARNING! This will remove:\n${items.map((i) => `  - ${i}\n`).join('')}\nAre you sure you want to continue?`;
}

export function systemPrune(): Command {
  return pruneCommand(
    'Remove unused data',
    systemWarning,
    async (o, cmd) => {
      const filters = cliFilters(o.filter);
      const engine = await getEngine(cmd);
      const { containerPruneMatcher, imagePruneSelection } = await import('../services/filters/index.ts');
      // Each part takes the filters its own prune takes (label, label!, until), all checked before anything goes.
      const containerMatches = containerPruneMatcher(filters);
      const selection = imagePruneSelection(filters, { all: o.all });
      const containers = await (await import('../services/containers.ts')).pruneContainers(engine, containerMatches);
      const networks = await (await import('../services/networks.ts')).pruneNetworks(engine, { filters });
      const volumes = o.volumes ? await (await import('../services/volumes.ts')).pruneVolumes(engine, { filters }) : { removed: [], bytes: 0 };
      const r = await (await import('../services/gc.ts')).pruneStore(engine, { allImages: selection.all, matches: selection.matches });
      for (const w of r.warnings) process.stderr.write(`WARNING: could not remove ${w}\n`);
      // The build cache last, with the images it shared gone: docker passes it the `until` filter only.
      const cacheFilters = new Map([...filters].filter(([k]) => k === 'until'));
      const cache = await (await import('../services/build-cache.ts')).pruneBuildCache(engine, { all: o.all, filters: cacheFilters });
      out(
        section('Deleted Containers', containers) +
          section('Deleted Networks', networks) +
          section('Deleted Volumes', volumes.removed) +
          section('Deleted Images', [...r.untagged.map((t) => `untagged: ${t}`), ...r.deletedImages.map((d) => `deleted: ${d}`)]) +
          buildCacheReport(cache, false) +
          (r.leftovers ? `Removed ${r.leftovers} leftover(s) of interrupted work\n\n` : '') +
          `Total reclaimed space: ${humanSize(r.reclaimedBytes + volumes.bytes + cache.reclaimedBytes)}\n`,
      );
    },
    (o) => {
      if (o.volumes && cliFilters(o.filter).has('until'))
        throw new BerthError('INVALID_ARGUMENT', 'ERROR: The "until" filter is not supported with "--volumes"');
    },
  )
    .option('-a, --all', 'remove all unused images, not just dangling ones')
    .option('--volumes', 'prune anonymous volumes');
}
