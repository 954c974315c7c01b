/**
 * execFile as a promise, made on first use. A module-level `promisify(execFile)` would read
 * child_process as the module loads, and loading it (with net and dgram) costs every command
 * time; bin/berth.cjs hands the bundle that module lazily, so a command that starts no tool
 * never loads it.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

type ExecFileAsync = typeof execFile.__promisify__;

let promised: ExecFileAsync | undefined;

export const execFileAsync = ((...args: Parameters<ExecFileAsync>) => (promised ??= promisify(execFile))(...args)) as ExecFileAsync;
