/**
 * The CLI's verb groups: each file under cli/ that registers commands, with the top-level
 * commands it registers, so that a command loads and sets up only its own group. docker's
 * management forms (`container ls`, `image rm` ...) are the top-level verbs under another
 * name: `canonicalArgs` turns them into those before anything is loaded.
 */
import type { Command } from 'commander';
import { FORWARDS } from './forms.ts';

export { FORWARDS };

export type Group = () => Promise<{ register(p: Command): void }>;

/**
 * The management commands: several files may add subcommands to one of them, so they alone
 * may appear in more than one group.
 */
export const MANAGEMENT = ['builder', 'container', 'image', 'network', 'system', 'volume'] as const;

/** Each verb group, with the top-level commands it registers (cli-verbs.test.ts keeps this true). */
export const GROUPS: ReadonlyArray<readonly [Group, readonly string[]]> = [
  [() => import('./image.ts'), ['import', 'images', 'image', 'tag', 'rmi', 'history', 'save', 'load', 'system', 'commit']],
  [() => import('./volume.ts'), ['volume']],
  [() => import('./network.ts'), ['network']],
  [
    () => import('./container.ts'),
    ['create', 'run', 'start', '__monitor', 'ps', 'container', 'exec', 'cp', 'logs', 'attach', 'stop', 'kill', 'rm', 'wait', 'inspect'],
  ],
  [() => import('./container-more.ts'), ['restart', 'rename', 'pause', 'unpause', 'top', 'stats', 'diff', 'export']],
  [() => import('./container-update.ts'), ['port', 'update']],
  [() => import('./dockerfile.ts'), ['dockerfile']],
  [() => import('./build.ts'), ['build']],
  [() => import('./lint.ts'), ['lint']],
  [() => import('./registry.ts'), ['pull', 'push', 'login', 'logout']],
  [() => import('./system-info.ts'), ['info']],
  [() => import('./version.ts'), ['version']],
  [() => import('./serve.ts'), ['serve']],
  [() => import('./events.ts'), ['events']],
  [() => import('./cdi.ts'), ['cdi']],
  [() => import('./completion.ts'), ['completion']],
  // Last: it fills in the management forms the files above did not register themselves.
  [() => import('./management.ts'), ['builder', 'container', 'image', 'system']],
];

/** Where the command's verb is: the first argument that is not an option (nor the value of a global option: `--root`, `--cdi-spec-dir`). */
function verbIndex(args: readonly string[]): number {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--root' || args[i] === '--cdi-spec-dir') i++;
    else if (!args[i]!.startsWith('-')) return i;
  }
  return -1;
}

/** The command's verb: the first argument that is not an option (nor a global option's value). */
export function verbOf(args: readonly string[]): string | undefined {
  const i = verbIndex(args);
  return i < 0 ? undefined : args[i];
}

/**
 * The arguments with a management form such as `container ls -a` made the top-level verb it
 * is (`ps -a`). Options between the group and its subcommand are not docker's syntax either,
 * so only the word right after the group is looked at.
 */
export function canonicalArgs(args: readonly string[]): string[] {
  const i = verbIndex(args);
  // Own keys only: a word such as `constructor` or `__proto__` is no form.
  const forms = i >= 0 && Object.hasOwn(FORWARDS, args[i]!) ? FORWARDS[args[i]!] : undefined;
  const forward = forms && Object.hasOwn(forms, args[i + 1] ?? '') ? forms[args[i + 1]!] : undefined;
  return forward ? [...args.slice(0, i), ...forward, ...args.slice(i + 2)] : [...args];
}

/**
 * Only the groups that register the verb load: the others' commands take time to set up
 * and are never used. A management command (`container`) may have several. Help,
 * `--version`, an unknown verb and completion (which lists every command) get them all.
 */
export function groupsFor(verb: string | undefined): Group[] {
  const owners = verb === undefined || verb === 'completion' ? [] : GROUPS.filter(([, verbs]) => verbs.includes(verb));
  return (owners.length ? owners : GROUPS).map(([g]) => g);
}
