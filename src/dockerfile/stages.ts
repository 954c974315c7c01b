/**
 * The planned stages (plan.ts) with each instruction's words expanded in the environment in
 * effect at that point of its stage, following BuildKit's ARG rules:
 *
 * - Global ARGs (before the first FROM) and the predefined platform ARGs are visible in
 *   FROM lines only. Inside a stage an ARG must be declared (`ARG NAME`) to be visible;
 *   a redeclared global ARG takes the global value, a predefined one its platform value.
 * - `--build-arg` overrides a declared ARG's default. Proxy variables (HTTP_PROXY, …) need
 *   no declaration: they reach RUN's environment, not word expansion.
 * - ENV accumulates through the stage and is inherited by stages built FROM it (and from
 *   a base image, through `imageEnv`); ENV wins over an ARG of the same name.
 *
 * A base image's ENV is known only once it is pulled, so a caller that has no `imageEnv`
 * gets the words as the Dockerfile alone defines them. The builder runs from the plan and
 * expands each word in its step's state (builder/state.ts), which holds the pulled ENV,
 * with the same rules.
 */
import { expandInstruction } from './expand.ts';
import type { Dockerfile, Instruction, Stage } from './instructions.ts';
import { planBuild, type PlanOptions, type PlannedStage } from './plan.ts';

/** The variables in effect just before an instruction runs. */
export interface Scope {
  /** ARGs declared in the stage so far, with their values (declared but unset ones absent). */
  readonly args: ReadonlyMap<string, string>;
  /** ENV: the base's, then this stage's, in order. */
  readonly env: ReadonlyMap<string, string>;
}

/** A typed instruction with its words expanded, plus the scope it ran in. */
export type ResolvedInstruction = Instruction & { readonly scope: Scope };

/** A planned stage (plan.ts) with every instruction expanded in its scope. */
export interface ResolvedStage extends PlannedStage {
  readonly instructions: readonly ResolvedInstruction[];
  /** The scope after the last instruction (what a stage built FROM this one inherits as ENV). */
  readonly final: Scope;
}

export interface ResolveOptions extends PlanOptions {
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

function envFromList(list: readonly string[] | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of list ?? []) {
    const i = e.indexOf('=');
    m.set(i < 0 ? e : e.slice(0, i), i < 0 ? '' : e.slice(i + 1));
  }
  return m;
}

export function resolveBuild(df: Dockerfile, opts: ResolveOptions = {}): ResolvedBuild {
  const plan = planBuild(df, opts);
  const done = new Map<number, ResolvedStage>();
  const resolve = (planned: PlannedStage): ResolvedStage => {
    const ready = done.get(planned.index);
    if (ready) return ready;
    const { base } = planned;
    // A base stage is a dependency, so it is in the plan.
    const env =
      base.kind === 'stage'
        ? resolve(plan.stages.find((s) => s.index === base.index)!).final.env
        : base.kind === 'image'
          ? envFromList(opts.imageEnv?.(base.ref, planned))
          : new Map<string, string>();
    const stage = resolveStage(df, df.stages[planned.index]!, planned, env, plan.globalArgs, plan.buildArgs);
    done.set(planned.index, stage);
    return stage;
  };
  const stages = plan.stages.map(resolve);
  return { target: plan.target, stages, globalArgs: plan.globalArgs, proxyArgs: plan.proxyArgs, unusedBuildArgs: plan.unusedBuildArgs };
}

function resolveStage(
  df: Dockerfile,
  stage: Stage,
  planned: PlannedStage,
  baseEnv: ReadonlyMap<string, string>,
  globals: ReadonlyMap<string, string>,
  buildArgs: ReadonlyMap<string, string>,
): ResolvedStage {
  const { parsed } = df;
  let env = baseEnv;
  let args: ReadonlyMap<string, string> = new Map();
  const instructions: ResolvedInstruction[] = [];
  let scope: Scope = { args, env };
  let words = expansionEnv(scope); // rebuilt only when an ARG or ENV changes it
  for (const inst of stage.instructions) {
    if (scope.args !== args || scope.env !== env) {
      scope = { args, env };
      words = expansionEnv(scope);
    }
    const x: Instruction = expandInstruction(inst, words, parsed);
    instructions.push({ ...x, scope });
    if (x.kind === 'arg') {
      const next = new Map(args);
      // globals holds the predefined ARGs too: `ARG TARGETARCH` takes its platform value.
      for (const a of x.args) {
        const value = buildArgs.get(a.name) ?? a.value ?? globals.get(a.name);
        if (value !== undefined) next.set(a.name, value);
      }
      args = next;
    } else if (x.kind === 'env') {
      const next = new Map(env);
      for (const [k, v] of x.pairs) next.set(k, v);
      env = next;
    }
  }
  return { ...planned, instructions, final: { args, env } };
}
