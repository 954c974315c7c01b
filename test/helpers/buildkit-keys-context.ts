/**
 * The build context whose BuildKit cache records were taken from docker's BuildKit (a
 * multi-stage build with ENV, ARG, USER, SHELL, COPY of several sources and of `.` with a
 * .dockerignore, relative WORKDIR): the unit test pins its keys, the integration test builds it.
 * Modes are fixed, as a context's checksum covers them.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const FILES: Record<string, string> = {
  f1: '1\n',
  f2: '2\n',
  f3: '3\n',
  'd/x': 'x\n',
  'd/e/y': 'y\n',
  '.dockerignore': 'f3\n',
  Dockerfile:
    'FROM 127.0.0.1:5077/bb:base AS base\nENV A=1 B=2\nENV A=3\nARG V\nRUN echo base > /base\nFROM base\nARG W=w\nUSER 1000\n' +
    'RUN id > /tmp/id\nUSER root\nCOPY f1 f2 /multi/\nCOPY f1 f2 d /three/\nCOPY . /all\nSHELL ["/bin/sh", "-ec"]\n' +
    'RUN echo shell > /shell\nRUN ["/bin/echo", "exec form"]\nWORKDIR rel\nRUN pwd > /pwd\n',
};

/** Writes the context into `dir` (which must exist). */
export function writeBuildkitKeysContext(dir: string): void {
  mkdirSync(join(dir, 'd', 'e'), { recursive: true });
  for (const d of ['', 'd', 'd/e']) chmodSync(join(dir, d), 0o755);
  for (const [name, text] of Object.entries(FILES)) {
    writeFileSync(join(dir, name), text);
    chmodSync(join(dir, name), 0o644);
  }
}
