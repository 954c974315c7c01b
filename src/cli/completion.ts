/**
 * `berth completion bash|zsh|fish`: shell completion written out from the command tree itself,
 * so a verb or flag a group file adds completes without anyone editing a script. Every group
 * is loaded for this verb (groups.ts), hidden commands are left out.
 */
import type { Command, Option } from 'commander';
import { BerthError } from '../errors/index.ts';
import { out } from './context.ts';

interface Node {
  /** The words typed to reach it (aliases make more than one path to one command). */
  readonly path: string;
  readonly cmd: Command;
}

function hidden(c: Command): boolean {
  return (c as unknown as { _hidden?: boolean })._hidden === true;
}

function visibleOptions(c: Command): Option[] {
  return c.options.filter((o) => !o.hidden);
}

/** Every command reachable by typed words, under each of its names. */
function nodes(root: Command): Node[] {
  const all: Node[] = [{ path: '', cmd: root }];
  const visit = (c: Command, prefix: string) => {
    for (const sub of c.commands) {
      if (hidden(sub)) continue;
      for (const name of [sub.name(), ...sub.aliases()]) {
        const path = prefix ? `${prefix} ${name}` : name;
        all.push({ path, cmd: sub });
        visit(sub, path);
      }
    }
  };
  visit(root, '');
  return all;
}

function subNames(c: Command): string[] {
  return c.commands.filter((s) => !hidden(s)).flatMap((s) => [s.name(), ...s.aliases()]);
}

function flagWords(c: Command): string[] {
  return [...visibleOptions(c).flatMap((o) => [o.long, o.short].filter((f): f is string => !!f)), '--help'];
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function bashCompletion(root: Command): string {
  const entries = nodes(root);
  const table = (name: string, value: (c: Command) => string[]) =>
    `declare -gA ${name}=(\n${entries.map((n) => `  [${quote(`berth${n.path ? ` ${n.path}` : ''}`)}]=${quote(value(n.cmd).join(' '))}`).join('\n')}\n)`;
  return `# berth completion for bash: eval "$(berth completion bash)", or save it in
# /etc/bash_completion.d/berth. Generated from berth's command tree.
${table('_berth_subcommands', subNames)}
${table('_berth_flags', flagWords)}
_berth() {
  local cur=\${COMP_WORDS[COMP_CWORD]} path=berth word i
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=\${COMP_WORDS[i]}
    [[ $word == -* ]] && continue
    if [[ " \${_berth_subcommands[$path]} " == *" $word "* ]]; then
      path="$path $word"
    fi
  done
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "\${_berth_flags[$path]}" -- "$cur"))
  elif [[ -n \${_berth_subcommands[$path]} ]]; then
    COMPREPLY=($(compgen -W "\${_berth_subcommands[$path]}" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -F _berth berth
`;
}

/** zsh runs the bash completion through its bashcompinit layer, which it ships for this. */
export function zshCompletion(root: Command): string {
  return `#compdef berth
# berth completion for zsh: eval "$(berth completion zsh)" in ~/.zshrc. Generated from berth's
# command tree; it runs the bash completion through zsh's bashcompinit.
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bashCompletion(root).replace(/^# .*\n# .*\n/, '')}`;
}

export function fishCompletion(root: Command): string {
  const lines = ['# berth completion for fish: berth completion fish > ~/.config/fish/completions/berth.fish', 'complete -c berth -f'];
  for (const n of nodes(root)) {
    const words = n.path ? n.path.split(' ') : [];
    // fish sees the words typed so far: this node's subcommands complete once its path is typed.
    const seen = words.length ? words.map((w) => `__fish_seen_subcommand_from ${w}`).join('; and ') : '__fish_use_subcommand';
    const cond = words.length ? `${seen}; and not __fish_seen_subcommand_from ${subNames(n.cmd).join(' ') || '__none__'}` : seen;
    for (const sub of n.cmd.commands.filter((s) => !hidden(s))) {
      for (const name of [sub.name(), ...sub.aliases()]) lines.push(`complete -c berth -n ${quote(cond)} -a ${quote(name)} -d ${quote(sub.description())}`);
    }
    if (!words.length) continue;
    for (const o of visibleOptions(n.cmd)) {
      const flags = [o.long ? `-l ${o.long.slice(2)}` : '', o.short ? `-s ${o.short.slice(1)}` : ''].filter(Boolean).join(' ');
      lines.push(`complete -c berth -n ${quote(seen)} ${flags}${o.required || o.optional ? ' -r' : ''} -d ${quote(o.description)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

const SHELLS = { bash: bashCompletion, zsh: zshCompletion, fish: fishCompletion } as const;

export function register(program: Command): void {
  program
    .command('completion')
    .description('Output shell completion code for bash, zsh or fish')
    .argument('<shell>', 'bash, zsh or fish')
    .action((shell: string) => {
      const write = Object.hasOwn(SHELLS, shell) ? SHELLS[shell as keyof typeof SHELLS] : undefined;
      if (!write) throw new BerthError('INVALID_ARGUMENT', `unsupported shell "${shell}": use bash, zsh or fish`);
      out(write(program));
    });
}
