/**
 * Stages as the builder sees them: the target's stages, each instruction's words expanded
 * in the environment in effect at that point of its stage, following BuildKit's ARG rules:
 *
 * - Global ARGs (before the first FROM) and the predefined platform ARGs are visible in
 *   FROM lines only. Inside a stage an ARG must be declared (`ARG NAME`) to be visible;
 *   a redeclared global ARG takes the global value, a predefined one its platform value.
 * - `--build-arg` overrides a declared ARG's default. Proxy variables (HTTP_PROXY, …) need
 *   no declaration: they reach RUN's environment, not word expansion.
 * - ENV accumulates through the stage and is inherited by stages built FROM it (and from
 *   a base image, through `imageEnv`); ENV wins over an ARG of the same name.
 *
 * The builder knows a base image's ENV only after pulling it, so it may call
 * `resolveBuild` once without `imageEnv` to learn the images, then again with it.
 */
import { BerthError } from '../errors/index.ts';
import { formatPlatform, hostPlatform } from '../oci/platform.ts';
import type { Platform } from '../oci/schema.ts';
import { expandInstruction } from './expand.ts';
import type { Dockerfile, Instruction, Stage } from './instructions.ts';
import { syntaxError } from './parser.ts';

export const PROXY_ARGS: readonly string[] = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy'];

/** TARGETPLATFORM/OS/ARCH/VARIANT and BUILDPLATFORM/OS/ARCH/VARIANT. */
export function predefinedArgs(target: Platform, build: Platform): Map<string, string> {
  return new Map([
    ['TARGETPLATFORM', formatPlatform(target)],
    ['TARGETOS', target.os],
    ['TARGETARCH', target.architecture],
    ['TARGETVARIANT', target.variant ?? ''],
    ['BUILDPLATFORM', formatPlatform(build)],
    ['BUILDOS', build.os],
    ['BUILDARCH', build.architecture],
    ['BUILDVARIANT', build.variant ?? ''],
  ]);
}

/** The variables in effect just before an instruction runs. */
export interface Scope {
  /** ARGs declared in the stage so far, with their values (declared but unset ones absent). */
  readonly args: ReadonlyMap<string, string>;
  /** ENV: the base's, then this stage's, in order. */
  readonly env: ReadonlyMap<string, string>;
}

/** A typed instruction with its words expanded, plus the scope it ran in. */
export type ResolvedInstruction = Instruction & { readonly scope: Scope };

export type StageBase = { readonly kind: 'scratch' } | { readonly kind: 'image'; readonly ref: string } | { readonly kind: 'stage'; readonly index: number };

export interface ResolvedStage {
  readonly index: number;
  readonly name?: string;
  /** The FROM line, expanded with the global ARGs. */
  readonly from: Extract<Instruction, { kind: 'from' }>;
  readonly base: StageBase;
  /** FROM --platform, expanded (e.g. `$BUILDPLATFORM` → `linux/amd64`). */
  readonly platform?: string;
  readonly instructions: readonly ResolvedInstruction[];
  /** Stages this one needs: its base, COPY --from and RUN --mount from=, sorted. */
  readonly dependsOn: readonly number[];
  /** The scope after the last instruction (what a stage built FROM this one inherits as ENV). */
  readonly final: Scope;
}

export interface ResolveOptions {
  readonly buildArgs?: ReadonlyMap<string, string> | Readonly<Record<string, string>>;
  /** Stage name or index; default the last stage. */
  readonly target?: string;
  readonly targetPlatform?: Platform;
  readonly buildPlatform?: Platform;
  /** A base image's ENV (`K=V` entries), once the builder knows it. */
  readonly imageEnv?: (ref: string, stage: { readonly index: number; readonly platform?: string }) => readonly string[] | undefined;
}

export interface ResolvedBuild {
  readonly target: number;
  /** Only the stages the target needs, by index. */
  readonly stages: readonly ResolvedStage[];
  /** Predefined ARGs and global ARGs, after build args: what FROM lines expand with. */
  readonly globalArgs: ReadonlyMap<string, string>;
  /** Proxy build args: passed to RUN without being declared. */
  readonly proxyArgs: ReadonlyMap<string, string>;
  /** Build args that no ARG in the needed stages declares (BuildKit warns about these). */
  readonly unusedBuildArgs: readonly string[];
}

