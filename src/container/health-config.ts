/**
 * Health checks as docker configures and judges them, pure: Go durations (the `--health-*`
 * flags' syntax and the timeout message's), the flags and API fields checked in docker's
 * words, the image's HEALTHCHECK merged under the container's, and what one probe's result
 * does to `State.Health`. The monitor runs the probes (health.ts).
 */
import { parseGoDuration as parseGoDurationNs } from '../gotime/index.ts';
import { BerthError } from '../errors/index.ts';

/** docker's HealthConfig: durations in nanoseconds, 0 meaning the default (or the image's). */
export interface HealthConfig {
  readonly Test?: readonly string[] | null;
  readonly Interval?: number;
  readonly Timeout?: number;
  readonly StartPeriod?: number;
  readonly StartInterval?: number;
  readonly Retries?: number;
}

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

/** One probe, as inspect's `State.Health.Log` shows it. */
export interface HealthResult {
  readonly Start: string;
  readonly End: string;
  readonly ExitCode: number;
  readonly Output: string;
}

export interface HealthState {
  readonly Status: HealthStatus;
  readonly FailingStreak: number;
  readonly Log: readonly HealthResult[];
}

/** docker's defaults (daemon/health.go). */
export const HEALTH_DEFAULTS = {
  intervalMs: 30_000,
  timeoutMs: 30_000,
  startPeriodMs: 0,
  startIntervalMs: 5_000,
  retries: 3,
  /** Output kept of a probe, in bytes; more is cut and marked `...`. */
  maxOutput: 4096,
  /** Probes kept in the log. */
  maxLog: 5,
} as const;

/**
 * Go's time.ParseDuration in nanoseconds as a number (exact to 2^53 ns, some 104 days, which no
 * health setting needs beyond); undefined when the text is not a duration (gotime/).
 */
export function parseGoDuration(text: string): number | undefined {
  const ns = parseGoDurationNs(text);
  return ns === undefined ? undefined : Number(ns);
}

/** Go's Duration.String(): `30s`, `1.5s`, `500ms`, `1m0s`, `1h0m0s`. */
export function formatGoDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let n = Math.abs(ns);
  const sign = neg ? '-' : '';
  const frac = (v: number, digits: number): string => {
    const s = String(v).padStart(digits, '0').replace(/0+$/, '');
    return s ? `.${s}` : '';
  };
  if (n < 1e9) {
    if (n < 1e3) return `${sign}${n}ns`;
    if (n < 1e6) return `${sign}${Math.floor(n / 1e3)}${frac(n % 1e3, 3)}\u00b5s`;
    return `${sign}${Math.floor(n / 1e6)}${frac(n % 1e6, 6)}ms`;
  }
  const secs = `${Math.floor(n / 1e9) % 60}${frac(n % 1e9, 9)}s`;
  n = Math.floor(n / 1e9);
  if (n < 60) return `${sign}${secs}`;
  const mins = Math.floor(n / 60) % 60;
  const hours = Math.floor(n / 3600);
  return hours ? `${sign}${hours}h${mins}m${secs}` : `${sign}${mins}m${secs}`;
}

/** The `--health-*` flags as the docker CLI takes them (durations as typed). */
export interface HealthFlags {
  readonly cmd?: string;
  readonly interval?: string;
  readonly timeout?: string;
  readonly retries?: string;
  readonly startPeriod?: string;
  readonly startInterval?: string;
  readonly none?: boolean;
}

function invalid(message: string): BerthError {
  return new BerthError('INVALID_ARGUMENT', message);
}

function flagDuration(flag: string, text: string | undefined): number {
  if (text === undefined) return 0;
  const ns = parseGoDuration(text);
  if (ns === undefined) throw invalid(`invalid argument "${text}" for "--${flag}" flag: time: invalid duration "${text}"`);
  if (ns < 0) throw invalid(`--${flag} cannot be negative`);
  return ns;
}

