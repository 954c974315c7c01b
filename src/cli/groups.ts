/**
 * The CLI's verb groups: each file under cli/ that registers commands, with the top-level
 * commands it registers, so that a command loads and sets up only its own group.
 */
import type { Command } from 'commander';

export type Group = () => Promise<{ register(p: Command): void }>;

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
  [() => import('./dockerfile.ts'), ['dockerfile']],
  [() => import('./build.ts'), ['build']],
  [() => import('./lint.ts'), ['lint']],
  [() => import('./registry.ts'), ['pull', 'push', 'login', 'logout']],
  [() => import('./system-info.ts'), ['info']],
  [() => import('./serve.ts'), ['serve']],
  [() => import('./events.ts'), ['events']],
  [() => import('./cdi.ts'), ['cdi']],
];

/** The command's verb: the first argument that is not an option (nor the value of a global option: `--root`, `--cdi-spec-dir`). */
export function verbOf(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--root' || args[i] === '--cdi-spec-dir') i++;
    else if (!args[i]!.startsWith('-')) return args[i];
  }
  return undefined;
}

/**
 * Only the group that has the verb registers: the others' commands take time to set up
 * and are never used. Help, `--version` and an unknown verb (whose error suggests others)
 * get them all.
 */
export function groupsFor(verb: string | undefined): Group[] {
  const own = verb === undefined ? undefined : GROUPS.find(([, verbs]) => verbs.includes(verb));
  return own ? [own[0]] : GROUPS.map(([g]) => g);
}
