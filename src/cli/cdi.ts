/**
 * `berth cdi list`: the CDI devices the spec directories define, each with its kind and
 * spec file, and a warning line for every spec file that was left out (unknown field, bad
 * version, broken YAML, a device two files define). The spec directories are the global
 * `--cdi-spec-dir`, else BERTH_CDI_SPEC_DIRS, else /etc/cdi and /var/run/cdi.
 */
import type { Command } from 'commander';
import { group, out } from './context.ts';
import { formatRows } from './format.ts';

export function register(program: Command): void {
  group(program, 'cdi', 'Manage CDI devices (Container Device Interface)')
    .command('list')
    .alias('ls')
    .description('List the CDI devices the spec files define')
    .option('-q, --quiet', 'only display device names')
    .option('--format <format>', "format the output: 'table', 'json', or a Go template")
    .action(async (o: { quiet?: boolean; format?: string }) => {
      const { cdiSpecDirs, loadCdiRegistry } = await import('../cdi/index.ts');
      const registry = await loadCdiRegistry(cdiSpecDirs());
      for (const e of registry.errors) process.stderr.write(`WARNING: CDI spec ${e.path}: ${e.message}\n`);
      const rows = [...registry.devices.values()].map((d) => ({
        Name: d.name,
        Kind: d.kind,
        Device: d.device.name,
        Spec: d.spec.path,
        CDIVersion: d.spec.spec.cdiVersion,
      }));
      if (o.quiet) return out(rows.map((r) => `${r.Name}\n`).join(''));
      out(formatRows(o.format, rows, { headers: ['NAME', 'CDI VERSION', 'SPEC FILE'], cells: (r) => [String(r.Name), String(r.CDIVersion), String(r.Spec)] }));
    });
}
