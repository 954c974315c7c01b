/**
 * Finds the command in the container's rootfs before runc starts it, so a missing command
 * gives Docker's 127 and a non-executable one 126, with Docker's message, and fast.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { BerthError } from '../errors/index.ts';
import { resolveInRoot } from '../layer/safe-path.ts';

export async function checkCommand(rootfs: string, command: string, env: readonly string[], workdir: string): Promise<void> {
  const path = env.find((e) => e.startsWith('PATH='))?.slice(5) ?? '';
  const candidates = command.includes('/')
    ? [command.startsWith('/') ? command : `${workdir || '/'}/${command}`]
    : path.split(':').filter(Boolean).map((d) => `${d}/${command}`);
  let sawNonExec: string | undefined;
  for (const c of candidates) {
    const host = await resolveInRoot(rootfs, c, { followFinal: true });
    const st = await stat(host).catch(() => undefined);
    if (!st) continue;
    if (st.isDirectory()) {
      sawNonExec ??= c;
      continue;
    }
    if (st.mode & 0o111) {
      try {
        await access(host, constants.X_OK);
        return;
      } catch {
        /* fall through */
      }
    }
    sawNonExec ??= c;
  }
  if (sawNonExec) {
    throw new BerthError('CMD_NOT_EXECUTABLE', `failed to create task for container: exec: "${command}": permission denied: unknown`, {
      hint: `${sawNonExec} is not an executable file in the image`,
    });
  }
  const why = command.includes('/') ? 'stat ' + command + ': no such file or directory' : 'executable file not found in $PATH';
  throw new BerthError('CMD_NOT_FOUND', `failed to create task for container: exec: "${command}": ${why}: unknown`);
}
