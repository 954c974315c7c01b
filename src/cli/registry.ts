/** pull, push, login, logout — docker's output lines. */
import type { Command } from 'commander';
import { BerthError } from '../errors/index.ts';
import type { ProgressEvent } from '../progress/transfer-events.ts';
import { getEngine, out } from './context.ts';

/**
 * Per-blob progress: live bars on a terminal (progress/transfer-tty.ts), docker's final
 * lines otherwise. `finish` draws the last state.
 */
async function transferProgress(verb: 'Pull complete' | 'Pushed'): Promise<{ onProgress: (ev: ProgressEvent) => void; finish: () => void }> {
  if (!process.stdout.isTTY) return { onProgress: layerLines(verb), finish: () => undefined };
  const { transferRenderer } = await import('../progress/transfer-tty.ts');
  const r = transferRenderer((s) => process.stdout.write(s), {
    active: verb === 'Pushed' ? 'Pushing' : 'Downloading',
    done: verb,
    exists: verb === 'Pushed' ? 'Layer already exists' : 'Already exists',
  });
  return { onProgress: r.onProgress, finish: r.finish };
}

function layerLines(verb: string): (ev: ProgressEvent) => void {
  return (ev) => {
    if (ev.kind === 'blob-done') {
      const what =
        ev.skipped === 'exists'
          ? verb === 'Pushed'
            ? 'Layer already exists'
            : 'Already exists'
          : ev.skipped === 'mounted'
            ? 'Mounted from another repository'
            : verb;
      out(`${ev.digest.slice(7, 19)}: ${what}\n`);
    }
  };
}

/** docker 28's words when credentials land in config.json in the clear. */
export function unencryptedWarning(file: string): string {
  return `\nWARNING! Your credentials are stored unencrypted in '${file}'.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n\n`;
}

async function readPasswordFromStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString()
    .replace(/\r?\n$/, '');
}

export function register(program: Command): void {
  program
    .command('pull')
    .description('Download an image from a registry')
    .argument('<name>', 'NAME[:TAG|@DIGEST]')
    .option('-a, --all-tags', 'download all tagged images in the repository')
    .option('--platform <platform>', 'set platform if server is multi-platform capable')
    .option('--tls-verify <bool>', 'require HTTPS and verify certificates', 'true')
    .option('-q, --quiet', 'suppress verbose output')
    .action(async (name: string, o: { allTags?: boolean; platform?: string; tlsVerify: string; quiet?: boolean }, cmd: Command) => {
      const engine = await getEngine(cmd);
      const { pull, pullAllTags } = await import('../services/registry.ts');
      const progress = o.quiet ? undefined : await transferProgress('Pull complete');
      const request = {
        platform: o.platform,
        insecure: o.tlsVerify === 'false',
        onStart: o.quiet ? undefined : (p: { tagOrDigest: string; repository: string }) => out(`${p.tagOrDigest}: Pulling from ${p.repository}\n`),
        onProgress: progress?.onProgress,
      };
      if (o.allTags) {
        // docker's form: each tag's lines and digest, then one status for the repository.
        const all = await pullAllTags(engine, name, {
          ...request,
          onStart: o.quiet
            ? undefined
            : (p) => {
                progress?.finish();
                out(`${p.tagOrDigest}: Pulling from ${p.repository}\n`);
              },
        }).finally(() => progress?.finish());
        if (!o.quiet) out(`${all.results.map((r) => `Digest: ${r.digest}\n`).join('')}Status: Downloaded newer image for ${all.familiar}\n`);
        out(`${all.repository}\n`);
        return;
      }
      const r = await pull(engine, name, request).finally(() => progress?.finish());
      if (!o.quiet) out(`Digest: ${r.digest}\nStatus: Downloaded newer image for ${r.familiar}\n`);
      out(`${r.ref}\n`);
    });

  program
    .command('push')
    .description('Upload an image to a registry')
    .argument('<name>', 'NAME[:TAG]')
    .option('--tls-verify <bool>', 'require HTTPS and verify certificates', 'true')
    .option('--compression-format <format>', 'auto (gzip unless it does not pay), gzip, none or zstd', 'auto')
    .option('-q, --quiet', 'suppress verbose output')
    .action(async (name: string, o: { tlsVerify: string; compressionFormat: string; quiet?: boolean }, cmd: Command) => {
      const engine = await getEngine(cmd);
      const { push } = await import('../services/registry.ts');
      const progress = o.quiet ? undefined : await transferProgress('Pushed');
      const r = await push(engine, name, {
        insecure: o.tlsVerify === 'false',
        compression: o.compressionFormat,
        onStart: o.quiet ? undefined : (p) => out(`The push refers to repository [${p.repository}]\n`),
        onProgress: progress?.onProgress,
        onMessage: o.quiet ? undefined : (s) => out(`${s}\n`),
      }).finally(() => progress?.finish());
      out(o.quiet ? `${name}\n` : `${r.tag}: digest: ${r.digest} size: ${r.size}\n`);
    });

  program
    .command('login')
    .description('Authenticate to a registry')
    .argument('[server]', 'registry host (default docker.io)', 'docker.io')
    .option('-u, --username <name>', 'username')
    .option('-p, --password <password>', 'password or personal access token')
    .option('--password-stdin', 'take the password from stdin')
    .option('--tls-verify <bool>', 'require HTTPS and verify certificates', 'true')
    .action(async (server: string, o: { username?: string; password?: string; passwordStdin?: boolean; tlsVerify: string }) => {
      const { login } = await import('../services/registry.ts');
      if (o.password && o.passwordStdin) throw new BerthError('INVALID_ARGUMENT', '--password and --password-stdin are mutually exclusive');
      if (o.password) process.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
      const prompt = await import('./prompt.ts');
      if (o.passwordStdin && !o.username) throw new BerthError('INVALID_ARGUMENT', 'Must provide --username with --password-stdin');
      const username = o.username ?? (await prompt.askLine('Username: '));
      const password = o.passwordStdin ? await readPasswordFromStdin() : (o.password ?? (await prompt.askSecret('Password: ')));
      const r = await login(server, { username, password }, { insecure: o.tlsVerify === 'false' });
      if (r.unencryptedIn) process.stderr.write(unencryptedWarning(r.unencryptedIn));
      out('Login Succeeded\n');
    });

  program
    .command('logout')
    .description('Log out from a registry')
    .argument('[server]', 'registry host (default docker.io)', 'docker.io')
    .action(async (server: string) => {
      const { logout } = await import('../services/registry.ts');
      const { registry, removed } = await logout(server);
      out(removed ? `Removing login credentials for ${registry}\n` : `Not logged in to ${registry}\n`);
    });
}
