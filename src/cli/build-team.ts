/**
 * `build`'s flags for team and CI builds: `--ssh`, `--build-context`, `--add-host`,
 * `--shm-size`, `--ulimit` (what the builder gets), and `--push`, `--load`, `--metadata-file`
 * (what happens to the image after it).
 */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { BuildOptions, BuildResult } from '../builder/builder.ts';
import { HOST_GATEWAY, splitExtraHost } from '../container/run-config.ts';
import { BerthError } from '../errors/index.ts';
import { DEFAULT_BRIDGE, subnetGateway } from '../network/index.ts';
import { parseUlimit } from '../runtime/ulimits.ts';
import { callerMode } from '../sys/umask.ts';
import type { Engine } from '../engine.ts';
import { collect } from './context.ts';
import { flagChecks } from './run-flags-check.ts';
import { parseBytes } from './run-flags-host.ts';

export interface TeamBuildFlags {
  ssh: string[];
  buildContext: string[];
  addHost: string[];
  shmSize?: string;
  ulimit: string[];
  push?: boolean;
  load?: boolean;
  metadataFile?: string;
}

export function addTeamBuildFlags(cmd: Command): Command {
  return cmd
    .option('--ssh <spec>', 'SSH agent socket or keys to expose to the build (default, or id=path[,path])', collect, [])
    .option('--build-context <name=value>', 'additional build contexts (name=dir, name=docker-image://ref, name=oci-layout://dir[:tag])', collect, [])
    .option('--add-host <host:ip>', 'add a custom host-to-IP mapping to RUN steps (host:ip, or host:host-gateway)', collect, [])
    .option('--shm-size <bytes>', 'size of /dev/shm in RUN steps')
    .option('--ulimit <spec>', 'ulimit options for RUN steps (NAME=SOFT[:HARD])', collect, [])
    .option('--push', 'push the image to its registry (every tag) after the build')
    .option('--load', 'load the image into the image store (what berth build always does)')
    .option('--metadata-file <file>', 'write build result metadata to the file');
}

/** The builder options these flags give, checked before the build starts. */
export async function teamBuildOptions(engine: Engine, f: TeamBuildFlags, tags: readonly string[]): Promise<Partial<BuildOptions>> {
  if (f.push && !tags.length) throw new BerthError('INVALID_ARGUMENT', 'tag is needed when pushing to registry', { hint: 'add -t REGISTRY/NAME:TAG' });
  for (const u of f.ulimit) parseUlimit(u);
  const extraHosts = flagChecks.addHost(f.addHost).map((e) => {
    const { name, ip } = splitExtraHost(e);
    return { name, ip: ip === HOST_GATEWAY ? subnetGateway(DEFAULT_BRIDGE.subnet) : ip };
  });
  const shmSize = parseBytes(f.shmSize, '--shm-size');
  if (shmSize !== undefined && shmSize <= 0)
    throw new BerthError('INVALID_ARGUMENT', `invalid argument "${f.shmSize}" for "--shm-size" flag: must be greater than 0`);
  const { parseSshSpecs } = await import('../builder/ssh.ts');
  const ssh = parseSshSpecs(f.ssh, process.env);
  const namedContexts = f.buildContext.length ? await (await import('../services/build-team.ts')).resolveNamedContexts(engine, f.buildContext) : undefined;
  return {
    ssh,
    namedContexts,
    stepHost: extraHosts.length || shmSize !== undefined || f.ulimit.length ? { extraHosts, shmSize, ulimits: f.ulimit } : undefined,
  };
}

/** `--push` each tag, then `--metadata-file`; lines for the progress view. */
export async function afterTeamBuild(
  engine: Engine,
  f: TeamBuildFlags,
  result: BuildResult,
  tags: readonly string[],
  message: (text: string) => void,
): Promise<void> {
  let pushed: { digest: string; size: number } | undefined;
  if (f.push) {
    const { push } = await import('../services/registry.ts');
    for (const t of tags) {
      message(`pushing ${t}`);
      const r = await push(engine, t);
      pushed = r;
      message(`pushing ${t} done: ${r.digest}`);
    }
  }
  if (f.metadataFile) {
    const { buildMetadata } = await import('../services/build-team.ts');
    const meta = await buildMetadata(engine, result, tags, pushed);
    await writeFile(f.metadataFile, `${JSON.stringify(meta, null, 2)}\n`, { mode: callerMode(0o666) });
  }
}
