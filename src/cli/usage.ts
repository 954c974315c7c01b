/**
 * Usage errors as docker 28 words them and exits with them: a bad flag is 125 ("unknown
 * flag: --x", then the usage line), a wrong number of arguments or an unknown command is 1.
 * A flag docker has and berth does not yet says so instead of being unknown, and nothing
 * suggests another flag in its place. commander finds the error; this writes it.
 */
import type { Command, CommanderError } from 'commander';
import { DOCKER_FLAGS } from './docker-flags.ts';

export interface UsageError {
  readonly text: string;
  readonly exitCode: number;
}

/** The command whose parse failed: commander reports the error through that command's output. */
let failed: Command | undefined;

/** Every command of the tree, the root first. */
export function walkCommands(root: Command): Command[] {
  return [root, ...root.commands.flatMap((c) => walkCommands(c))];
}

/** `run`, `container ls`: the command's words after the program's name. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Sets every command of the tree to fail as docker does: errors come back to main.ts as
 * exceptions (nothing exits on its own), commander prints nothing itself, and a management
 * command given no subcommand prints its help and succeeds.
 */
export function useDockerUsage(program: Command): void {
  for (const c of walkCommands(program)) {
    c.exitOverride();
    c.showSuggestionAfterError(false);
    c.showHelpAfterError(false);
    c.configureOutput({ outputError: () => void (failed = c) });
    if (c.commands.length && !(c as unknown as { _actionHandler?: unknown })._actionHandler) {
      // An action would take the place of commander's `help VERB`: kept, as docker has it.
      if (!c.parent) c.helpCommand(true);
      c.allowExcessArguments().action((_o: unknown, self: Command) => {
        if (self.args.length) unknownCommand(self, self.args[0]!);
        self.outputHelp();
      });
    }
  }
}

class UnknownCommand extends Error {
  constructor(
    readonly command: Command,
    readonly word: string,
  ) {
    super(`unknown command: ${word}`);
  }
}

function unknownCommand(cmd: Command, word: string): never {
  throw new UnknownCommand(cmd, word);
}

export function isUsageError(e: unknown): boolean {
  return e instanceof UnknownCommand;
}

/** commander's `[options] <image> [command...]` in docker's words: `[OPTIONS] IMAGE [COMMAND...]`. */
function dockerUsage(cmd: Command): string {
  const usage = cmd
    .usage()
    .replace(/\[options\]/g, '[OPTIONS]')
    .replace(/<([^>]+)>/g, (_m, a: string) => a.toUpperCase())
    .replace(/\[([a-z][^\]]*)\]/g, (_m, a: string) => `[${a.toUpperCase()}]`);
  return `Usage:  ${full(cmd)} ${usage}`.trimEnd();
}

function full(cmd: Command): string {
  const path = commandPath(cmd);
  return path ? `berth ${path}` : 'berth';
}

/** docker's "requires ..." for the number of arguments a command takes. */
function argumentCount(cmd: Command): string {
  const args = cmd.registeredArguments;
  const min = args.filter((a) => a.required).length;
  const max = args.some((a) => a.variadic) ? Number.POSITIVE_INFINITY : args.length;
  const n = (k: number) => `${k} argument${k === 1 ? '' : 's'}`;
  if (min === max) return `requires ${n(min)}`;
  if (max === Number.POSITIVE_INFINITY) return `requires at least ${n(min)}`;
  if (min === 0) return `requires at most ${n(max)}`;
  return `requires at least ${min} and at most ${n(max)}`;
}

/** The word docker names for a flag commander could not take: `--x` for `--x=1`, the letter for `-x`. */
function flagError(flag: string, cmd: Command): string {
  if (!flag.startsWith('--')) return `unknown shorthand flag: '${flag.slice(1, 2)}' in ${flag}`;
  const name = flag.slice(2).split('=')[0]!;
  const docker = (DOCKER_FLAGS[commandPath(cmd)] ?? '').split(' ');
  return docker.includes(name) ? `--${name}: not supported by berth yet` : `unknown flag: --${name}`;
}

/** The message and exit status docker gives for the usage error commander (or a group) raised. */
export function usageError(e: CommanderError | UnknownCommand): UsageError {
  if (e instanceof UnknownCommand) return unknownCommandError(e.command, e.word);
  const cmd = failed;
  const message = e.message.replace(/^error: /, '');
  if (!cmd) return { text: message, exitCode: 1 };
  const tail = `\n\n${dockerUsage(cmd)}\n\nRun '${full(cmd)} --help' for more information`;
  switch (e.code) {
    case 'commander.unknownOption': {
      const flag = /'([^']+)'/.exec(message)?.[1] ?? '';
      return { text: `${flagError(flag, cmd)}${tail}`, exitCode: 125 };
    }
    case 'commander.optionMissingArgument': {
      const long = /--([a-z0-9-]+)/.exec(message)?.[1];
      const short = /'-([a-zA-Z]),/.exec(message)?.[1];
      return { text: `flag needs an argument: ${short ? `'${short}' in -${short}` : `--${long}`}${tail}`, exitCode: 125 };
    }
    case 'commander.unknownCommand':
      return unknownCommandError(cmd, cmd.args[0] ?? '');
    case 'commander.missingArgument':
    case 'commander.excessArguments':
      if (cmd.commands.length) return unknownCommandError(cmd, cmd.args[0] ?? '');
      return { text: `berth: '${full(cmd)}' ${argumentCount(cmd)}${tail}`, exitCode: 1 };
    case 'commander.invalidArgument': {
      const m = /option '([^']+)' argument '(.*)' is invalid\. (.*)$/s.exec(message);
      const flags = (m?.[1] ?? '').replace(/ [<[].*$/, '');
      return { text: `${m ? `invalid argument "${m[2]}" for "${flags}" flag: ${m[3]}` : message}${tail}`, exitCode: 125 };
    }
    default:
      // An invalid value, conflicting or missing mandatory options: flag errors, as docker's are.
      return { text: `${message}${tail}`, exitCode: 125 };
  }
}

function unknownCommandError(cmd: Command, word: string): UsageError {
  const usage = cmd.parent ? `\n\nUsage:  ${full(cmd)} COMMAND` : '';
  return { text: `berth: unknown command: ${full(cmd)} ${word}${usage}\n\nRun '${full(cmd)} --help' for more information`, exitCode: 1 };
}
