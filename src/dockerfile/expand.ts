/**
 * Per-instruction word expansion, with BuildKit's rules for which words expand: FROM,
 * COPY/ADD (sources, dest and the --from/--chown/--chmod/--checksum/--exclude values, and
 * unquoted heredoc bodies), ENV and LABEL keys and values, ARG, EXPOSE, VOLUME, USER,
 * WORKDIR and STOPSIGNAL, and RUN's --mount values. RUN, CMD, ENTRYPOINT, SHELL,
 * HEALTHCHECK, MAINTAINER and ONBUILD stay as written: the shell in the container, or a
 * later build, sees them.
 */
import type { Heredoc, ParseResult } from './ast.ts';
import type { Instruction } from './instructions.ts';
import { syntaxError } from './parser.ts';
import { processHeredoc, processWord, ShellError, type Env } from './shell.ts';

/** Flag values that BuildKit expands, per instruction. */
const EXPANDED_FLAGS: Readonly<Record<string, readonly string[]>> = {
  copy: ['from', 'chown', 'chmod', 'exclude'],
  add: ['chown', 'chmod', 'checksum', 'exclude'],
  run: ['mount'],
  from: ['platform'],
};

/** Whether the builder expands this instruction's words (RUN only its --mount values). */
export function isExpandable(kind: Instruction['kind']): boolean {
  return !['cmd', 'entrypoint', 'shell', 'healthcheck', 'maintainer', 'onbuild'].includes(kind);
}

/** `<<-` strips leading tabs from every body line (BuildKit does this at dispatch). */
export function chompHeredoc(content: string): string {
  return content.replace(/^\t+/gm, '');
}

type Where = Pick<ParseResult, 'file' | 'lines' | 'escape'>;

function expandWord(w: string, env: Env, where: Where, inst: Instruction): string {
  try {
    return processWord(w, env, where.escape);
  } catch (e) {
    if (e instanceof ShellError) {
      throw syntaxError(where.file, where.lines, inst.node.startLine, `failed to expand ${JSON.stringify(w)} in ${inst.kind.toUpperCase()}: ${e.message}`);
    }
    throw e;
  }
}

function expandWords(ws: readonly string[], env: Env, where: Where, inst: Instruction): string[] {
  const out: string[] = [];
  for (const w of ws) out.push(expandWord(w, env, where, inst));
  return out;
}

function expandHeredocs(hs: readonly Heredoc[], env: Env, where: Where): Heredoc[] {
  const out: Heredoc[] = [];
  for (const h of hs) {
    const body = h.chomp ? chompHeredoc(h.content) : h.content;
    out.push({ ...h, content: h.expand ? processHeredoc(body, env, where.escape) : body });
  }
  return out;
}

function expandFlags(inst: Instruction, env: Env, where: Where): Record<string, string[]> {
  const names = EXPANDED_FLAGS[inst.kind] ?? [];
  const out: Record<string, string[]> = {};
  for (const k in inst.flags) out[k] = names.includes(k) ? expandWords(inst.flags[k]!, env, where, inst) : [...inst.flags[k]!];
  return out;
}

/**
 * Returns `inst` with its expandable words expanded in `env` (ARGs and ENV in effect
 * before the instruction; ENV wins over ARG). Node, position and original text are kept.
 * A bad substitution becomes a SYNTAX error at the instruction.
 */
export function expandInstruction<I extends Instruction>(inst: I, env: Env, where: Where): I {
  const i = inst as Instruction;
  let out: Instruction;
  switch (i.kind) {
    case 'from': {
      const flags = expandFlags(i, env, where);
      out = { ...i, flags, image: expandWord(i.image, env, where, i), platform: flags.platform?.[0] };
      break;
    }
    case 'copy':
    case 'add':
      out = {
        ...i,
        flags: expandFlags(i, env, where),
        sources: expandWords(i.sources, env, where, i),
        dest: expandWord(i.dest, env, where, i),
        heredocs: expandHeredocs(i.heredocs, env, where),
      };
      break;
    case 'env':
    case 'label':
      out = { ...i, pairs: i.pairs.map(([k, v]) => [expandWord(k, env, where, i), expandWord(v, env, where, i)] as [string, string]) };
      break;
    case 'arg':
      out = {
        ...i,
        args: i.args.map((a) =>
          a.value === undefined
            ? { name: expandWord(a.name, env, where, i) }
            : { name: expandWord(a.name, env, where, i), value: expandWord(a.value, env, where, i) },
        ),
      };
      break;
    case 'expose':
    case 'volume':
      out = { ...i, values: expandWords(i.values, env, where, i) };
      break;
    case 'workdir':
    case 'user':
    case 'stopsignal':
      out = { ...i, value: expandWord(i.value, env, where, i) };
      break;
    case 'run':
      out = i.flags.mount ? { ...i, flags: expandFlags(i, env, where) } : i;
      break;
    default:
      out = i;
  }
  return out as I;
}
