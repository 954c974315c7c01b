/**
 * The stage graph of a build, as the builder runs it: which stage is the target, which stages
 * it needs (FROM <stage>, COPY/ADD --from, RUN --mount from=), in what order, each stage's FROM
 * expanded with the global ARGs, and the ARG values that FROM lines and `ARG NAME` defaults
 * see. A cycle between stages is a SYNTAX error at the stage that closes it; an unknown target
 * is NOT_FOUND.
 *
 * Planning is cheap: one pass over the needed stages. A `--from` that holds a variable is
 * expanded in its stage's ARG and ENV scope, for which that stage (and the stages it is built
 * FROM) are walked a second time; the ENV a base image brings is not known before it is
 * pulled, so a `--from` naming a stage through it is found only when the step runs.
 */
import { BerthError } from '../errors/index.ts';
import { formatPlatform, hostPlatform } from '../oci/platform.ts';
import type { Platform } from '../oci/schema.ts';
import { expandInstruction } from './expand.ts';
import { mountFrom } from './flags.ts';
import type { Dockerfile, Instruction, InstructionOf } from './instructions.ts';
import { syntaxError } from './parser.ts';
import { processWord } from './shell.ts';

export const PROXY_ARGS: readonly string[] = [
  'HTTP_PROXY',
  'http_proxy',
  'HTTPS_PROXY',
  'https_proxy',
  'FTP_PROXY',
  'ftp_proxy',
  'NO_PROXY',
  'no_proxy',
  'ALL_PROXY',
  'all_proxy',
];

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

export type StageBase = { readonly kind: 'scratch' } | { readonly kind: 'image'; readonly ref: string } | { readonly kind: 'stage'; readonly index: number };

export interface PlannedStage {
  readonly index: number;
  readonly name?: string;
  /** The FROM line, expanded with the global ARGs. */
  readonly from: InstructionOf<'from'>;
  readonly base: StageBase;
  /** FROM --platform, expanded (e.g. `$BUILDPLATFORM` → `linux/amd64`). */
  readonly platform?: string;
  /** Stages this one needs: its base, COPY/ADD --from and RUN --mount from=, sorted. */
  readonly dependsOn: readonly number[];
}

export interface PlanOptions {
  readonly buildArgs?: ReadonlyMap<string, string> | Readonly<Record<string, string>>;
  /** Stage name (any case) or index; default the last stage. */
  readonly target?: string;
  readonly targetPlatform?: Platform;
  readonly buildPlatform?: Platform;
}

export interface BuildPlan {
  readonly target: number;
  /** Only the stages the target needs, by index. */
  readonly stages: readonly PlannedStage[];
  /** Predefined ARGs and global ARGs, after build args: what FROM lines expand with, and `ARG NAME`'s default. */
  readonly globalArgs: ReadonlyMap<string, string>;
  readonly predefinedArgs: ReadonlyMap<string, string>;
  readonly buildArgs: ReadonlyMap<string, string>;
  /** Proxy build args: passed to RUN without being declared. */
  readonly proxyArgs: ReadonlyMap<string, string>;
  /** Build args that no ARG in the needed stages declares (BuildKit warns about these). */
  readonly unusedBuildArgs: readonly string[];
}

/** Finds a stage by name (case-insensitive) or by index; `before` limits it to earlier stages. */
export function findStage(df: Dockerfile, ref: string, before = df.stages.length): number | undefined {
  const lower = ref.toLowerCase();
  const byName = df.stages.findIndex((s) => s.name === lower && s.index < before);
  if (byName >= 0) return byName;
  return /^\d+$/.test(ref) && Number(ref) < before ? Number(ref) : undefined;
}

/** A word that names another stage, and the instruction it is on. */
interface StageWord {
  readonly inst: Instruction;
  readonly word: string;
  readonly what: string;
}

function stageWords(inst: Instruction): StageWord[] {
  if ((inst.kind === 'copy' || inst.kind === 'add') && inst.flags.from?.[0])
    return [{ inst, word: inst.flags.from[0], what: `${inst.kind.toUpperCase()} --from` }];
  if (inst.kind !== 'run') return [];
  const out: StageWord[] = [];
  for (const m of inst.flags.mount ?? []) {
    const from = mountFrom(m);
    if (from) out.push({ inst, word: from, what: 'RUN --mount from' });
  }
  return out;
}

function toMap(args: PlanOptions['buildArgs']): Map<string, string> {
  return args instanceof Map ? new Map(args) : new Map(Object.entries(args ?? {}));
}

