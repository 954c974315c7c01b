/**
 * AST → typed instructions (one discriminated union on `kind`) grouped into stages, with
 * flags validated per instruction. Words stay unexpanded here: the builder expands them as
 * it walks a stage, because ENV and ARG values change from one instruction to the next.
 */
import { BerthError } from '../errors/index.ts';
import type { Heredoc, Node, ParseResult } from './ast.ts';
import { copyFlags, runFlags } from './flags.ts';
import { INSTRUCTIONS } from './line-parsers.ts';
import { syntaxError } from './parser.ts';

interface Base {
  /** The AST node: position (`startLine`/`endLine`), `original` text, raw flags and args. */
  readonly node: Node;
  /** Flags by name without `--`, each with its values in order (`--exclude` repeats; booleans are 'true'/'false'). */
  readonly flags: Readonly<Record<string, string[]>>;
}

/**
 * One typed instruction. Words are as written (quotes kept, nothing expanded) until
 * `resolveBuild` / `expandInstruction` expands the expandable ones.
 * - from: `image` (a stage name or an image reference), `stageName` (lower-cased `AS` name), `platform` (`--platform`).
 * - run: `args` is one shell string, or the argv in exec form (`json`); `heredocs` follow the line.
 * - copy/add: `sources` (a heredoc source appears as its `<<NAME` word) and `dest`.
 * - env/label: ordered `[key, value]` pairs. arg: `{name, value?}` per declared ARG.
 * - cmd/entrypoint/shell: like run, without heredocs (SHELL is always JSON).
 * - healthcheck: `type` NONE, CMD (exec form), CMD-SHELL (shell form) or '' (bare), `args` the command.
 * - onbuild: `expression`, the trigger line as written (a later build runs it).
 */
export type Instruction =
  | (Base & { kind: 'from'; image: string; stageName?: string; platform?: string })
  | (Base & { kind: 'run'; json: boolean; args: string[]; heredocs: readonly Heredoc[] })
  | (Base & { kind: 'copy' | 'add'; sources: string[]; dest: string; heredocs: readonly Heredoc[]; json: boolean })
  | (Base & { kind: 'env' | 'label'; pairs: Array<[string, string]> })
  | (Base & { kind: 'arg'; args: Array<{ name: string; value?: string }> })
  | (Base & { kind: 'cmd' | 'entrypoint' | 'shell'; json: boolean; args: string[] })
  | (Base & { kind: 'workdir' | 'user' | 'stopsignal' | 'maintainer'; value: string })
  | (Base & { kind: 'expose' | 'volume'; values: string[] })
  | (Base & { kind: 'healthcheck'; type: 'NONE' | 'CMD' | 'CMD-SHELL' | ''; json: boolean; args: string[] })
  | (Base & { kind: 'onbuild'; expression: string });

export type InstructionKind = Instruction['kind'];
export type InstructionOf<K extends InstructionKind> = Extract<Instruction, { kind: K }>;

export interface Stage {
  readonly index: number;
  readonly name?: string;
  readonly from: Extract<Instruction, { kind: 'from' }>;
  readonly instructions: readonly Instruction[];
}

export interface Dockerfile {
  readonly parsed: ParseResult;
  /** ARGs before the first FROM: usable in FROM lines. */
  readonly globalArgs: ReadonlyArray<Extract<Instruction, { kind: 'arg' }>>;
  readonly stages: readonly Stage[];
}

