/** What every verb needs: the engine for the chosen root, opened once and closed at exit. */
import type { Command } from 'commander';
import type { Engine } from '../engine.ts';
import type { ImagePuller } from '../image/ensure.ts';

let engine: Promise<Engine> | undefined;

/** The registry client, loaded only when an image is pulled: a run of a local image never pays for it. */
const puller: ImagePuller = {
  pull: async (stores, name, opts) => (await import('../registry/index.ts')).pullImage(stores, name, opts),
};

/**
 * What `berth serve` pulls with when a request gives no credentials: nobody's. The server's
 * clients are not root, so root's docker config is not theirs to use.
 */
export const anonymousPuller: ImagePuller = {
  pull: async (stores, name, opts) => (await import('../registry/index.ts')).pullImage(stores, name, { ...opts, credentials: null }),
};

export function getEngine(cmd: Command, opts: { puller?: ImagePuller } = {}): Promise<Engine> {
  let root: string | undefined;
  for (let c: Command | null = cmd; c; c = c.parent) root ??= (c.opts() as { root?: string }).root;
  engine ??= import('../engine.ts').then((m) => m.openEngine({ root, puller: opts.puller ?? puller }));
  return engine;
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function out(s: string): void {
  process.stdout.write(s);
}

/** A verb group such as `image` or `container`, created once and shared by the files adding to it. */
export function group(program: Command, name: string, description = ''): Command {
  return program.commands.find((c) => c.name() === name) ?? program.command(name).description(description);
}
