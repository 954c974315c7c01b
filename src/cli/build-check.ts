/**
 * The build's checks: BuildKit's ruleset and berth's rules over the Dockerfile. `build --check`
 * prints them as `docker build --check` does (each with the lines around it) and builds
 * nothing; a plain build prints them as warnings, and fails first when the Dockerfile says
 * `# check=error=true`.
 */
import { basename } from 'node:path';
import type { BuildContext } from '../builder/context.ts';
import { BerthError } from '../errors/index.ts';
import type { Finding } from '../lint/index.ts';
import type { ProgressSink } from '../progress/index.ts';

interface DockerfileText {
  readonly path: string;
  readonly content: string;
}

/** What the checks see of the build: its context dir, the store's images and the target platform. */
export interface CheckScope {
  readonly context: BuildContext | undefined;
  readonly stores: Parameters<typeof import('../services/lint-context.ts').localBaseImage>[0];
  readonly platform?: string;
}

async function findingsFor(dockerfile: DockerfileText, scope: CheckScope): Promise<{ findings: Finding[]; error: boolean }> {
  const { context } = scope;
  const { loadDockerfile } = await import('../dockerfile/index.ts');
  const { lint, checkOptions } = await import('../lint/index.ts');
  const { lintContext, localBaseImage } = await import('../services/lint-context.ts');
  const lintCtx = context ? lintContext(context.dir, { sizeBytes: () => context.sizeBytes() }) : undefined;
  const df = loadDockerfile(dockerfile.content, dockerfile.path, { allowDuplicateStageNames: true });
  // A multi-platform build checks its base images against its first platform.
  const input = {
    file: dockerfile.path,
    dockerfile: df,
    context: lintCtx,
    baseImage: localBaseImage(scope.stores),
    targetPlatform: scope.platform?.split(',')[0],
  };
  const findings = (await lint(input)).filter((f) => f.severity !== 'info');
  return { findings, error: checkOptions(df).error };
}

function violation(findings: readonly Finding[]): BerthError {
  const rules = [...new Set(findings.map((f) => f.ruleId))].join(', ');
  return new BerthError('FAILED_PRECONDITION', `lint violation found for rules: ${rules}`, { hint: 'run `berth build --check` to see each with its lines' });
}

/** Whether the Dockerfile's check directive asks that warnings fail the build (then the checks run before it). */
export function checksMustPass(content: string): boolean {
  return /^#\s*check\s*=.*\berror\s*=\s*(true|1|t)\b/im.test(content.split('\n', 20).join('\n'));
}

/** The findings as warnings on the build's progress; with `# check=error=true` they stop it. */
export async function warnBeforeBuild(dockerfile: DockerfileText, scope: CheckScope, progress: ProgressSink): Promise<void> {
  const { findings, error } = await findingsFor(dockerfile, scope);
  for (const f of findings) progress.emit({ kind: 'warning', text: `${f.ruleId}: ${f.message} (line ${f.line})` });
  if (error && findings.length) throw violation(findings);
}

/**
 * `build --check`: the report on stdout, as `docker build --check` prints it, and exit status 1
 * when anything was found. Nothing is built.
 */
export async function runChecks(dockerfile: DockerfileText, scope: CheckScope, write: (s: string) => void): Promise<number> {
  const { sourceSnippet } = await import('../progress/source.ts');
  const { findings, error } = await findingsFor(dockerfile, scope);
  if (!findings.length) {
    write('Check complete, no warnings found.\n');
    return 0;
  }
  write(`Check complete, ${findings.length === 1 ? '1 warning has' : `${findings.length} warnings have`} been found!\n`);
  const name = basename(dockerfile.path);
  for (const f of findings) {
    write(`\nWARNING: ${f.ruleId}${f.url ? ` - ${f.url}` : ''}\n${f.message}\n`);
    write(sourceSnippet(name, dockerfile.content, f.line, f.endLine));
  }
  if (error) write(`\nERROR: ${violation(findings).message}\n`);
  return 1;
}