/** ARGs, then ENV over them: what words expand with. */
export function expansionEnv(scope: Scope): Map<string, string> {
  return new Map([...scope.args, ...scope.env]);
}

/** RUN's environment: proxy build args, declared ARGs, then ENV (which wins). */
export function runEnvironment(scope: Scope, proxyArgs: ReadonlyMap<string, string>): Map<string, string> {
  return new Map([...proxyArgs, ...scope.args, ...scope.env]);
}

/** Finds a stage by name (case-insensitive) or by index; `before` limits it to earlier stages. */
export function findStage(df: Dockerfile, ref: string, before = df.stages.length): number | undefined {
  const lower = ref.toLowerCase();
  const byName = df.stages.findIndex((s) => s.name === lower && s.index < before);
  if (byName >= 0) return byName;
  return /^\d+$/.test(ref) && Number(ref) < before ? Number(ref) : undefined;
}

function envFromList(list: readonly string[] | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of list ?? []) {
    const i = e.indexOf('=');
    m.set(i < 0 ? e : e.slice(0, i), i < 0 ? '' : e.slice(i + 1));
  }
  return m;
}

/** `type=cache,from=builder,target=/x` → `builder`. */
function mountFrom(spec: string): string | undefined {
  for (const part of spec.split(',')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim().toLowerCase() === 'from') return part.slice(i + 1).trim();
  }
  return undefined;
}

export function resolveBuild(df: Dockerfile, opts: ResolveOptions = {}): ResolvedBuild {
  const { parsed } = df;
  const buildArgs = opts.buildArgs instanceof Map ? new Map(opts.buildArgs) : new Map(Object.entries(opts.buildArgs ?? {}));
  const buildPlatform = opts.buildPlatform ?? hostPlatform();
  const predefined = predefinedArgs(opts.targetPlatform ?? buildPlatform, buildPlatform);
  const declared = new Set<string>();

  const globals = new Map(predefined);
  for (const inst of df.globalArgs) {
    const arg = expandInstruction(inst, globals, parsed);
    for (const a of arg.args) {
      declared.add(a.name);
      const value = buildArgs.get(a.name) ?? a.value;
      if (value !== undefined) globals.set(a.name, value);
    }
  }

  const target = opts.target === undefined ? df.stages.length - 1 : findStage(df, opts.target);
  if (target === undefined) {
    throw new BerthError('NOT_FOUND', `target stage "${opts.target}" could not be found`, {
      hint: `stages: ${df.stages.map((s) => s.name ?? String(s.index)).join(', ')}`,
    });
  }

  const done = new Map<number, ResolvedStage>();
  const resolve = (index: number): ResolvedStage => {
    const ready = done.get(index);
    if (ready) return ready;
    const stage = resolveStage(df, df.stages[index]!, { globals, predefined, buildArgs, declared, opts, resolve });
    done.set(index, stage);
    return stage;
  };

  // Walk the dependency graph from the target; a cycle (A copies from B, B from A) is an error.
  const state = new Map<number, 'visiting' | 'done'>();
  const visit = (index: number, from?: ResolvedStage): void => {
    if (state.get(index) === 'done') return;
    if (state.get(index) === 'visiting') {
      const at = from ?? resolve(index);
      throw syntaxError(parsed.file, parsed.lines, at.from.node.startLine, `circular dependency between build stages: stage ${at.name ?? at.index} needs stage ${df.stages[index]!.name ?? index}`);
    }
    state.set(index, 'visiting');
    const s = resolve(index);
    for (const d of s.dependsOn) visit(d, s);
    state.set(index, 'done');
  };
  visit(target);

  const proxyArgs = new Map([...buildArgs].filter(([k]) => PROXY_ARGS.includes(k)));
  // BUILDKIT_* and SOURCE_DATE_EPOCH are read by the builder itself, never "unused".
  const builtin = (k: string) => PROXY_ARGS.includes(k) || predefined.has(k) || k.startsWith('BUILDKIT_') || k === 'SOURCE_DATE_EPOCH';
  const unusedBuildArgs = [...buildArgs.keys()].filter((k) => !declared.has(k) && !builtin(k)).sort();
  const stages = [...done.values()].filter((s) => state.get(s.index) === 'done').sort((a, b) => a.index - b.index);
  return { target, stages, globalArgs: globals, proxyArgs, unusedBuildArgs };
}