export function planBuild(df: Dockerfile, opts: PlanOptions = {}): BuildPlan {
  const { parsed } = df;
  const buildArgs = toMap(opts.buildArgs);
  const buildPlatform = opts.buildPlatform ?? hostPlatform();
  const predefined = predefinedArgs(opts.targetPlatform ?? buildPlatform, buildPlatform);
  const declared = new Set<string>();

  const globals = new Map(predefined);
  for (const inst of df.globalArgs) {
    for (const a of expandInstruction(inst, globals, parsed).args) {
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

  const fail = (inst: Instruction, msg: string): never => {
    throw syntaxError(parsed.file, parsed.lines, inst.node.startLine, msg);
  };

  const fromOf = new Map<number, { from: InstructionOf<'from'>; base: StageBase }>();
  const stageFrom = (index: number) => {
    const known = fromOf.get(index);
    if (known) return known;
    const stage = df.stages[index]!;
    const from = expandInstruction(stage.from, globals, parsed);
    if (from.image === '') fail(from, 'base name (FROM) should not be blank');
    // FROM names earlier stages only, and by name (an index there is an image name).
    const byName = df.stages.findIndex((s) => s.index < index && s.name === from.image.toLowerCase());
    const base: StageBase =
      byName >= 0 ? { kind: 'stage', index: byName } : from.image.toLowerCase() === 'scratch' ? { kind: 'scratch' } : { kind: 'image', ref: from.image };
    fromOf.set(index, { from, base });
    return fromOf.get(index)!;
  };

  /**
   * A stage's ENV at its end and the value of each variable word, walking its ARG and ENV
   * lines (and its base stage's first). Only for stages with a `--from=$VAR`.
   */
  interface StageScope {
    readonly env: ReadonlyMap<string, string>;
    readonly words: ReadonlyMap<Instruction, ReadonlyMap<string, string>>;
  }
  const scoped = new Map<number, StageScope>();
  const scopeOf = (index: number): StageScope => {
    const known = scoped.get(index);
    if (known) return known;
    const { base } = stageFrom(index);
    const env = new Map<string, string>(base.kind === 'stage' ? scopeOf(base.index).env : []);
    // What words expand with: ARGs, then ENV over them, kept up to date line by line.
    const vars = new Map<string, string>(env);
    const expanded = new Map<Instruction, Map<string, string>>();
    for (const inst of df.stages[index]!.instructions) {
      if (inst.kind === 'arg') {
        for (const a of expandInstruction(inst, vars, parsed).args) {
          const value = buildArgs.get(a.name) ?? a.value ?? globals.get(a.name);
          if (value !== undefined && !env.has(a.name)) vars.set(a.name, value);
        }
      } else if (inst.kind === 'env') {
        for (const [k, v] of expandInstruction(inst, vars, parsed).pairs) {
          env.set(k, v);
          vars.set(k, v);
        }
      }
      for (const w of stageWords(inst)) {
        if (w.word.includes('$')) {
          try {
            if (!expanded.has(inst)) expanded.set(inst, new Map());
            expanded.get(inst)!.set(w.word, processWord(w.word, vars, parsed.escape));
          } catch (e) {
            fail(inst, `failed to expand ${JSON.stringify(w.word)} in ${w.what}: ${(e as Error).message}`);
          }
        }
      }
    }
    const out = { env, words: expanded };
    scoped.set(index, out);
    return out;
  };

  const planned = new Map<number, PlannedStage>();
  const planStage = (index: number): PlannedStage => {
    const known = planned.get(index);
    if (known) return known;
    const stage = df.stages[index]!;
    const { from, base } = stageFrom(index);
    const dependsOn = new Set<number>(base.kind === 'stage' ? [base.index] : []);
    for (const inst of stage.instructions) {
      if (inst.kind === 'arg') for (const a of inst.args) declared.add(a.name);
      for (const w of stageWords(inst)) {
        const ref = w.word.includes('$') ? scopeOf(index).words.get(inst)!.get(w.word)! : w.word;
        const dep = ref === '' ? undefined : findStage(df, ref);
        if (dep === index) fail(inst, `${w.what}=${ref} refers to its own stage`);
        if (dep !== undefined) dependsOn.add(dep);
      }
    }
    const out: PlannedStage = { index, name: stage.name, from, base, platform: from.platform, dependsOn: [...dependsOn].sort((a, b) => a - b) };
    planned.set(index, out);
    return out;
  };

  // Walk the graph from the target; a cycle (A copies from B, B from A) is an error.
  const state = new Map<number, 'visiting' | 'done'>();
  const visit = (index: number, by?: PlannedStage): void => {
    if (state.get(index) === 'done') return;
    if (state.get(index) === 'visiting') {
      const at = by ?? planStage(index);
      fail(at.from, `circular dependency between build stages: stage ${at.name ?? at.index} needs stage ${df.stages[index]!.name ?? index}, which needs it`);
    }
    state.set(index, 'visiting');
    const s = planStage(index);
    for (const d of s.dependsOn) visit(d, s);
    state.set(index, 'done');
  };
  visit(target);

  const proxyArgs = new Map([...buildArgs].filter(([k]) => PROXY_ARGS.includes(k)));
  // BUILDKIT_* and SOURCE_DATE_EPOCH are read by the builder itself, never "unused".
  const builtin = (k: string) => PROXY_ARGS.includes(k) || predefined.has(k) || k.startsWith('BUILDKIT_') || k === 'SOURCE_DATE_EPOCH';
  const unusedBuildArgs = [...buildArgs.keys()].filter((k) => !declared.has(k) && !builtin(k)).sort();
  const stages = [...planned.values()].filter((s) => state.get(s.index) === 'done').sort((a, b) => a.index - b.index);
  return { target, stages, globalArgs: globals, predefinedArgs: predefined, buildArgs, proxyArgs, unusedBuildArgs };
}
