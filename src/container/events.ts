/**
 * A container's events as docker words them: the actor is the container, its attributes its
 * labels, `image` (as the user named it) and `name`, plus what the action adds (`exitCode`
 * for die, `signal` for kill). Recorded by whichever process makes the change.
 */
import { constants } from 'node:os';
import { recordEvent } from '../store/events.ts';
import type { ContainerRecord } from './records.ts';

export function containerEvent(rec: ContainerRecord | undefined, action: string, extra: Readonly<Record<string, string>> = {}): void {
  if (rec) recordEvent('container', action, rec.id, { ...rec.config.labels, image: rec.imageRef, name: rec.name, ...extra });
}

/** A kill event's `signal` attribute: docker's is the number (`15`), whatever name it was given as. */
export function signalNumber(signal: string): string {
  const name = signal.toUpperCase().startsWith('SIG') ? signal.toUpperCase() : `SIG${signal.toUpperCase()}`;
  const n = (constants.signals as Record<string, number>)[name];
  return n === undefined ? signal : String(n);
}
