/** `berth build`: docker's flags, BuildKit-style progress, an image in the store. */
import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { keyValueMap } from '../dockerfile/key-values.ts';
import { BerthError } from '../errors/index.ts';
import { callerMode } from '../sys/umask.ts';
import { markSteps } from '../progress/timing.ts';
import { collect, getEngine, out } from './context.ts';
import { addTeamBuildFlags, afterTeamBuild, teamBuildOptions, type TeamBuildFlags } from './build-team.ts';

interface BuildFlags extends TeamBuildFlags {
  check?: boolean;
  tag: string[];
  file?: string;
  buildArg: string[];
  target?: string;
  cache: boolean;
  pull?: boolean;
  label: string[];
  platform?: string;
  network: string;
  secret: string[];
  iidfile?: string;
  output?: string;
  progress: string;
  quiet?: boolean;
  device: string[];
  allow: string[];
  cacheFrom: string[];
  cacheTo: string[];
}

function keyValues(list: readonly string[], flag: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const item of list) {
    const i = item.indexOf('=');
    if (i <= 0) {
      const v = process.env[item];
      if (v !== undefined) m.set(item, v);
      else if (flag !== '--build-arg') throw new BerthError('INVALID_ARGUMENT', `invalid ${flag} "${item}"`, { hint: `use ${flag} KEY=VALUE` });
      continue;
    }
    m.set(item.slice(0, i), item.slice(i + 1));
  }
  return m;
}

