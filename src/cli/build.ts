/** `berth build`: docker's flags, BuildKit-style progress, an image in the store. */
import { readFile, writeFile } from 'node:fs/promises';
import type { BuildContext } from '../builder/context.ts';
import type { Command } from 'commander';
import { keyValueMap } from '../dockerfile/key-values.ts';
import { BerthError } from '../errors/index.ts';
import { callerMode } from '../sys/umask.ts';
import { markSteps } from '../progress/timing.ts';
import { collect, getEngine, out } from './context.ts';

interface BuildFlags {
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
  program
    .command('build')
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
    .option('--check', 'treat lint findings (warnings and errors) as build errors')
    .option('--device <name>', 'give a CDI device (vendor.com/class=name) to every RUN step; needs --allow device', collect, [])
    .option('--allow <entitlement>', 'grant an entitlement: device (RUN --device), device=NAME', collect, [])
    .action(async (contextArg: string, f: BuildFlags, cmd: Command) => {
      const engine = await getEngine(cmd);
      const { buildImage, isContextArchive, resolveBuildInput } = await import('../services/build.ts');
      const { progressRenderer } = await import('../progress/index.ts');
      const stdin = contextArg === '-' ? await readStdin() : undefined;
      // A context archive's reader (tar, zod schemas) is loaded only by the builds that get one.
      const input =
        stdin && isContextArchive(stdin)
          ? await (await import('../services/build-archive.ts')).contextFromArchive(engine, stdin, f.file)
          : await resolveBuildInput(contextArg, { file: f.file, stdin });
      const { contextDir, dockerfile } = input;
      const useTty = !f.quiet && (f.progress === 'tty' || (f.progress === 'auto' && process.stderr.isTTY && !process.env.CI));
      const mode = f.quiet ? 'quiet' : f.progress === 'rawjson' ? 'rawjson' : 'plain';
      const { ttyRenderer } = await import('../progress/tty.ts');
      const tty = useTty ? ttyRenderer((s) => process.stderr.write(s)) : undefined;
      const progress = markSteps(tty ?? progressRenderer(mode, (s) => process.stderr.write(s)));
      const { BuildContext } = await import('../builder/context.ts');
      const context = contextDir
        ? await BuildContext.open(contextDir, dockerfile.path, engine.fileHashes, { warn: (text) => progress.emit({ kind: 'warning', text }) })
        : undefined;
      // With --check the findings stop the build before it starts; without, they are only
      // warnings, and the lint runs beside the build (it changes nothing the build does).
      let linted: Promise<void> | undefined;
      const lintNow = () => (linted ??= lintBeforeBuild(dockerfile, context, progress, !!f.check));
      if (f.check) await lintNow();
      else void lintNow().catch(() => undefined);
      const epoch = process.env.SOURCE_DATE_EPOCH ? Number(process.env.SOURCE_DATE_EPOCH) : undefined;
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
        });
        await lintNow();
        const id = result.index?.digest ?? result.image.id; // a multi-platform build's id is its index's, as BuildKit prints it
        if (f.iidfile) await writeFile(f.iidfile, id, { mode: callerMode(0o666) });
        if (f.output) {
          const { exportImage } = await import('../services/build-export.ts');
          await exportImage(engine, result, f.output, f.tag);
        }
        if (f.quiet) out(`${id}\n`);
        else {
          progress.emit({ kind: 'message', text: `writing image ${id} done` });
          for (const t of f.tag) progress.emit({ kind: 'message', text: `naming to ${t} done` });
        }
      } finally {
        tty?.finish();
        await input.cleanup();
      }
    });
}

/** The linter's findings as warnings before the build starts; with --check they stop it. */
async function lintBeforeBuild(
  dockerfile: { path: string; content: string },
  context: BuildContext | undefined,
  progress: { emit(ev: { kind: 'warning'; text: string }): void },
  check: boolean,
): Promise<void> {
  const { loadDockerfile } = await import('../dockerfile/index.ts');
  const { lint } = await import('../lint/index.ts');
  const { lintContext } = await import('../services/lint-context.ts');
  const lintCtx = context ? lintContext(context.dir, { sizeBytes: () => context.sizeBytes() }) : undefined;
  const findings = await lint({ file: dockerfile.path, dockerfile: loadDockerfile(dockerfile.content, dockerfile.path), context: lintCtx });
  const relevant = findings.filter((f) => f.severity !== 'info');
  for (const f of relevant) progress.emit({ kind: 'warning', text: `${f.ruleId}: ${f.message} (line ${f.line})` });
  if (check && relevant.length) {
    throw new BerthError('FAILED_PRECONDITION', `lint found ${relevant.length} problem(s) and --check is set`, {
      hint: 'run `berth lint` for details and fixes',
    });
  }
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
