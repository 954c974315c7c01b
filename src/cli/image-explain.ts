/** `image explain IMAGE`: why an image is big, for a terminal, as JSON, or as an HTML page. */
import { Command } from 'commander';
import { BerthError } from '../errors/index.ts';
import { callerMode } from '../sys/umask.ts';
import { getEngine, out } from './context.ts';

interface ExplainFlags {
  readonly format?: string;
  readonly html?: string;
  readonly file?: string;
}

export function imageExplain(): Command {
  return new Command('explain')
    .description('Show what each layer of an image adds, and the bytes it wastes')
    .argument('<image>')
    .option('-f, --file <path>', 'the Dockerfile the image was built from, to show the line behind each layer (an image berth built needs none)')
    .option('--format <format>', 'table (default) or json')
    .option('--html <file>', 'also write a self-contained HTML page with a treemap of the image')
    .action(async (image: string, o: ExplainFlags, cmd: Command) => {
      const format = o.format ?? 'table';
      if (format !== 'table' && format !== 'json') {
        throw new BerthError('INVALID_ARGUMENT', `unknown format "${format}"`, { hint: 'use --format table or --format json' });
      }
      const engine = await getEngine(cmd);
      const { explain, renderHtml, renderText } = await import('../services/explain.ts');
      const { report, tree } = await explain(engine, image, { dockerfile: o.file });
      if (o.html) {
        const { rename, writeFile } = await import('node:fs/promises');
        const tmp = `${o.html}.tmp-${process.pid}`;
        try {
          await writeFile(tmp, renderHtml(report, tree), { mode: callerMode(0o666) });
          await rename(tmp, o.html);
        } catch (e) {
          throw new BerthError('INVALID_ARGUMENT', `cannot write ${o.html}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        }
      }
      if (format === 'json') return out(`${JSON.stringify(report, null, 2)}\n`);
      const color = !!process.stdout.isTTY && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
      out(renderText(report, { color, width: process.stdout.columns }));
    });
}