async function readSecrets(specs: readonly string[]): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const spec of specs) {
    const kv = Object.fromEntries(keyValueMap(spec, '--secret'));
    const unknown = Object.keys(kv).find((k) => !['id', 'src', 'source', 'env', 'type'].includes(k));
    if (unknown)
      throw new BerthError('INVALID_ARGUMENT', `invalid --secret "${spec}": unexpected key "${unknown}"`, { hint: 'use id=NAME,src=FILE or id=NAME,env=VAR' });
    if (kv.type === 'env') kv.env ??= kv.src ?? kv.source ?? kv.id;
    else if (kv.type !== undefined && kv.type !== 'file') throw new BerthError('INVALID_ARGUMENT', `invalid --secret "${spec}": type is file or env`);
    const id = kv.id;
    if (!id) throw new BerthError('INVALID_ARGUMENT', `invalid --secret "${spec}": id is required`);
    if (kv.env) {
      const v = process.env[kv.env];
      if (v === undefined) throw new BerthError('NOT_FOUND', `secret ${id}: environment variable ${kv.env} is not set`);
      out.set(id, Buffer.from(v));
    } else {
      const src = kv.src ?? kv.source;
      if (!src) throw new BerthError('INVALID_ARGUMENT', `invalid --secret "${spec}": give src=FILE or env=VAR`);
      out.set(
        id,
        await readFile(src).catch((e: Error) => {
          throw new BerthError('NOT_FOUND', `secret ${id}: cannot read ${src}: ${e.message}`);
        }),
      );
    }
  }
  return out;
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export function register(program: Command): void {
  addTeamBuildFlags(program.command('build'))
    .description('Build an image from a Dockerfile')
    .argument('<context>', 'a directory, or - for a Dockerfile or a context tar on stdin')
    .option('-t, --tag <name>', 'name and optionally a tag (name:tag)', collect, [])
    .option('-f, --file <path>', 'name of the Dockerfile (default: CONTEXT/Dockerfile)')
    .option('--build-arg <arg>', 'set build-time variables', collect, [])
    .option('--target <stage>', 'set the target build stage to build')
    .option('--no-cache', 'do not use cache when building the image')
    .option('--pull', 'always attempt to pull a newer version of the image')
    .option('--label <label>', 'set metadata for an image', collect, [])
    .option('--platform <platform>', 'set platform for the build')
    .option('--network <mode>', 'networking mode for the RUN instructions (default, none, host)', 'default')
    .option('--secret <spec>', 'secret to expose to the build (id=mysecret,src=/local/secret or env=VAR)', collect, [])
    .option('--iidfile <file>', 'write the image ID to the file')
    .option('-o, --output <spec>', 'output destination (type=local|tar|oci|docker,dest=path)')
    .option('--progress <mode>', 'progress output (auto, plain, tty, rawjson, quiet)', 'auto')
    .option('-q, --quiet', 'suppress the build output and print image ID on success')
    .option('--check', "run BuildKit's and berth's checks and report them, without building (exit 1 on any finding)")
    .option('--device <name>', 'give a CDI device (vendor.com/class=name) to every RUN step; needs --allow device', collect, [])
    .option('--allow <entitlement>', 'grant an entitlement: device (RUN --device), device=NAME', collect, [])
    .option('--cache-from <spec>', 'external cache sources (type=registry,ref=REF or type=local,src=DIR)', collect, [])
    .option('--cache-to <spec>', 'cache export destinations (type=registry,ref=REF[,mode=max][,mounts=true], type=local,dest=DIR, type=inline)', collect, [])
    .action(async (contextArg: string, f: BuildFlags, cmd: Command) => {
      const engine = await getEngine(cmd);
      const { buildImage, isContextArchive, resolveBuildInput } = await import('../services/build.ts');
      const { progressMode, progressRenderer } = await import('../progress/index.ts');
      const stdin = contextArg === '-' ? await readStdin() : undefined;
      // A context archive's reader (tar, zod schemas) is loaded only by the builds that get one.
      const input =
        stdin && isContextArchive(stdin)
          ? await (await import('../services/build-archive.ts')).contextFromArchive(engine, stdin, f.file)
          : await resolveBuildInput(contextArg, { file: f.file, stdin });
      const { contextDir, dockerfile } = input;
      const mode = progressMode(f.quiet ? 'quiet' : f.progress, process.env.BUILDKIT_PROGRESS, !!process.stderr.isTTY && !process.env.CI);
      const { ttyRenderer } = await import('../progress/tty.ts');
      const tty = mode === 'tty' ? ttyRenderer((s) => process.stderr.write(s)) : undefined;
      const { failureRecorder } = await import('../progress/failure.ts');
      const failures = failureRecorder(tty ?? progressRenderer(mode, (s) => process.stderr.write(s)));
      const progress = markSteps(failures);
      const { BuildContext } = await import('../builder/context.ts');
      const context = contextDir
        ? await BuildContext.open(contextDir, dockerfile.path, engine.fileHashes, { warn: (text) => progress.emit({ kind: 'warning', text }) })
        : undefined;
      const checks = await import('./build-check.ts');
      const scope = { context, stores: engine, platform: f.platform };
      if (f.check) {
        // As `docker build --check`: the report, exit 1 on any finding, and no build.
        process.exitCode = await checks.runChecks(dockerfile, scope, out);
        await input.cleanup();
        return;
      }
      // The findings are warnings, and the lint runs beside the build (it changes nothing the
      // build does), unless the Dockerfile says `# check=error=true`: then they stop it first.
      let linted: Promise<void> | undefined;
      const lintNow = () => (linted ??= checks.warnBeforeBuild(dockerfile, scope, progress));
      if (checks.checksMustPass(dockerfile.content)) await lintNow();
      else void lintNow().catch(() => undefined);
      const team = await teamBuildOptions(engine, f, f.tag);
      const epoch = process.env.SOURCE_DATE_EPOCH ? Number(process.env.SOURCE_DATE_EPOCH) : undefined;
      const caches =
        f.cacheFrom.length || f.cacheTo.length
          ? await (await import('../services/build-remote-cache.ts')).openBuildCaches(engine, {
              cacheFrom: f.cacheFrom,
              cacheTo: f.cacheTo,
              warn: (text) => progress.emit({ kind: 'warning', text }),
            })
          : undefined;
      const ac = new AbortController();
      process.once('SIGINT', () => ac.abort());
      try {
        const result = await buildImage(engine, {
          contextDir,
          context,
          dockerfile,
          tags: f.tag,
          buildArgs: keyValues(f.buildArg, '--build-arg'),
          target: f.target,
          noCache: !f.cache,
          labels: Object.fromEntries(keyValues(f.label, '--label')),
          platform: f.platform,
          network: f.network,
          secrets: await readSecrets(f.secret),
          sourceDateEpoch: epoch !== undefined && Number.isFinite(epoch) ? epoch : undefined,
          pull: !!f.pull,
          progress,
          signal: ac.signal,
          devices: await buildDevices(f),
          remoteCache: caches,
          ...team,
        });
        await caches?.export(result.stage.layers, (text) => progress.emit({ kind: 'message', text }));
        await lintNow();
        const id = result.index?.digest ?? result.image.id; // a multi-platform build's id is its index's, as BuildKit prints it
        if (f.iidfile) await writeFile(f.iidfile, id, { mode: callerMode(0o666) });
        if (f.output) {
          const { exportImage } = await import('../services/build-export.ts');
          await exportImage(engine, result, f.output, f.tag);
        }
        await afterTeamBuild(engine, f, result, f.tag, (text) => progress.emit({ kind: 'message', text }));
        if (f.quiet) out(`${id}\n`);
        else {
          progress.emit({ kind: 'message', text: `writing image ${id} done` });
          for (const t of f.tag) progress.emit({ kind: 'message', text: `naming to ${t} done` });
        }
      } catch (e) {
        // The failing step's block and its Dockerfile lines follow the progress, as BuildKit's do.
        tty?.finish();
        if (mode === 'plain' || mode === 'tty') process.stderr.write(failures.report({ name: basename(dockerfile.path), content: dockerfile.content }));
        throw e;
      } finally {
        tty?.finish();
        await input.cleanup();
      }
    });
}

/** `--device` and `--allow` as the builder's BuildDevices: `build --device` is a grant only with `--allow device`. */
async function buildDevices(f: BuildFlags): Promise<import('../builder/devices.ts').BuildDevices> {
  const { parseAllow } = await import('../builder/devices.ts');
  const { cdiSpecDirs, parseQualifiedName } = await import('../cdi/index.ts');
  const allowed = parseAllow(f.allow);
  for (const d of f.device) {
    parseQualifiedName(d);
    if (allowed !== true && !(Array.isArray(allowed) && allowed.includes(d))) {
      throw new BerthError('FAILED_PRECONDITION', `build --device ${d} needs the device entitlement`, { hint: `add --allow device (or --allow device=${d})` });
    }
  }
  return { allowed, all: f.device, specDirs: cdiSpecDirs() };
}
