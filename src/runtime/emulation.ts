/**
 * Images of another architecture run the way Docker runs them on a host set up for it: the
 * kernel's binfmt_misc hands foreign ELF binaries to a static qemu (Debian package
 * `qemu-user-static`). berth registers the emulator on demand from the package's own
 * binfmt.d entry when the host has not (binfmt_misc is often not even mounted in a VM without
 * systemd). The entry's F flag makes the kernel open the interpreter at registration, so it
 * works inside every container's mount namespace without being in the image.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { hostPlatform } from '../oci/platform.ts';
import { execFileAsync } from '../sys/exec-file.ts';
import { settings } from '../config/index.ts';

const BINFMT = '/proc/sys/fs/binfmt_misc';
const BINFMT_D = settings().binfmtDir;

/** OCI architecture → qemu's name for it. */
const QEMU_ARCH: Record<string, string> = {
  arm64: 'aarch64',
  arm: 'arm',
  '386': 'i386',
  amd64: 'x86_64',
  ppc64le: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  mips64le: 'mips64el',
};

export type Emulation = 'native' | 'emulated' | 'unavailable';

async function registered(name: string): Promise<boolean> {
  return (await readFile(`${BINFMT}/${name}`, 'utf8').catch(() => '')).startsWith('enabled');
}

/** Whether binaries of `architecture` can run here, registering qemu for it if need be. */
export async function ensureEmulator(architecture: string): Promise<Emulation> {
  if (architecture === hostPlatform().architecture) return 'native';
  const qemu = QEMU_ARCH[architecture];
  if (!qemu) return 'unavailable';
  const name = `qemu-${qemu}`;
  if (await registered(name)) return 'emulated';
  const entry = (await readFile(`${BINFMT_D}/${name}.conf`, 'utf8').catch(() => '')).split('\n').find((l) => l.startsWith(`:${name}:`));
  if (!entry) return 'unavailable';
  if (!existsSync(`${BINFMT}/register`)) await execFileAsync('mount', ['-t', 'binfmt_misc', 'binfmt_misc', BINFMT]).catch(() => undefined);
  // Another process may register it between the check and the write: EEXIST is success then.
  await writeFile(`${BINFMT}/register`, entry).catch(() => undefined);
  return (await registered(name)) ? 'emulated' : 'unavailable';
}
