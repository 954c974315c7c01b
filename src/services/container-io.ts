/**
 * A container's streams as the CLI and the API reach them: its log (so far, and followed),
 * attaching to its monitor, exec, and copying files in and out. The executor's own entry
 * points (container/attach.ts, exec.ts, copy.ts) are re-exported so a front end has one place
 * to call.
 */
import { existsSync } from 'node:fs';
import { attachSocketPath } from '../container/attach.ts';
import { reconcile, type ContainerControl } from '../container/control.ts';
import { eachLogLineRotated, followLog, type LogLine } from '../container/logs.ts';
import { containerEvent } from '../container/events.ts';
import { containerPaths } from '../container/paths.ts';
import type { ContainerRecord } from '../container/records.ts';
import { BerthError } from '../errors/index.ts';

export { attachClient, encodeFrame, FrameDecoder, FrameKind } from '../container/attach.ts';
export { archiveContainerPath, extractToContainer, type PathStat, statContainerPath } from '../container/archive.ts';
export { copyFromContainer, copyToContainer, splitCopyArg } from '../container/copy.ts';
export { execInContainer, requireRunning, startExec, type ExecHandle, type ExecIo, type ExecOptions } from '../container/exec.ts';
export { execOnThisTerminal } from '../container/exec-terminal.ts';
export type { LogLine } from '../container/logs.ts';

/** A container's log so far (the last `tail` lines when given), and where a follow goes on from. */
export async function containerLogs(
  deps: Pick<ContainerControl, 'containers' | 'root' | 'runRoot'>,
  idOrName: string,
  opts: { tail?: number } = {},
): Promise<{ id: string; lines: LogLine[]; end: number }> {
  const rec = readableLog(deps, idOrName);
  let lines: LogLine[] = [];
  const end = await eachLogLineRotated(containerPaths(deps, rec.id).log, (l) => {
    lines.push(l);
  });
  if (opts.tail !== undefined) lines = lines.slice(Math.max(0, lines.length - opts.tail));
  return { id: rec.id, lines, end };
}

/** The container whose log is read; a container that keeps none (`--log-driver none`) is docker's error. */
function readableLog(deps: Pick<ContainerControl, 'containers'>, idOrName: string): ContainerRecord {
  const rec = deps.containers.require(idOrName);
  if (rec.config.logConfig?.type === 'none') throw new BerthError('UNSUPPORTED', 'configured logging driver does not support reading');
  return rec;
}

/**
 * Visits a container's log so far line by line, at the visitor's pace (the log is never held
 * whole); resolves with the container's id and where a follow goes on from.
 */
export async function visitContainerLogs(
  deps: Pick<ContainerControl, 'containers' | 'root' | 'runRoot'>,
  idOrName: string,
  visit: (l: LogLine) => unknown,
  opts: { signal?: AbortSignal } = {},
): Promise<{ id: string; end: number }> {
  const rec = readableLog(deps, idOrName);
  return { id: rec.id, end: await eachLogLineRotated(containerPaths(deps, rec.id).log, visit, opts) };
}

/** Emits a container's log lines from byte `start` on until it stops running (or `signal` aborts); a promise `emit` returns is waited for. */
export function followLogs(
  deps: ContainerControl,
  id: string,
  start: number,
  emit: (l: LogLine) => unknown,
  opts: { signal?: AbortSignal } = {},
): Promise<void> {
  return followLog(deps, id, start, emit, opts);
}

/**
 * What `attach` connects to: the running container and its monitor's socket, or no socket
 * when another CLI runs it attached (then only its log can be followed).
 */
export function attachTarget(deps: ContainerControl, idOrName: string): { rec: ContainerRecord; socket?: string } {
  const rec = deps.containers.require(idOrName);
  if (rec.state.status !== 'running') throw new BerthError('CONFLICT', 'You cannot attach to a stopped container, start it first');
  const socket = attachSocketPath(deps, rec.id);
  return { rec, socket: existsSync(socket) ? socket : undefined };
}

/** A container's record as it is now (a running one whose recorder died is reconciled), undefined when gone. */
export async function currentRecord(deps: ContainerControl, id: string): Promise<ContainerRecord | undefined> {
  const cur = deps.containers.get(id);
  return cur ? reconcile(deps, cur) : undefined;
}

/** The exit code a container ended with (reconciled first), 0 when it is gone. */
export async function exitCodeOf(deps: ContainerControl, id: string): Promise<number> {
  const cur = deps.containers.get(id);
  return cur ? (await reconcile(deps, cur)).state.exitCode : 0;
}

/** docker's `attach` event, for an attach through the API (an attached CLI run records its own). */
export function recordAttach(rec: ContainerRecord): void {
  containerEvent(rec, 'attach');
}
