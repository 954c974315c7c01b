/** The linter's contract: a rule is a value with an id, a severity, docs, and a check. */
import { parseRunMount, type Dockerfile, type Instruction, type RunMount, type Stage } from '../dockerfile/index.ts';

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  readonly ruleId: string;
  readonly severity: Severity;
  readonly message: string;
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly fix: string;
  /** The rule's documentation page (BuildKit's rules have one). */
  readonly url?: string;
}

export interface LintInput {
  readonly file: string;
  readonly dockerfile: Dockerfile;
  /** The build context, when linting a directory: for .dockerignore and size checks. */
  readonly context?: {
    readonly dir: string;
    readonly hasDockerignore: boolean;
    readonly isIgnored: (rel: string) => boolean;
    /** The .dockerignore has `!` exceptions: BuildKit then does not judge COPY sources statically. */
    readonly hasExclusions?: boolean;
    readonly sizeBytes: () => Promise<number>;
  };
  /**
   * A base image's ENV names and platform (`os/arch[/variant]`), when the caller can know them
   * (an image already in the store); undefined when it cannot, and then UndefinedVar stays
   * quiet in that stage and InvalidBaseImagePlatform says nothing of it.
   */
  readonly baseImage?: (ref: string) => Promise<{ readonly env: readonly string[]; readonly platform: string } | undefined>;
  /** The platform the build is for (`--platform`), when not the host's. */
  readonly targetPlatform?: string;
}

export interface RuleHit {
  readonly inst?: Instruction;
  readonly line?: number;
  readonly column?: number;
  readonly message: string;
}

export interface Rule {
  readonly id: string;
  readonly name: string;
  readonly severity: Severity;
  /** One line: what the rule finds. */
  readonly summary: string;
  /** Why it matters (docs). */
  readonly why: string;
  /** What to do instead (docs and the finding's hint). */
  readonly fix: string;
  /** The documentation page, for BuildKit's rules (docs.docker.com). */
  readonly url?: string;
  /** The BuildKit rule this berth rule covers: on the same line, berth's finding stands for both. */
  readonly buildkit?: string;
  check(input: LintInput): RuleHit[] | Promise<RuleHit[]>;
}

/** The shell text of a RUN in shell form ('' for exec form), heredoc bodies included. */
export function runText(inst: Instruction): string {
  if (inst.kind !== 'run') return '';
  const head = inst.json ? inst.args.join(' ') : inst.args.join(' ');
  return [head, ...inst.heredocs.map((h) => h.content)].join('\n');
}

/** Whether the RUN has a cache mount (at a target `target` matches): read through dockerfile/'s typed --mount. */
export function hasCacheMount(inst: Instruction, target?: RegExp): boolean {
  return (inst.flags.mount ?? []).some((spec) => {
    const mount = cacheMountOf(spec);
    return mount !== undefined && (!target || target.test(mount.target));
  });
}

function cacheMountOf(spec: string): RunMount | undefined {
  try {
    const mount = parseRunMount(spec);
    return mount.type === 'cache' ? mount : undefined;
  } catch {
    return undefined; // a bad --mount is the parser's finding, not this rule's
  }
}

export function finalStage(df: Dockerfile): Stage {
  return df.stages.at(-1)!;
}

/** Splits a shell command line into simple commands on && || ; | & and newlines. */
export function commands(text: string): string[] {
  return text
    .replace(/\\\n/g, ' ')
    .split(/&&|\|\||;|\n|(?<![>&|])&(?![>&])|\|/)
    .map((c) => c.trim())
    .filter(Boolean);
}
