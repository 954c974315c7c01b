/** `berth dockerfile parse FILE`: the AST in BuildKit's dump format. */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { BerthError } from '../errors/index.ts';
import { out } from './context.ts';

async function readSource(file: string): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  return readFile(file, 'utf8').catch((e: Error) => {
    throw new BerthError('NOT_FOUND', `cannot read ${file}: ${e.message}`);
  });
}

export function register(program: Command): void {
  program
    .command('dockerfile')
    .description('Dockerfile tools')
    .command('parse')
    .description("Print the Dockerfile AST in BuildKit's dump format")
    .argument('<file>', 'a Dockerfile, or - for stdin')
    .option('--check', 'also type every instruction (unknown instructions, flags, missing FROM)')
    .action(async (file: string, o: { check?: boolean }) => {
      const { parseDockerfile, dump, toDockerfile } = await import('../dockerfile/index.ts');
      const parsed = parseDockerfile(await readSource(file), file === '-' ? 'Dockerfile' : file);
      if (o.check) toDockerfile(parsed);
      out(dump(parsed));
    });
}
