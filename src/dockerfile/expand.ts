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

/**
 * Returns `inst` with its expandable words expanded in `env` (ARGs and ENV in effect
 * before the instruction; ENV wins over ARG). Node, position and original text are kept.
 * A bad substitution becomes a SYNTAX error at the instruction.
 */
export function expandInstruction<I extends Instruction>(inst: I, env: Env, parsed: Pick<ParseResult, 'file' | 'lines' | 'escape'>): I {
  const word = (w: string): string => {
    try {
      return processWord(w, env, parsed.escape);
    } catch (e) {
      if (e instanceof ShellError) {
        throw syntaxError(parsed.file, parsed.lines, inst.node.startLine, `failed to expand ${JSON.stringify(w)} in ${inst.kind.toUpperCase()}: ${e.message}`);
      }
      throw e;
    }
  };
  const words = (ws: readonly string[]) => ws.map(word);
  const flagNames = EXPANDED_FLAGS[inst.kind] ?? [];
  const flags = Object.fromEntries(Object.entries(inst.flags).map(([k, v]) => [k, flagNames.includes(k) ? words(v) : [...v]]));
  const heredocs = (hs: readonly Heredoc[]): Heredoc[] =>
    hs.map((h) => {
      const body = h.chomp ? chompHeredoc(h.content) : h.content;
      return { ...h, content: h.expand ? processHeredoc(body, env, parsed.escape) : body };
    });
  const i = inst as Instruction;
  let out: Instruction;
  switch (i.kind) {
    case 'from':
      out = { ...i, flags, image: word(i.image), platform: flags.platform?.[0] };
      break;
    case 'copy':
    case 'add':
      out = { ...i, flags, sources: words(i.sources), dest: word(i.dest), heredocs: heredocs(i.heredocs) };
      break;
    case 'env':
    case 'label':
      out = { ...i, pairs: i.pairs.map(([k, v]) => [word(k), word(v)] as [string, string]) };
      break;
    case 'arg':
      out = { ...i, args: i.args.map((a) => (a.value === undefined ? { name: word(a.name) } : { name: word(a.name), value: word(a.value) })) };
      break;
    case 'expose':
    case 'volume':
      out = { ...i, values: words(i.values) };
      break;
    case 'workdir':
    case 'user':
    case 'stopsignal':
      out = { ...i, value: word(i.value) };
      break;
    case 'run':
      out = { ...i, flags };
      break;
    default:
      out = i;
  }
  return out as I;
}
