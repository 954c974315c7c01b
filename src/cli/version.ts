/**
 * `berth version`: docker's client and server sections. berth has no daemon: the "server" is
 * the engine in this same process, and its API version is the one `berth serve` speaks. berth
 * is not written in Go: the fields docker fills with Go's version hold Node's, named so.
 */
import { arch as osArch, release } from 'node:os';
import type { Command } from 'commander';
import { API_VERSION, MIN_API_VERSION } from '../api/router.ts';
import { getEngine, out } from './context.ts';
import { BERTH_VERSION } from './version-info.ts';

const GO_ARCH: Readonly<Record<string, string>> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' };

export type VersionView = {
  Client: Record<string, unknown>;
  Server?: Record<string, unknown>;
};

/**
 * The object `--format` templates see, with the fields of docker's and its Go names
 * (`APIVersion`); `--format json` writes the JSON names (`ApiVersion`), as docker does.
 */
export async function versionView(server: () => Promise<{ runcVersion: string }>): Promise<{ view: VersionView; serverError?: unknown }> {
  const platform = { Os: 'linux', Arch: GO_ARCH[osArch()] ?? osArch() };
  const runtime = `node ${process.version}`;
  const Client = {
    Platform: { Name: 'berth' },
    Version: BERTH_VERSION,
    APIVersion: API_VERSION,
    DefaultAPIVersion: API_VERSION,
    GitCommit: '',
    GoVersion: runtime,
    ...platform,
    BuildTime: '',
    Context: 'default',
  };
  try {
    const { runcVersion } = await server();
    const common = { Version: BERTH_VERSION, APIVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, GitCommit: '', GoVersion: runtime, ...platform };
    const Server = {
      Platform: { Name: 'berth' },
      Components: [
        {
          Name: 'Engine',
          Version: BERTH_VERSION,
          Details: {
            ApiVersion: API_VERSION,
            MinAPIVersion: MIN_API_VERSION,
            GitCommit: '',
            GoVersion: runtime,
            ...platform,
            BuildTime: '',
            Experimental: 'false',
            KernelVersion: release(),
          },
        },
        { Name: 'runc', Version: runcVersion, Details: { GitCommit: '' } },
      ],
      ...common,
      KernelVersion: release(),
      BuildTime: '',
    };
    return { view: { Client, Server } };
  } catch (e) {
    return { view: { Client }, serverError: e };
  }
}

function pad(label: string, width: number): string {
  return `${label}:`.padEnd(width);
}

/** docker's layout: labels padded to one column, the server's components indented under it. */
export function versionText(v: VersionView): string {
  const c = v.Client;
  const lines = [
    'Client:',
    ` ${pad('Version', 18)}${c.Version}`,
    ` ${pad('API version', 18)}${c.APIVersion}`,
    ` ${pad('Node version', 18)}${process.version}`,
    ` ${pad('Git commit', 18)}${c.GitCommit}`,
    ` ${pad('Built', 18)}${c.BuildTime}`,
    ` ${pad('OS/Arch', 18)}${c.Os}/${c.Arch}`,
    ` ${pad('Context', 18)}${c.Context}`,
  ];
  const s = v.Server;
  if (s) {
    lines.push('', 'Server: berth (no daemon: the engine in this process)');
    for (const comp of s.Components as Array<{ Name: string; Version: string; Details: Record<string, string> }>) {
      const d = comp.Details;
      lines.push(` ${comp.Name}:`, `  ${pad('Version', 17)}${comp.Version}`);
      if (comp.Name === 'Engine') {
        lines.push(
          `  ${pad('API version', 17)}${d.ApiVersion} (minimum version ${d.MinAPIVersion})`,
          `  ${pad('Node version', 17)}${process.version}`,
          `  ${pad('Git commit', 17)}${d.GitCommit}`,
          `  ${pad('Built', 17)}${d.BuildTime}`,
          `  ${pad('OS/Arch', 17)}${d.Os}/${d.Arch}`,
          `  ${pad('Experimental', 17)}${d.Experimental}`,
        );
      } else {
        lines.push(`  ${pad('GitCommit', 17)}${d.GitCommit}`);
      }
    }
  }
  return `${lines.map((l) => l.trimEnd()).join('\n')}\n`;
}

export function register(program: Command): void {
  program
    .command('version')
    .description('Show the berth version information')
    .option('-f, --format <format>', "format the output using a custom template: 'json' or a Go template")
    .action(async (o: { format?: string }, cmd: Command) => {
      const { view, serverError } = await versionView(async () => {
        const engine = await getEngine(cmd);
        const { systemInfo } = await import('../services/system.ts');
        return { runcVersion: (await systemInfo(engine)).RuncVersion };
      });
      if (o.format === 'json') out(`${JSON.stringify(view).replace(/"APIVersion":/g, '"ApiVersion":')}\n`);
      else if (o.format) out(`${(await import('./format.ts')).renderTemplate(o.format, view)}\n`);
      else out(versionText(view));
      if (serverError) throw serverError;
    });
}