interface StageInputs {
  readonly globals: ReadonlyMap<string, string>;
  readonly predefined: ReadonlyMap<string, string>;
  readonly buildArgs: ReadonlyMap<string, string>;
  readonly declared: Set<string>;
  readonly opts: ResolveOptions;
  readonly resolve: (index: number) => ResolvedStage;
}

function resolveStage(df: Dockerfile, stage: Stage, io: StageInputs): ResolvedStage {
  const { parsed } = df;
  const from = expandInstruction(stage.from, io.globals, parsed);
  const fail = (inst: Instruction, msg: string): never => {
    throw syntaxError(parsed.file, parsed.lines, inst.node.startLine, msg);
  };
  const dependsOn = new Set<number>();
  let base: StageBase;
  let env: ReadonlyMap<string, string>;
  if (from.image === '') fail(from, 'base name (FROM) should not be blank');
  // FROM refers to earlier stages by name only (an index is an image name there).
  const baseStage = df.stages.findIndex((s) => s.index < stage.index && s.name === from.image.toLowerCase());
  if (baseStage >= 0) {
    base = { kind: 'stage', index: baseStage };
    dependsOn.add(baseStage);
    env = io.resolve(baseStage).final.env;
  } else if (from.image.toLowerCase() === 'scratch') {
    base = { kind: 'scratch' };
    env = new Map();
  } else {
    base = { kind: 'image', ref: from.image };
    env = envFromList(io.opts.imageEnv?.(from.image, { index: stage.index, platform: from.platform }));
  }

  let args: ReadonlyMap<string, string> = new Map();
  const instructions: ResolvedInstruction[] = [];
  let scope: Scope = { args, env };
  let words = expansionEnv(scope); // rebuilt only when an ARG or ENV changes it
  for (const inst of stage.instructions) {
    if (scope.args !== args || scope.env !== env) {
      scope = { args, env };
      words = expansionEnv(scope);
    }
    const x = expandInstruction(inst, words, parsed);
    instructions.push({ ...x, scope });
    switch (x.kind) {
      case 'arg': {
        const next = new Map(args);
        for (const a of x.args) {
          io.declared.add(a.name);
          const value = io.buildArgs.get(a.name) ?? a.value ?? io.globals.get(a.name) ?? io.predefined.get(a.name);
          if (value !== undefined) next.set(a.name, value);
        }
        args = next;
        break;
      }
      case 'env': {
        const next = new Map(env);
        for (const [k, v] of x.pairs) next.set(k, v);
        env = next;
        break;
      }
      case 'copy':
      case 'add': {
        const ref = x.flags.from?.[0];
        if (ref === undefined) break;
        const i = findStage(df, ref);
        if (i === stage.index) fail(x, `COPY --from=${ref} refers to its own stage`);
        if (i !== undefined) dependsOn.add(i);
        break;
      }
      case 'run':
        for (const m of x.flags.mount ?? []) {
          const ref = mountFrom(m);
          const i = ref === undefined ? undefined : findStage(df, ref);
          if (i === stage.index) fail(x, `RUN --mount from=${ref} refers to its own stage`);
          if (i !== undefined) dependsOn.add(i);
        }
        break;
      default:
        break;
    }
  }
  return {
    index: stage.index,
    name: stage.name,
    from,
    base,
    platform: from.platform,
    instructions,
    dependsOn: [...dependsOn].sort((a, b) => a - b),
    final: { args, env },
  };
}
