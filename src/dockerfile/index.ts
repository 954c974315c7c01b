/**
 * The Dockerfile front end. Nothing here executes anything; it goes text → AST → typed
 * instructions → expanded stages, one step per file:
 *
 * - `parseDockerfile(text, file)` (parser.ts, line-parsers.ts): BuildKit-compatible AST.
 *   `ParseResult.children` holds one `Node` per instruction, in source order, each with
 *   `value` (lower-case keyword), `flags` (`--x=y` as written), `next` (arguments as
 *   BuildKit's parser leaves them: quotes kept, nothing expanded; ENV/LABEL as key, value,
 *   separator triples), `json` (exec form), `heredocs`, `child` (ONBUILD's trigger),
 *   `original` (the logical line), `startLine`/`endLine` (1-based, inclusive, heredoc
 *   bodies included) and `comments` (the comment lines right above). Lint walks this.
 * - `dump(result)` (dump.ts): BuildKit's parser dump format, for `berth dockerfile parse`.
 * - `toDockerfile(result)` / `loadDockerfile(text, file)` (instructions.ts): one typed
 *   `Instruction` per node (a discriminated union on `kind`), flags checked per
 *   instruction, grouped into `Stage`s; ARGs before the first FROM are `globalArgs`.
 * - `runFlags(flags, expand?)` / `copyFlags(flags, expand?)` (flags.ts): RUN's and COPY/ADD's
 *   flags as typed values (mounts, network, security, devices; from, chown, chmod, link, parents,
 *   exclude, checksum); checked at parse time, read again expanded by the builder.
 * - `planBuild(dockerfile, { buildArgs, target, targetPlatform, buildPlatform })` (plan.ts):
 *   the stage graph the builder runs: the target, the stages it needs with their expanded
 *   FROM and dependencies (cycles are errors), the global ARGs.
 * - `resolveBuild(dockerfile, { ...plan options, imageEnv })` (stages.ts, expand.ts): the
 *   planned stages with every instruction expanded in its stage's ARG/ENV scope
 *   (RUN/CMD/ENTRYPOINT left raw), each with that `scope`.
 * - `parseKeyValues(text)` (key-values.ts): the one `k=v,k2=v2` option parser (CSV quoting),
 *   for Dockerfile flags and CLI flags alike.
 * - `processWord` / `processWords` (shell.ts): BuildKit's word expansion.
 * - `IgnoreMatcher` / `parseIgnoreFile` (dockerignore.ts): `.dockerignore`.
 *
 * Every syntax problem is a `BerthError('SYNTAX')` with `position: {file, line, column, lineText}`.
 * These exported types are the contract with lint/ and builder/: extend them, don't reshape them.
 */
export type { Arg, Directive, Heredoc, Node, ParseResult, ParseWarning } from './ast.ts';
export { parseDockerfile, heredocsInLine } from './parser.ts';
export { dump, dumpNode } from './dump.ts';
export { processWord, processWords, processHeredoc, ShellError, type Env } from './shell.ts';
export { IgnoreMatcher, parseIgnoreFile, cleanPath } from './dockerignore.ts';
export { compileGlob, pathGlob, ShellPattern, type Glob, type GlobSyntax } from './glob.ts';
export {
  toDockerfile,
  toInstruction,
  suggestInstruction,
  type Dockerfile,
  type Instruction,
  type InstructionKind,
  type InstructionOf,
  type Stage,
} from './instructions.ts';
export { expandInstruction, isExpandable, chompHeredoc } from './expand.ts';
export {
  resolveBuild,
  expansionEnv,
  runEnvironment,
  type ResolveOptions,
  type ResolvedBuild,
  type ResolvedStage,
  type ResolvedInstruction,
  type Scope,
} from './stages.ts';
export { planBuild, findStage, predefinedArgs, PROXY_ARGS, type BuildPlan, type PlannedStage, type PlanOptions, type StageBase } from './plan.ts';
export {
  runFlags,
  copyFlags,
  parseRunMount,
  parseChmod,
  parseSize,
  parseBool,
  type RunFlags,
  type RunMount,
  type MountType,
  type MountSharing,
  type RunNetwork,
  type RunSecurity,
  type RunDevice,
  parseRunDevice,
  type CopyFlags,
  type Expand,
} from './flags.ts';
export { parseKeyValues, keyValueMap, splitFields, type KeyValue } from './key-values.ts';

import { parseDockerfile } from './parser.ts';
import { toDockerfile, type Dockerfile } from './instructions.ts';

/**
 * Parses and types a Dockerfile in one step. A build refuses two stages of one name; the linter
 * loads with `allowDuplicateStageNames` so that DuplicateStageName can report them as BuildKit does.
 */
export function loadDockerfile(source: string, file = 'Dockerfile', opts: { allowDuplicateStageNames?: boolean } = {}): Dockerfile {
  return toDockerfile(parseDockerfile(source, file), opts);
}