const FLAGS: Readonly<Record<string, { single?: string[]; multi?: string[]; bool?: string[] }>> = {
  from: { single: ['platform'] },
  run: { single: ['network', 'security'], multi: ['mount', 'device'] },
  copy: { single: ['from', 'chown', 'chmod'], bool: ['link', 'parents'], multi: ['exclude'] },
  add: { single: ['chown', 'chmod', 'checksum'], bool: ['link', 'keep-git-dir', 'unpack'], multi: ['exclude'] },
  healthcheck: { single: ['interval', 'timeout', 'start-period', 'start-interval', 'retries'] },
};

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)] as number[]);
  for (let j = 1; j <= b.length; j++) dp[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      dp[i]![j] = Math.min(dp[i - 1]![j]! + 1, dp[i]![j - 1]! + 1, dp[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return dp[a.length]![b.length]!;
}

export function suggestInstruction(word: string): string | undefined {
  const w = word.toLowerCase();
  // The distance is at least the difference in length: only near-length keywords can be
  // within 2, and a 100 kB word is not measured against any (its table would be huge).
  const near = INSTRUCTIONS.filter((i) => Math.abs(i.length - w.length) <= 2);
  const best = near.map((i) => [i, editDistance(w, i)] as const).sort((a, b) => a[1] - b[1])[0];
  return best && best[1] <= 2 ? best[0].toUpperCase() : undefined;
}

function failAt(file: ParseResult, node: Node, msg: string, hint?: string, column?: number): never {
  throw syntaxError(file.file, file.lines, node.startLine, msg, { hint, column });
}

/** Columns point into the instruction's first line; a flag on a continuation line gets the line's start. */
function columnIn(file: ParseResult, node: Node, text: string): number | undefined {
  const i = (file.lines[node.startLine - 1] ?? '').indexOf(text);
  return i < 0 ? undefined : i + 1;
}

function requireArgs(file: ParseResult, node: Node, n: number, what: string): void {
  if (node.next.length < n) failAt(file, node, `${node.value.toUpperCase()} requires ${what}`);
}

function parseFlags(node: Node, file: ParseResult): Record<string, string[]> {
  const spec = FLAGS[node.value] ?? {};
  const out: Record<string, string[]> = {};
  for (const raw of node.flags) {
    const m = /^--([a-z][a-z0-9-]*)(?:=([\s\S]*))?$/.exec(raw);
    if (!m) failAt(file, node, `invalid flag "${raw}"`, undefined, columnIn(file, node, raw));
    const [, name, value] = m as unknown as [string, string, string | undefined];
    if (spec.bool?.includes(name)) {
      if (value !== undefined && value !== 'true' && value !== 'false')
        failAt(file, node, `expecting boolean value for flag ${name}, not: ${value}`, undefined, columnIn(file, node, raw));
      out[name] = [value ?? 'true'];
    } else if (spec.single?.includes(name) || spec.multi?.includes(name)) {
      if (value === undefined) failAt(file, node, `missing a value on flag: ${name}`, undefined, columnIn(file, node, raw));
      if (spec.single?.includes(name) && out[name]) failAt(file, node, `duplicate flag specified: ${name}`, undefined, columnIn(file, node, raw));
      out[name] = [...(out[name] ?? []), value];
    } else {
      const known = [...(spec.single ?? []), ...(spec.multi ?? []), ...(spec.bool ?? [])].map((f) => `--${f}`);
      failAt(
        file,
        node,
        `unknown flag: --${name}`,
        known.length ? `${node.value.toUpperCase()} accepts ${known.join(', ')}` : `${node.value.toUpperCase()} takes no flags`,
        columnIn(file, node, `--${name}`),
      );
    }
  }
  return out;
}

/**
 * RUN's and COPY/ADD's flag values checked as typed values (flags.ts), so that lint and build
 * report a bad `--mount` key or `--chmod` at the line, before anything runs.
 */
function checkFlagValues(node: Node, file: ParseResult, flags: Record<string, string[]>): void {
  try {
    if (node.value === 'run') runFlags(flags);
    else if (node.value === 'copy' || node.value === 'add') copyFlags(flags);
  } catch (e) {
    if (!(e instanceof BerthError) || e.code !== 'INVALID_ARGUMENT') throw e;
    // The caret goes to the flag the message names (its name, or its value as quoted).
    const raw = node.flags.find((f) => e.message.includes(f.slice(2, 82))) ?? node.flags.find((f) => e.message.includes(f.split('=')[0]!));
    failAt(file, node, e.message, e.hint, raw === undefined ? undefined : columnIn(file, node, raw));
  }
}

export function toInstruction(node: Node, file: ParseResult): Instruction {
  const kind = node.value;
  if (!INSTRUCTIONS.includes(kind)) {
    const s = suggestInstruction(kind);
    const shown = kind.length > 64 ? `${kind.slice(0, 64)}…` : kind;
    failAt(file, node, `unknown instruction: ${shown.toUpperCase()}${s ? ` (did you mean ${s}?)` : ''}`);
  }
  const flags = parseFlags(node, file);
  checkFlagValues(node, file, flags);
  const base = { node, flags };
  const args = [...node.next];
  switch (kind) {
    case 'from': {
      requireArgs(file, node, 1, 'at least one argument');
      if (args.length !== 1 && !(args.length === 3 && args[1]!.toLowerCase() === 'as'))
        failAt(file, node, 'FROM requires either one or three arguments', 'use FROM image [AS name]');
      return { ...base, kind, image: args[0]!, stageName: args[2]?.toLowerCase(), platform: flags.platform?.[0] };
    }
    case 'run':
      if (!args.length && !node.heredocs.length) failAt(file, node, 'RUN requires at least one argument');
      return { ...base, kind, json: node.json, args, heredocs: node.heredocs };
    case 'copy':
    case 'add': {
      const min = node.heredocs.length ? 1 : 2;
      requireArgs(file, node, min, `at least two arguments, but got ${args.length}`);
      return { ...base, kind, sources: args.slice(0, -1), dest: args.at(-1)!, heredocs: node.heredocs, json: node.json };
    }
    case 'env':
    case 'label': {
      const pairs: Array<[string, string]> = [];
      for (let i = 0; i + 2 < args.length + 1; i += 3) pairs.push([args[i]!, args[i + 1] ?? '']);
      if (!pairs.length) failAt(file, node, `${kind.toUpperCase()} requires at least one argument`);
      return { ...base, kind, pairs };
    }
    case 'arg':
      requireArgs(file, node, 1, 'exactly one argument');
      return {
        ...base,
        kind,
        args: args.map((a) => (a.includes('=') ? { name: a.slice(0, a.indexOf('=')), value: a.slice(a.indexOf('=') + 1) } : { name: a })),
      };
    case 'cmd':
    case 'entrypoint':
    case 'shell':
      if (kind === 'shell' && !node.json) failAt(file, node, 'SHELL requires the arguments to be in JSON form', 'e.g. SHELL ["/bin/bash", "-c"]');
      return { ...base, kind, json: node.json, args };
    case 'workdir':
    case 'user':
    case 'stopsignal':
    case 'maintainer':
      requireArgs(file, node, 1, 'exactly one argument');
      return { ...base, kind, value: args[0]! };
    case 'expose':
    case 'volume':
      requireArgs(file, node, 1, 'at least one argument');
      return { ...base, kind, values: args };
    case 'healthcheck': {
      const type = (args[0] ?? '').toUpperCase();
      if (type !== '' && type !== 'NONE' && type !== 'CMD')
        failAt(file, node, `unknown type for healthcheck command: ${args[0]}`, 'use HEALTHCHECK CMD ... or HEALTHCHECK NONE');
      const cmdArgs = args.slice(1);
      if (type === 'CMD' && !cmdArgs.length) failAt(file, node, 'missing command after HEALTHCHECK CMD');
      return { ...base, kind, type: type === 'CMD' && !node.json ? 'CMD-SHELL' : (type as 'NONE' | 'CMD' | ''), json: node.json, args: cmdArgs };
    }
    case 'onbuild': {
      if (!node.child) failAt(file, node, 'ONBUILD requires at least one argument');
      const inner = node.child!.value;
      if (inner === 'onbuild') failAt(file, node, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
      if (inner === 'from' || inner === 'maintainer') failAt(file, node, `${inner.toUpperCase()} isn't allowed as an ONBUILD trigger`);
      toInstruction(node.child!, file); // the trigger must itself be a valid instruction
      return { ...base, kind, expression: node.original.trim().replace(/^onbuild\s+/i, '') };
    }
    default:
      return failAt(file, node, `unknown instruction: ${kind.toUpperCase()}`);
  }
}

/** Types every instruction and groups them into stages; ARGs before the first FROM are global. */
export function toDockerfile(parsed: ParseResult, opts: { allowDuplicateStageNames?: boolean } = {}): Dockerfile {
  const globalArgs: Array<Extract<Instruction, { kind: 'arg' }>> = [];
  const stages: Array<{ index: number; name?: string; from: Extract<Instruction, { kind: 'from' }>; instructions: Instruction[] }> = [];
  for (const node of parsed.children) {
    const inst = toInstruction(node, parsed);
    if (inst.kind === 'from') {
      if (inst.stageName && !opts.allowDuplicateStageNames && stages.some((s) => s.name === inst.stageName)) {
        throw syntaxError(parsed.file, parsed.lines, node.startLine, `duplicate stage name "${inst.stageName}"`);
      }
      if (inst.stageName && !/^[a-z][a-z0-9-_.]*$/.test(inst.stageName)) {
        throw syntaxError(
          parsed.file,
          parsed.lines,
          node.startLine,
          `invalid name for build stage: "${inst.stageName}", name can't start with a number or contain symbols`,
        );
      }
      stages.push({ index: stages.length, name: inst.stageName, from: inst, instructions: [] });
    } else if (!stages.length) {
      if (inst.kind !== 'arg') {
        throw syntaxError(parsed.file, parsed.lines, node.startLine, `no build stage in current context: ${node.value.toUpperCase()} comes before any FROM`, {
          hint: 'a Dockerfile starts with FROM (only ARG may come before it)',
        });
      }
      globalArgs.push(inst);
    } else {
      stages.at(-1)!.instructions.push(inst);
    }
  }
  if (!stages.length) {
    throw syntaxError(parsed.file, parsed.lines, 1, 'the Dockerfile has no FROM instruction', { hint: 'add FROM <image> to start a build stage' });
  }
  return { parsed, globalArgs, stages };
}

export function isBerthSyntaxError(e: unknown): e is BerthError {
  return e instanceof BerthError && e.code === 'SYNTAX';
}
