/** `berth network create|ls|inspect|rm|prune`. */
import type { Command } from 'commander';
import type { Engine } from '../engine.ts';
import type { NetworkRecord } from '../network/records.ts';
import { createSha256 } from '../sys/crypto.ts';
import { collect, getEngine, out } from './context.ts';
import { formatRows, renderTemplate } from './format.ts';

const lazy = {
  records: () => import('../network/records.ts'),
  user: () => import('../network/user.ts'),
};

function parseLabels(list: string[]): Record<string, string> {
  return Object.fromEntries(list.map((l) => [l.split('=')[0]!, l.includes('=') ? l.slice(l.indexOf('=') + 1) : '']));
}

/** Running containers on `name`, with the address each holds there. */
async function endpoints(engine: Engine, name: string) {
  return engine.containers
    .list()
    .filter((c) => c.config.network === name && c.state.status === 'running')
    .map((c) => ({ id: c.id, name: c.name, ip: c.state.ipAddress }));
}

/** Docker shows the predefined networks with ids of their own; berth derives stable ones. */
function predefinedId(name: string): string {
  return createSha256().update(`berth-network:${name}`).digest('hex');
}

interface Row {
  ID: string;
  Name: string;
  Driver: string;
  Scope: string;
  rec?: NetworkRecord;
}

async function allRows(engine: Engine): Promise<Row[]> {
  const { PREDEFINED_NETWORKS } = await lazy.records();
  const drivers: Record<string, string> = { bridge: 'bridge', host: 'host', none: 'null' };
  const fixed = PREDEFINED_NETWORKS.map((n) => ({ ID: predefinedId(n), Name: n, Driver: drivers[n]!, Scope: 'local' }));
  const user = engine.networks.list().map((rec) => ({ ID: rec.id, Name: rec.name, Driver: 'bridge', Scope: 'local', rec }));
  return [...fixed, ...user].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0)); // bytewise, as docker's Go sort
}

async function inspectView(engine: Engine, row: Row): Promise<Record<string, unknown>> {
  const rec = row.rec;
  const containers = Object.fromEntries(
    (await endpoints(engine, row.Name)).map((e) => [e.id, { Name: e.name, IPv4Address: e.ip && rec ? `${e.ip}/${rec.subnet.split('/')[1]}` : '' }]),
  );
  return {
    Name: row.Name,
    Id: row.ID,
    Created: rec?.created ?? '0001-01-01T00:00:00Z',
    Scope: 'local',
    Driver: row.Driver,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: rec ? [{ Subnet: rec.subnet, Gateway: rec.gateway }] : [] },
    Internal: false,
    Attachable: false,
    Ingress: false,
    Containers: containers,
    Options: rec ? { 'com.docker.network.bridge.name': rec.bridge } : {},
    Labels: rec?.labels ?? {},
  };
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
      const { BerthError } = await import('../errors/index.ts');
      if (o.driver !== 'bridge') throw new BerthError('UNSUPPORTED', `network driver ${o.driver} is not supported`, { hint: 'berth networks use the bridge driver' });
      const rec = await (await lazy.user()).createUserNetwork(engine.networks, name, { subnet: o.subnet, gateway: o.gateway, labels: parseLabels(o.label) });
      out(`${rec.id}\n`);
    });
  network
    .command('ls')
    .alias('list')
    .description('List networks')
    .option('-q, --quiet', 'only display network IDs')
    .option('--no-trunc', 'do not truncate the output')
    .option('--format <format>')
    .action(async (o: { quiet?: boolean; trunc: boolean; format?: string }, cmd: Command) => {
      const engine = await getEngine(cmd);
      const rows = (await allRows(engine)).map((r) => ({ ID: o.trunc ? r.ID.slice(0, 12) : r.ID, Name: r.Name, Driver: r.Driver, Scope: r.Scope }));
      if (o.quiet) return out(rows.map((r) => `${r.ID}\n`).join(''));
      out(formatRows(o.format, rows, { headers: ['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'], cells: (r) => [String(r.ID), String(r.Name), String(r.Driver), String(r.Scope)] }));
    });
  network
    .command('inspect')
    .description('Display detailed information on one or more networks')
    .argument('<networks...>')
    .option('-f, --format <format>')
    .action(async (names: string[], o: { format?: string }, cmd: Command) => {
      const engine = await getEngine(cmd);
      const rows = await allRows(engine);
      const views = [];
      for (const n of names) {
        const row = rows.find((r) => r.Name === n || r.ID === n) ?? rows.find((r) => r.rec?.id === engine.networks.require(n).id)!;
        views.push(await inspectView(engine, row));
      }
      if (o.format) return out(views.map((v) => `${renderTemplate(o.format!, v)}\n`).join(''));
      out(`${JSON.stringify(views, null, 4)}\n`);
    });
  network
    .command('rm')
    .alias('remove')
    .description('Remove one or more networks')
    .argument('<networks...>')
    .action(async (names: string[], _o: unknown, cmd: Command) => {
      const engine = await getEngine(cmd);
      const { isPredefinedNetwork } = await lazy.records();
      const { BerthError } = await import('../errors/index.ts');
      for (const n of names) {
        if (isPredefinedNetwork(n)) throw new BerthError('FAILED_PRECONDITION', `${n} is a pre-defined network and cannot be removed`);
        const rec = engine.networks.require(n);
        const warnings = await (await lazy.user()).removeUserNetwork(engine.networks, rec, (await endpoints(engine, rec.name)).map((e) => e.name));
        for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
        out(`${n}\n`);
      }
    });
  network
    .command('prune')
    .description('Remove all unused networks')
    .option('-f, --force', 'do not prompt for confirmation')
    .action(async (_o: unknown, cmd: Command) => {
      const engine = await getEngine(cmd);
      const used = new Set(engine.containers.list().map((c) => c.config.network));
      const removed: string[] = [];
      for (const rec of engine.networks.list()) {
        if (used.has(rec.name)) continue;
        await (await lazy.user()).removeUserNetwork(engine.networks, rec, []);
        removed.push(rec.name);
      }
      if (removed.length) out(`Deleted Networks:\n${removed.map((n) => `${n}\n`).join('')}`);
    });
}
