/** Image verbs: import, images, tag, rmi, inspect, history, save, load, commit. */
import { createReadStream, createWriteStream } from 'node:fs';
import { Command } from 'commander';
import { BerthError } from '../errors/index.ts';
import { callerMode } from '../sys/umask.ts';
import { collect, getEngine, group, out } from './context.ts';
import { addFilterOption, cliFilters } from './filter-option.ts';
import { systemBoot } from './system-boot.ts';
import { systemReset } from './system-reset.ts';
import { systemDf } from './system-df.ts';
import { imagePrune, systemPrune } from './prune.ts';
import { imageExplain } from './image-explain.ts';
import { ago, formatRows, goTime, HISTORY_CONTEXT, humanSize, IMAGES_CONTEXT } from './format.ts';

export function register(program: Command): void {
  program
    .command('import')
    .description('Import the contents from a tarball to create a filesystem image')
    .argument('<file>', 'rootfs tarball (.tar or .tar.gz), or - for stdin')
    .argument('[reference]', 'name[:tag] for the new image')
    .option('-c, --change <instruction>', 'apply a Dockerfile instruction to the image', collect, [])
    .option('-m, --message <text>', 'commit message for the imported image')
    .option('--platform <platform>', 'set platform if server is multi-platform capable')
    .action(async (file: string, reference: string | undefined, o: { change: string[]; message?: string; platform?: string }, cmd: Command) => {
      const engine = await getEngine(cmd);
      const { importImage } = await import('../services/images.ts');
      const input = file === '-' ? process.stdin : createReadStream(file);
      input.on('error', () => undefined);
      const opened =
        file === '-'
          ? Promise.resolve()
          : new Promise<void>((res, rej) => {
              (input as ReturnType<typeof createReadStream>).once('open', () => res());
              input.once('error', (e: Error) => rej(new BerthError('NOT_FOUND', `cannot open ${file}: ${(e as Error).message}`)));
            });
      await opened;
      const rec = await importImage(engine, input, { reference, changes: o.change, message: o.message, source: file, platform: o.platform });
      out(`${rec.id}\n`);
    });

  const listImages = async (
    repo: string | undefined,
    o: { quiet?: boolean; format?: string; all?: boolean; digests?: boolean; noTrunc?: boolean; filter?: string[] },
    cmd: Command,
  ) => {
    const engine = await getEngine(cmd);
    const { listImages, listImagesFiltered } = await import('../services/images.ts');
    const filters = cliFilters(o.filter);
    const found = filters.size ? await listImagesFiltered(engine, { repository: repo, filters }) : listImages(engine, { repository: repo });
    const rows: Array<Record<string, unknown>> = found.map((img) => ({
      Repository: img.repository,
      Tag: img.tag,
      Digest: img.digest,
      ID: o.noTrunc ? img.id : img.id.slice(7, 19),
      CreatedAt: img.created ? goTime(img.created) : '',
      CreatedSince: ago(img.created),
      Size: humanSize(img.size),
      Containers: 'N/A',
      SharedSize: 'N/A',
      UniqueSize: 'N/A',
      VirtualSize: humanSize(img.size),
    }));
    if (o.quiet) {
      out([...new Set(rows.map((r) => String(r.ID)))].map((id) => `${id}\n`).join(''));
      return;
    }
    const headers = o.digests ? ['REPOSITORY', 'TAG', 'DIGEST', 'IMAGE ID', 'CREATED', 'SIZE'] : ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'];
    out(
      formatRows(
        o.format,
        rows,
        {
          headers,
          cells: (r) =>
            (o.digests ? [r.Repository, r.Tag, r.Digest, r.ID, r.CreatedSince, r.Size] : [r.Repository, r.Tag, r.ID, r.CreatedSince, r.Size]).map(String),
        },
        IMAGES_CONTEXT,
      ),
    );
  };
  for (const c of [program.command('images'), group(program, 'image', 'Manage images').command('ls')]) {
    addFilterOption(c, { short: true });
    c.description('List images')
      .argument('[repository]')
      .option('-q, --quiet', 'only show image IDs')
      .option('-a, --all', 'show all images')
      .option('--digests', 'show digests')
      .option('--no-trunc', 'do not truncate output')
      .option('--format <format>', 'table, json, or a Go template')
      .action(listImages);
  }

  program
    .command('tag')
    .description('Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE')
    .argument('<source>')
    .argument('<target>')
    .action(async (source: string, target: string, _o: unknown, cmd: Command) => {
      const engine = await getEngine(cmd);
      const { tagImage } = await import('../services/images.ts');
      tagImage(engine, source, target);
    });

  program
    .command('rmi')
    .description('Remove one or more images')
    .argument('<images...>')
    .option('-f, --force', 'force removal of the image')
    .action(async (images: string[], o: { force?: boolean }, cmd: Command) => {
      const engine = await getEngine(cmd);
      const { removeImage } = await import('../services/remove-image.ts');
      let failed: unknown;
      for (const name of images) {
        try {
          for (const ev of removeImage(engine, name, o)) out('Untagged' in ev ? `Untagged: ${ev.Untagged}\n` : `Deleted: ${ev.Deleted}\n`);
        } catch (e) {
          failed = e;
          if (images.length > 1) process.stderr.write(`Error response from daemon: ${(e as Error).message}\n`);
        }
      }
      if (failed) {
        if (images.length > 1) process.exitCode = 1;
        else throw failed;
      }
    });

  const inspectImages = async (names: string[], o: { format?: string; platform?: string }, cmd: Command) => {
    const engine = await getEngine(cmd);
    const { inspectImages: inspect } = await import('../services/images.ts');
    const { inspectEach, printInspect } = await import('./format-inspect.ts');
    const { views, missing } = await inspectEach(names, (name) => inspect(engine, [name], { platform: o.platform }));
    printInspect(o.format, views, { missing });
  };
  group(program, 'image')
    .command('inspect')
    .description('Display detailed information on one or more images')
    .argument('<images...>')
    .option('-f, --format <format>', 'format the output using a Go template')
    .option('--platform <platform>', "inspect that platform's image of a multi-platform image")
    .action(inspectImages);

  program
    .command('history')
    .description('Show the history of an image')
    .argument('<image>')
    .option('-q, --quiet', 'only show image IDs')
    .option('--no-trunc', 'do not truncate output')
    .option('-H, --human [bool]', 'print sizes and dates in human readable format', true)
    .option('--format <format>')
    .action(async (image: string, o: { quiet?: boolean; trunc?: boolean; format?: string }, cmd: Command) => {
      const engine = await getEngine(cmd);
      const { historyOf } = await import('../services/images.ts');
      const rows = await historyOf(engine, image);
      if (o.quiet) return out(rows.map((r) => `${r.id === '<missing>' ? r.id : r.id.slice(7, 19)}\n`).join(''));
      const view = rows.map((r) => ({
        ID: r.id === '<missing>' || o.trunc === false ? r.id : r.id.slice(7, 19),
        CreatedSince: ago(r.created),
        CreatedAt: r.created ?? '',
        CreatedBy: o.trunc === false || r.createdBy.length <= 45 ? r.createdBy : `${r.createdBy.slice(0, 44)}…`,
        Size: humanSize(r.size),
        Comment: r.comment,
      }));
      out(
        formatRows(
          o.format,
          view,
          {
            headers: ['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT'],
            cells: (r) => [r.ID, r.CreatedSince, r.CreatedBy, r.Size, r.Comment].map(String),
          },
          HISTORY_CONTEXT,
        ),
      );
    });

  program
    .command('save')
    .description('Save one or more images to a tar archive (streamed to STDOUT by default)')
    .argument('<images...>')
    .option('-o, --output <file>', 'write to a file instead of STDOUT')
    .option('--format <format>', 'docker-archive (default) or oci-archive', 'docker-archive')
    .action(async (images: string[], o: { output?: string; format: string }, cmd: Command) => {
      if (!o.output && process.stdout.isTTY) {
        throw new BerthError('INVALID_ARGUMENT', 'cowardly refusing to save to a terminal', { hint: 'use the -o flag or redirect' });
      }
      const engine = await getEngine(cmd);
      const { saveImages } = await import('../services/images.ts');
      const target = o.output ? createWriteStream(`${o.output}.tmp-${process.pid}`, { mode: callerMode(0o666) }) : process.stdout;
      await saveImages(engine, images, target, { format: o.format });
      if (o.output) {
        const { rename } = await import('node:fs/promises');
        await rename(`${o.output}.tmp-${process.pid}`, o.output);
      }
    });

  program
    .command('load')
    .description('Load an image from a tar archive or STDIN')
    .option('-i, --input <file>', 'read from a tar archive file (or an OCI layout directory) instead of STDIN')
    .option('-q, --quiet', 'suppress the load output')
    .action(async (o: { input?: string; quiet?: boolean }, cmd: Command) => {
      const engine = await getEngine(cmd);
      const { loadImages } = await import('../services/images.ts');
      const lines = await loadImages(engine, o.input ?? '-');
      if (!o.quiet) out(lines.map((l) => `${l}\n`).join(''));
    });

  program
    .command('commit')
    .description("Create a new image from a container's changes")
    .argument('<container>')
    .argument('[repository]', 'name[:tag] for the new image')
    .option('-a, --author <author>', 'author (e.g., "John Hannibal Smith <hannibal@a-team.com>")')
    .option('-c, --change <instruction>', 'apply a Dockerfile instruction to the created image', collect, [])
    .option('-m, --message <text>', 'commit message')
    .option('-p, --pause [bool]', 'pause the container during commit', 'true')
    .action(
      async (
        container: string,
        repository: string | undefined,
        o: { author?: string; change: string[]; message?: string; pause: string | boolean },
        cmd: Command,
      ) => {
        const engine = await getEngine(cmd);
        const { commitContainer } = await import('../services/commit.ts');
        const rec = await commitContainer(engine, container, {
          reference: repository,
          author: o.author,
          comment: o.message,
          changes: o.change,
          pause: o.pause !== 'false' && o.pause !== false,
        });
        out(`${rec.id}\n`);
      },
    );

  group(program, 'image').addCommand(imagePrune()).addCommand(imageExplain());
  program
    .command('system')
    .description('Manage berth')
    .addCommand(systemCheck())
    .addCommand(systemDf())
    .addCommand(systemPrune())
    .addCommand(systemBoot())
    .addCommand(systemReset());
}

function systemCheck() {
  return new Command('check').description('Verify every blob digest and every reference in the store').action(async (_o: unknown, cmd: Command) => {
    const engine = await getEngine(cmd);
    const { checkStore } = await import('../services/gc.ts');
    const r = await checkStore(engine);
    out(`checked ${r.blobs} blobs, ${r.images} images, ${r.layers} layers\n`);
    for (const p of r.problems) out(`problem: ${p}\n`);
    for (const l of r.leftovers) out(`leftover: ${l}\n`);
    if (r.problems.length) {
      throw new BerthError('DATA_CORRUPT', `the store has ${r.problems.length} problem(s)`, {
        hint: 'run `berth system prune` to drop unreferenced data; re-pull or re-load damaged images',
      });
    }
    // Leftovers are not damage (a failed pull keeps its partial download to resume): exit 0.
    out(r.leftovers.length ? `store is consistent; ${r.leftovers.length} leftover(s) that \`berth system prune\` removes\n` : 'store is consistent\n');
  });
}
