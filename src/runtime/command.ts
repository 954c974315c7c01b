/**
 * Finds the command in the container's rootfs before runc starts it, so a missing command
 * gives Docker's 127 and a non-executable one 126, with Docker's message, and fast.
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { BerthError } from '../errors/index.ts';
import { closeFd, fdPath, fstatFd, openInRoot, openRoot } from '../sys/in-root.ts';

export async function checkCommand(rootfs: string, command: string, env: readonly string[], workdir: string): Promise<void> {
  const path = env.find((e) => e.startsWith('PATH='))?.slice(5) ?? '';
  const candidates = command.includes('/')
    ? [command.startsWith('/') ? command : `${workdir || '/'}/${command}`]
    : path
        .split(':')
        .filter(Boolean)
        .map((d) => `${d}/${command}`);
  let sawNonExec: string | undefined;
  const rootFd = openRoot(rootfs);
  try {
    for (const c of candidates) {
      // Opened in the root: an exec's container may swap a dir of its PATH for a link to the host's.
      let fd: number;
      try {
        fd = openInRoot(rootFd, c, { followFinal: true });
      } catch {
        continue;
      }
      try {
        const st = fstatFd(fd);
        if (st.isDirectory()) {
          sawNonExec ??= c;
          continue;
        }
        if (st.mode & 0o111) {
          try {
            await access(fdPath(fd), constants.X_OK);
            return;
          } catch {
            /* fall through */
          }
        }
        sawNonExec ??= c;
      } finally {
        closeFd(fd);
      }
    }
  } finally {
    closeFd(rootFd);
  }
  if (sawNonExec) {
    throw new BerthError('CMD_NOT_EXECUTABLE', `failed to create task for container: exec: "${command}": permission denied: unknown`, {
      hint: `${sawNonExec} is not an executable file in the image`,
    });
  }
  const why = command.includes('/') ? `stat ${command}: no such file or directory` : 'executable file not found in $PATH';
  throw new BerthError('CMD_NOT_FOUND', `failed to create task for container: exec: "${command}": ${why}: unknown`);
}
