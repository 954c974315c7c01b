/** `berth network create|ls|inspect|rm|prune`. */
import type { Command } from 'commander';
import { collect, getEngine, out } from './context.ts';
import { addFilterOption, cliFilters } from './filter-option.ts';
import { networkPrune } from './prune.ts';
import { formatRows, goTime, labelMethod, labelsText, NETWORKS_CONTEXT } from './format.ts';
import { inspectEach, printInspect } from './format-inspect.ts';

const networks = () => import('../services/networks.ts');

function parseLabels(list: string[]): Record<string, string> {
  return Object.fromEntries(list.map((l) => [l.split('=')[0]!, l.includes('=') ? l.slice(l.indexOf('=') + 1) : '']));
}

export function register(program: Command): void {
  const network = program.command('network').description('Manage networks');
  network
    .command('create')
    .description('Create a network')
    .argument('<name>')
    .option('-d, --driver <driver>', 'driver to manage the network', 'bridge')
    .option('--subnet <cidr>', 'subnet in CIDR format')
    .option('--gateway <ip>', 'IPv4 gateway for the subnet')
    .option('--label <label>', 'set metadata on a network', collect, [])
    .action(async (name: string, o: { driver: string; subnet?: string; gateway?: string; label: string[] }, cmd: Command) => {
      const engine = await getEngine(cmd);
      const rec = await (await networks()).createNetwork(engine, name, {
        driver: o.driver,
        subnet: o.subnet,
        gateway: o.gateway,
        labels: parseLabels(o.label),
      });
      out(`${rec.id}\n`);
    });
  addFilterOption(network.command('ls').alias('list').description('List networks'), { short: true })
    .option('-q, --quiet', 'only display network IDs')
    .option('--no-trunc', 'do not truncate the output')
    .option('--format <format>')
    .action(async (o: { quiet?: boolean; trunc: boolean; format?: string; filter?: string[] }, cmd: Command) => {
      const engine = await getEngine(cmd);
      const { filterNetworks, listNetworks } = await networks();
      const rows = filterNetworks(engine, listNetworks(engine), cliFilters(o.filter)).map((r) => ({
        ID: o.trunc ? r.ID.slice(0, 12) : r.ID,
        Name: r.Name,
        Driver: r.Driver,
        Scope: r.Scope,
        IPv4: 'false',
        IPv6: 'false',
        Internal: 'false',
        Labels: labelsText(r.rec?.labels ?? {}),
        CreatedAt: r.rec ? goTime(r.rec.created, true) : '',
        Label: labelMethod(r.rec?.labels ?? {}),
      }));
      if (o.quiet) return out(rows.map((r) => `${r.ID}\n`).join(''));
      out(
        formatRows(
          o.format,
          rows,
          {
            headers: ['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'],
            cells: (r) => [String(r.ID), String(r.Name), String(r.Driver), String(r.Scope)],
          },
          NETWORKS_CONTEXT,
        ),
      );
    });
  network
    .command('inspect')
    .description('Display detailed information on one or more networks')
    .argument('<networks...>')
    .option('-f, --format <format>')
    .action(async (names: string[], o: { format?: string }, cmd: Command) => {
      const engine = await getEngine(cmd);
      const { inspectNetworks } = await networks();
      const { views, missing } = await inspectEach(names, async (name) => inspectNetworks(engine, [name]));
      printInspect(o.format, views, { missing });
    });
  network
    .command('rm')
    .alias('remove')
    .description('Remove one or more networks')
    .argument('<networks...>')
    .action(async (names: string[], _o: unknown, cmd: Command) => {
      const engine = await getEngine(cmd);
      const { removeNetwork } = await networks();
      for (const n of names) {
        const warnings = await removeNetwork(engine, n);
        for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
        out(`${n}\n`);
      }
    });
  network.addCommand(networkPrune());
}
