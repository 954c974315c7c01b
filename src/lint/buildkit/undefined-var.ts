/**
 * UndefinedVar: a variable an instruction expands that no ENV or ARG (nor the base image)
 * defines. Shell-form RUN, CMD and ENTRYPOINT are left alone: their shell expands them.
 */
import type { Instruction, Stage } from '../../dockerfile/index.ts';
import type { LintInput, RuleHit } from '../types.ts';
import { buildkitRule, suggest } from './common.ts';
import { expandRecording, globalScope } from './expand.ts';

/** BuildKit reads these as build options, never as variables. */
const NOT_VARIABLES = new Set(['BUILDKIT_SBOM_SCAN_CONTEXT', 'BUILDKIT_SBOM_SCAN_STAGE']);

/** The words of an instruction that the builder expands (before any of its own definitions apply). */
function expandedWords(inst: Instruction): string[] {
  switch (inst.kind) {
    case 'env':
      return inst.pairs.map(([, v]) => v);
    case 'label':
      return inst.pairs.flat();
    case 'copy':
    case 'add':
      return [...inst.sources.filter((s) => !s.startsWith('<<')), inst.dest, ...(inst.flags.chown ?? []), ...(inst.flags.chmod ?? [])];
    case 'workdir':
    case 'user':
    case 'stopsignal':
      return [inst.value];
    case 'expose':
    case 'volume':
      return inst.values;
    default:
      return [];
  }
}

/** The names a stage starts with: its base stage's, or the image's ENV (PATH always), or undefined when unknowable. */
async function baseNames(
  stage: Stage,
  byName: Map<string, Set<string> | undefined>,
  input: LintInput,
  scope: ReadonlyMap<string, string>,
): Promise<Set<string> | undefined> {
  const image = expandRecording(stage.from.image, scope, input.dockerfile.parsed.escape).result ?? stage.from.image;
  if (byName.has(image.toLowerCase())) {
    const parent = byName.get(image.toLowerCase());
    return parent && new Set(parent);
  }
  if (image === 'scratch') return new Set(['PATH']);
  const base = await input.baseImage?.(image);
  return base ? new Set([...base.env, 'PATH']) : undefined;
}

export const undefinedVar = buildkitRule({
  id: 'UndefinedVar',
  slug: 'undefined-var',
  summary: 'Variables should be defined before their use',
  why: 'An undefined variable expands to an empty string: a path, a user or a label silently loses a part.',
  fix: 'Declare it with ARG or ENV before its use, or correct the name.',
  async check(input) {
    const df = input.dockerfile;
    const { values: scope } = globalScope(df);
    const byName = new Map<string, Set<string> | undefined>();
    const hits: RuleHit[] = [];
    for (const stage of df.stages) {
      const defined = await baseNames(stage, byName, input, scope);
      if (defined) {
        for (const inst of stage.instructions) {
          const undefinedHere = new Set<string>();
          const look = (word: string) => {
            const env = new Map([...defined].map((n) => [n, 'x']));
            for (const n of expandRecording(word, env, df.parsed.escape).unmatched) undefinedHere.add(n);
          };
          // An ARG's defaults see the ARGs before them; every other instruction's words are
          // expanded together, before its own definitions apply. A declared ARG counts even with no value.
          if (inst.kind === 'arg')
            for (const a of inst.args) {
              if (a.value !== undefined) look(a.value);
              defined.add(a.name);
            }
          else for (const word of expandedWords(inst)) look(word);
          for (const n of undefinedHere) {
            if (NOT_VARIABLES.has(n)) continue;
            const hint = suggest(n, defined);
            hits.push({ inst, message: `Usage of undefined variable '$${n}'${hint ? ` (did you mean $${hint}?)` : ''}` });
          }
          if (inst.kind === 'env') for (const [k] of inst.pairs) defined.add(k);
        }
      }
      if (stage.name) byName.set(stage.name, defined);
    }
    return hits;
  },
});