/** The docker CLI's reading of the flags: undefined when none was given, `NONE` for `--no-healthcheck`. */
export function healthFromFlags(f: HealthFlags): HealthConfig | undefined {
  let retries = 0;
  if (f.retries !== undefined) {
    if (!/^[+-]?\d+$/.test(f.retries) || !Number.isSafeInteger(Number(f.retries))) {
      throw invalid(`invalid argument "${f.retries}" for "--health-retries" flag: strconv.ParseInt: parsing "${f.retries}": invalid syntax`);
    }
    retries = Number(f.retries);
  }
  const config = {
    Interval: flagDuration('health-interval', f.interval),
    Timeout: flagDuration('health-timeout', f.timeout),
    StartPeriod: flagDuration('health-start-period', f.startPeriod),
    StartInterval: flagDuration('health-start-interval', f.startInterval),
    Retries: retries,
  };
  const any = !!f.cmd || Object.values(config).some((v) => v !== 0);
  if (f.none) {
    if (any) throw invalid('--no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  if (!any) return undefined;
  if (retries < 0) throw invalid('--health-retries cannot be negative');
  return { ...(f.cmd ? { Test: ['CMD-SHELL', f.cmd] } : {}), ...config };
}

/** The daemon's check (of the flags' result and of an API body's Healthcheck), in its words. */
export function validateHealthConfig(h: HealthConfig | undefined): void {
  if (!h) return;
  const MIN = 1_000_000; // docker's MinimumDuration, 1ms
  for (const [key, label] of [
    ['Interval', 'Interval'],
    ['Timeout', 'Timeout'],
    ['StartPeriod', 'StartPeriod'],
    ['StartInterval', 'StartInterval'],
  ] as const) {
    const v = h[key] ?? 0;
    if (!Number.isFinite(v)) throw invalid(`${label} in Healthcheck must be a number of nanoseconds`);
    if (v !== 0 && v < MIN) throw invalid(`${label} in Healthcheck cannot be less than 1ms`);
  }
  if ((h.Retries ?? 0) < 0) throw invalid('Retries in Healthcheck cannot be negative');
  const kind = h.Test?.[0];
  if (kind !== undefined && !['NONE', 'CMD', 'CMD-SHELL'].includes(kind)) {
    throw invalid(`unknown Healthcheck type '${kind}': use CMD, CMD-SHELL or NONE`);
  }
  if ((kind === 'CMD' || kind === 'CMD-SHELL') && h.Test!.length < 2) throw invalid(`Healthcheck ${kind} needs a command`);
}

/** docker's merge at create: each field the container leaves unset comes from the image's HEALTHCHECK. */
export function mergeHealthConfig(user: HealthConfig | undefined, image: HealthConfig | undefined): HealthConfig | undefined {
  if (!image) return user;
  if (!user)
    return {
      Test: image.Test,
      Interval: image.Interval,
      Timeout: image.Timeout,
      StartPeriod: image.StartPeriod,
      StartInterval: image.StartInterval,
      Retries: image.Retries,
    };
  return {
    Test: user.Test?.length ? user.Test : image.Test,
    Interval: user.Interval || image.Interval,
    Timeout: user.Timeout || image.Timeout,
    StartPeriod: user.StartPeriod || image.StartPeriod,
    StartInterval: user.StartInterval || image.StartInterval,
    Retries: user.Retries || image.Retries,
  };
}

/** The argv a probe runs, or undefined when there is none to run (no test, NONE). */
export function probeCommand(h: HealthConfig | undefined, shell: readonly string[] = ['/bin/sh', '-c']): string[] | undefined {
  const test = h?.Test;
  if (!test?.length || test.length < 2) return undefined;
  if (test[0] === 'CMD') return test.slice(1);
  if (test[0] === 'CMD-SHELL') return [...shell, test.slice(1).join(' ')];
  return undefined;
}

/** The probe schedule in milliseconds, defaults applied. */
export interface HealthSchedule {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly startPeriodMs: number;
  readonly startIntervalMs: number;
  readonly retries: number;
}

export function healthSchedule(h: HealthConfig): HealthSchedule {
  const ms = (ns: number | undefined, def: number) => (ns ? ns / 1e6 : def);
  return {
    intervalMs: ms(h.Interval, HEALTH_DEFAULTS.intervalMs),
    timeoutMs: ms(h.Timeout, HEALTH_DEFAULTS.timeoutMs),
    startPeriodMs: ms(h.StartPeriod, HEALTH_DEFAULTS.startPeriodMs),
    startIntervalMs: ms(h.StartInterval, HEALTH_DEFAULTS.startIntervalMs),
    retries: h.Retries && h.Retries > 0 ? h.Retries : HEALTH_DEFAULTS.retries,
  };
}

/**
 * How long until the next probe, `elapsedMs` after the container started: the start interval
 * while starting inside the start period, never past the period's end, else the interval.
 */
export function nextProbeDelay(s: HealthSchedule, status: HealthStatus, elapsedMs: number): number {
  if (elapsedMs >= s.startPeriodMs) return s.intervalMs;
  const remaining = s.startPeriodMs - elapsedMs;
  if (remaining < s.intervalMs) return remaining;
  return status === 'starting' ? s.startIntervalMs : s.intervalMs;
}

/** `State.Health` as a run begins. */
export function startingHealth(prev: HealthState | undefined): HealthState {
  return { Status: 'starting', FailingStreak: 0, Log: prev?.Log ?? [] };
}

/**
 * docker's handleProbeResult: a 0 exit is healthy; any other counts against the streak,
 * except while starting inside the start period, and `retries` failures in a row are unhealthy.
 */
export function applyProbeResult(h: HealthState, r: HealthResult, s: HealthSchedule, startedAtMs: number): HealthState {
  const log = [...h.Log, r].slice(-HEALTH_DEFAULTS.maxLog);
  if (r.ExitCode === 0) return { Status: 'healthy', FailingStreak: 0, Log: log };
  const inStartPeriod = h.Status === 'starting' && Date.parse(r.Start) - startedAtMs < s.startPeriodMs;
  if (inStartPeriod) return { ...h, Log: log };
  const streak = h.FailingStreak + 1;
  return { Status: streak >= s.retries ? 'unhealthy' : h.Status, FailingStreak: streak, Log: log };
}

/** A probe's output as docker keeps it: at most 4096 bytes, `...` when cut. */
export function probeOutput(buf: Buffer, truncated: boolean): string {
  return buf.toString('utf8') + (truncated ? '...' : '');
}

/** ps's word for it: `health: starting`, `healthy`, `unhealthy`. */
export function healthText(status: HealthStatus): string {
  return status === 'starting' ? 'health: starting' : status;
}
