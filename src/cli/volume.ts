/** `berth volume create|ls|inspect|rm|prune`. */
import type { Command } from 'commander';
import { collect, getEngine, out } from './context.ts';
import { addFilterOption, cliFilters } from './filter-option.ts';
import { volumePrune } from './prune.ts';
import { formatRows, labelsText, labelMethod, VOLUMES_CONTEXT } from './format.ts';

const volumes = () => import('../services/volumes.ts');

function parseLabels(list: string[]): Record<string, string> {
  return Object.fromEntries(list.map((l) => [l.split('=')[0]!, l.includes('=') ? l.slice(l.indexOf('=') + 1) : '']));
}

export function register(program: Command): void {
  const volume = program.command('volume').description('Manage volumes');
  volume
    .command('create')
    .argument('[name]')
    .option('--label <label>', 'set metadata for a volume', collect, [])
    .option('-d, --driver <driver>', 'volume driver name', 'local')
    .action(async (name: string | undefined, o: { label: string[] }, cmd: Command) => {
      const engine = await getEngine(cmd);
      const v = await (await volumes()).createVolume(engine, name, { labels: parseLabels(o.label) });
      out(`${v.name}\n`);
    });
  addFilterOption(volume.command('ls').alias('list').description('List volumes'), { short: true })
    .option('-q, --quiet', 'only display volume names')
    .option('--format <format>')
    .action(async (o: { quiet?: boolean; format?: string; filter?: string[] }, cmd: Command) => {
      const engine = await getEngine(cmd);
      const { filterVolumes, listVolumes } = await volumes();
      const vols = filterVolumes(engine, listVolumes(engine), cliFilters(o.filter));
      if (o.quiet) return out(vols.map((v) => `${v.name}\n`).join(''));
      const rows = vols.map((v) => ({
        Driver: 'local',
        Name: v.name,
        Mountpoint: v.mountpoint,
        Labels: labelsText(v.labels),
        Scope: 'local',
        Availability: 'N/A',
        Group: 'N/A',
        Links: 'N/A',
        Size: 'N/A',
        Status: 'N/A',
        Label: labelMethod(v.labels),
      }));
      out(formatRows(o.format, rows, { headers: ['DRIVER', 'VOLUME NAME'], cells: (r) => [String(r.Driver), String(r.Name)] }, VOLUMES_CONTEXT));
    });
  volume
    .command('inspect')
    .argument('<names...>')
    .option('-f, --format <format>')
    .action(async (names: string[], o: { format?: string }, cmd: Command) => {
      const engine = await getEngine(cmd);
      const { inspectVolumes } = await volumes();
      const { inspectEach, printInspect } = await import('./format-inspect.ts');
      const { views, missing } = await inspectEach(names, async (name) => inspectVolumes(engine, [name]));
      printInspect(o.format, views, { typeName: 'volume.Volume', missing });
    });
  volume
    .command('rm')
    .alias('remove')
    .argument('<names...>')
    .option('-f, --force', 'force the removal of one or more volumes')
    .action(async (names: string[], o: { force?: boolean }, cmd: Command) => {
      const engine = await getEngine(cmd);
      const { removeVolume } = await volumes();
      for (const n of names) {
        await removeVolume(engine, n, o);
        out(`${n}\n`);
      }
    });
  volume.addCommand(volumePrune());
}
