/** `berth lint`: findings as text, json or SARIF; exit 1 when any reaches --error-on. */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { BerthError } from '../errors/index.ts';
import { collect, out } from './context.ts';

export function register(program: Command): void {
  program
    .command('lint')
    .description("Check a Dockerfile: BuildKit's checks and the practices ML images get wrong")
    .argument('[path]', 'a Dockerfile, or a build context directory', '.')
    .option('-f, --file <path>', 'the Dockerfile (default: PATH/Dockerfile)')
    .option('--format <format>', 'text, json or sarif', 'text')
    .option('--ignore <id>', 'skip a rule (repeatable)', collect, [])
    .option('--error-on <severity>', 'exit 1 when a finding is at least this severe (info, warning, error)', 'error')
    .action(async (path: string, o: { file?: string; format: string; ignore: string[]; errorOn: string }) => {
      const { loadDockerfile } = await import('../dockerfile/index.ts');
      const { lint, formatText, toSarif, RULES, SEVERITY_RANK } = await import('../lint/index.ts');
      const { lintContext } = await import('../services/lint-context.ts');
      const isDir = existsSync(path) && statSync(path).isDirectory();
      const file = o.file ?? (isDir ? join(path, 'Dockerfile') : path);
      const contextDir = isDir ? resolve(path) : o.file ? resolve(path) : dirname(resolve(file));
      const source = await readFile(file, 'utf8').catch(() => {
        throw new BerthError('NOT_FOUND', `cannot read ${file}`);
      });
      if (!(o.errorOn in SEVERITY_RANK)) throw new BerthError('INVALID_ARGUMENT', `invalid --error-on "${o.errorOn}"`, { hint: 'use info, warning or error' });
      const findings = await lint(
        { file, dockerfile: loadDockerfile(source, file, { allowDuplicateStageNames: true }), context: lintContext(contextDir) },
        { ignore: o.ignore },
      );
      if (o.format === 'json') out(`${JSON.stringify(findings, null, 2)}\n`);
      else if (o.format === 'sarif') out(`${JSON.stringify(toSarif(file, findings, RULES), null, 2)}\n`);
      else if (o.format === 'text') out(findings.length ? formatText(file, findings) : '');
      else throw new BerthError('INVALID_ARGUMENT', `unknown format "${o.format}"`, { hint: 'use text, json or sarif' });
      const limit = SEVERITY_RANK[o.errorOn as 'error'];
      if (findings.some((f) => SEVERITY_RANK[f.severity] >= limit)) process.exitCode = 1;
    });
}
