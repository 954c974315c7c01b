/**
 * Restart policies as docker has them, pure: the `--restart` flag's syntax, the daemon's
 * validation, and the decisions docker's restart manager makes when a container exits
 * (restart or not, after how long) and when the host comes back (`berth system boot`).
 * The monitor (monitor.ts) acts on these decisions; nothing here reads a record or a clock.
 */
import { BerthError } from '../errors/index.ts';

export type RestartPolicyName = 'no' | 'always' | 'on-failure' | 'unless-stopped';

/** A container's policy as its record keeps it; `maximumRetryCount` 0 is no limit (on-failure only). */
export interface RestartPolicy {
  readonly name: RestartPolicyName;
  readonly maximumRetryCount: number;
}

export const NO_RESTART: RestartPolicy = { name: 'no', maximumRetryCount: 0 };

/** docker's back-off: 100 ms, doubled at each restart up to a minute, back to 100 ms once a run lasted 10 s. */
export const BACKOFF = { initialMs: 100, maxMs: 60_000, resetAfterMs: 10_000 } as const;

const NAMES: readonly RestartPolicyName[] = ['no', 'always', 'on-failure', 'unless-stopped'];

function invalid(message: string): BerthError {
  return new BerthError('INVALID_ARGUMENT', message);
}

/**
 * The `--restart` flag in the docker CLI's (28.2) syntax, `NAME[:COUNT]`; the name is checked by
 * `validateRestartPolicy`, which takes an empty one (`:3`) as none, as the daemon does.
 */
export function parseRestartFlag(spec: string): { Name: string; MaximumRetryCount: number } {
  if (spec === '') return { Name: '', MaximumRetryCount: 0 };
  const colon = spec.indexOf(':');
  const name = colon < 0 ? spec : spec.slice(0, colon);
  const count = colon < 0 ? '' : spec.slice(colon + 1);
  let retries = 0;
  if (count !== '') {
    // Go's strconv.Atoi: an optional sign and decimal digits that fit an int64.
    if (!/^[+-]?\d+$/.test(count) || !Number.isSafeInteger(Number(count))) {
      throw invalid('maximum retry count must be an integer');
    }
    retries = Number(count);
  }
  return { Name: name, MaximumRetryCount: retries };
}

/**
 * The daemon's check of a policy (a flag's or an API body's), in its words; `autoRemove` is
 * `--rm`, which no policy but `no` goes with.
 */
export function validateRestartPolicy(raw: { Name?: string | null; MaximumRetryCount?: number | null } | null | undefined, autoRemove = false): RestartPolicy {
  const name = raw?.Name ?? '';
  const count = raw?.MaximumRetryCount ?? 0;
  if (!Number.isSafeInteger(count)) throw invalid('invalid restart policy: maximum retry count must be an integer');
  if (name === '') return NO_RESTART; // docker before v25 wrote an empty name for none
  if (!NAMES.includes(name as RestartPolicyName)) {
    throw invalid(`invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  }
  if (name === 'on-failure') {
    if (count < 0) throw invalid('invalid restart policy: maximum retry count cannot be negative');
  } else if (count !== 0) {
    throw invalid(`invalid restart policy: maximum retry count can only be used with 'on-failure'${count < 0 ? ' and cannot be negative' : ''}`);
  }
  const policy = { name: name as RestartPolicyName, maximumRetryCount: count };
  if (autoRemove && policy.name !== 'no') throw invalid("can't create 'AutoRemove' container with restart policy");
  return policy;
}

/** What is known of a run that just ended. */
export interface RunEnd {
  readonly exitCode: number;
  /** `stop`, or a `kill` (SIGKILL, the stop signal, any signal when none is named) asked for it (docker's HasBeenManuallyStopped and ExitOnNext). */
  readonly stoppedByUser: boolean;
  /** Restarts so far, since the user last started it. */
  readonly restartCount: number;
  /** How long the run lasted. */
  readonly ranMs: number;
}

export type RestartDecision = { readonly restart: false } | { readonly restart: true; readonly delayMs: number };

/** The back-off after a run of `ranMs`, the last one having been `lastDelayMs` (0 for none yet). */
export function nextDelay(lastDelayMs: number, ranMs: number): number {
  const last = ranMs >= BACKOFF.resetAfterMs ? 0 : lastDelayMs;
  if (last <= 0) return BACKOFF.initialMs;
  return Math.min(last * 2, BACKOFF.maxMs);
}

/**
 * docker's restart manager on an exit: `always` restarts, `unless-stopped` unless the user
 * stopped it, `on-failure` on a non-zero exit while under its count (0: no limit). A stop
 * or kill by the user cancels any restart. `lastDelayMs` is the previous back-off.
 */
export function decideRestart(policy: RestartPolicy, end: RunEnd, lastDelayMs: number): RestartDecision {
  if (end.stoppedByUser || policy.name === 'no') return { restart: false };
  let restart = false;
  if (policy.name === 'always' || policy.name === 'unless-stopped') restart = true;
  else if (policy.maximumRetryCount === 0 || end.restartCount < policy.maximumRetryCount) restart = end.exitCode !== 0;
  return restart ? { restart: true, delayMs: nextDelay(lastDelayMs, end.ranMs) } : { restart: false };
}

/** What `berth system boot` knows of a container whose monitor is gone. */
export interface BootFacts {
  readonly stoppedByUser: boolean;
  /** The record said running or restarting: the host went down under it. */
  readonly wasLive: boolean;
  readonly exitCode: number;
  readonly restartCount: number;
}

/**
 * Whether a daemon coming up starts the container, as dockerd's restore does: `always`
 * even after a manual stop, `unless-stopped` unless stopped by the user, `on-failure` when
 * it was lost running or failed under its count and the user did not stop it.
 */
export function startsAtBoot(policy: RestartPolicy, f: BootFacts): boolean {
  switch (policy.name) {
    case 'always':
      return true;
    case 'unless-stopped':
      return !f.stoppedByUser;
    case 'on-failure':
      if (f.stoppedByUser) return false;
      return f.wasLive || (f.exitCode !== 0 && (policy.maximumRetryCount === 0 || f.restartCount < policy.maximumRetryCount));
    default:
      return false;
  }
}

/** docker's inspect `HostConfig.RestartPolicy`. */
export function restartPolicyView(p: RestartPolicy | undefined): { Name: string; MaximumRetryCount: number } {
  return { Name: p?.name ?? 'no', MaximumRetryCount: p?.maximumRetryCount ?? 0 };
}
