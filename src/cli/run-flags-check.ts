/**
 * What the docker CLI itself does with some `create`/`run` flags before it asks the engine:
 * checks each value with the flag named in the error, resolves a relative `-v` source
 * against the working dir (docker 23+), writes the `--cidfile`, and reads `stop`'s flags.
 */
import { closeSync, constants, openSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import {
  checkDnsSearch,
  checkExtraHost,
  checkIpAddress,
  checkLogConfig,
  checkOomScoreAdj,
  checkSignal,
  expandExpose,
  type LogConfig,
  parseTimeoutSeconds,
} from '../container/run-config.ts';
import { BerthError } from '../errors/index.ts';

/** Runs `check` on each value; its error is worded as docker words a flag's: `invalid argument "V" for "FLAG" flag: ...`. */
export function eachFlagValue<T>(values: readonly string[], flag: string, check: (v: string) => T): T[] {
  return values.map((v) => {
    try {
      return check(v);
    } catch (e) {
      if (e instanceof BerthError) throw new BerthError(e.code, `invalid argument "${v}" for "${flag}" flag: ${e.message}`, { hint: e.hint });
      throw e;
    }
  });
}

export const flagChecks = {
  addHost: (v: readonly string[]) => eachFlagValue(v, '--add-host', checkExtraHost),
  dns: (v: readonly string[]) => eachFlagValue(v, '--dns', checkIpAddress),
  dnsSearch: (v: readonly string[]) => eachFlagValue(v, '--dns-search', checkDnsSearch),
  expose: (v: readonly string[]) => v.flatMap(expandExpose),
};

/** `-a STREAM`s, lowercased; docker's error for any other word. */
export function attachStreams(values: readonly string[]): Array<'stdin' | 'stdout' | 'stderr'> {
  return eachFlagValue(values, '--attach', (v) => {
    const s = v.toLowerCase();
    if (s !== 'stdin' && s !== 'stdout' && s !== 'stderr') throw new BerthError('INVALID_ARGUMENT', 'valid streams are STDIN, STDOUT and STDERR');
    return s;
  });
}

/** `--log-driver` and `--log-opt KEY=VALUE`s, checked as docker's daemon checks them at create. */
export function logConfigOf(driver: string | undefined, opts: readonly string[]): LogConfig | undefined {
  if (driver === undefined && !opts.length) return undefined;
  const config: Record<string, string> = {};
  for (const o of opts) {
    const eq = o.indexOf('=');
    if (eq <= 0) throw new BerthError('INVALID_ARGUMENT', `invalid argument "${o}" for "--log-opt" flag: invalid key value pair format in log-opt`);
    config[o.slice(0, eq)] = o.slice(eq + 1);
  }
  return checkLogConfig(driver, config);
}

export function oomScoreAdjOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[+-]?\d+$/.test(value.trim())) {
    throw new BerthError('INVALID_ARGUMENT', `invalid argument "${value}" for "--oom-score-adj" flag: strconv.ParseInt: parsing "${value}": invalid syntax`);
  }
  return checkOomScoreAdj(Number(value));
}

/** `-v ./data:/data`: a source starting with `.` is a host path relative to the working dir, as docker 23+ reads it. */
export function absoluteVolumeSource(spec: string): string {
  const colon = spec.indexOf(':');
  if (colon < 0) return spec;
  const host = spec.slice(0, colon);
  if (isAbsolute(host) || !host.startsWith('.')) return spec;
  return `${resolve(host)}${spec.slice(colon)}`;
}

/**
 * `--cidfile`: claimed before the container is created (refused when the file is there, as
 * docker refuses it, so two runs never share one), and filled once the id is known by a
 * rename over the claim, so a reader sees an empty file or the whole id.
 */
export class CidFile {
  private constructor(private readonly path: string) {}

  /** `run` exits 127 for a file it cannot make, as the docker CLI's run maps "no such file or directory"; `create` exits 125. */
  static claim(path: string | undefined, verb: 'create' | 'run' = 'create'): CidFile | undefined {
    if (path === undefined) return undefined;
    if (statSync(path, { throwIfNoEntry: false })) {
      throw new BerthError('CONFLICT', `container ID file found, make sure the other container isn't running or delete ${path}`);
    }
    try {
      closeSync(openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644));
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const reason = err.code === 'ENOENT' ? 'no such file or directory' : err.code === 'EEXIST' ? 'file exists' : err.message;
      const code = verb === 'run' && err.code === 'ENOENT' ? 'CMD_NOT_FOUND' : 'INVALID_ARGUMENT';
      throw new BerthError(code, `failed to create the container ID file: open ${path}: ${reason}`);
    }
    return new CidFile(path);
  }

  write(id: string): void {
    const tmp = join(dirname(this.path), `.${process.pid}.cid.tmp`);
    writeFileSync(tmp, id, { mode: 0o644 });
    renameSync(tmp, this.path);
  }

  /** Create failed: the claim goes, as docker removes it. */
  release(): void {
    rmSync(this.path, { force: true });
  }
}

/** `stop`'s and `restart`'s `-t/--timeout` (or the old `--time`) and `-s/--signal`, checked as docker checks them. */
export function stopFlags(o: { timeout?: string; time?: string; signal?: string }): { timeout?: number; signal?: string } {
  const t = o.timeout ?? o.time;
  return {
    timeout: t === undefined ? undefined : parseTimeoutSeconds(t, o.timeout !== undefined ? '-t, --timeout' : '--time'),
    signal: o.signal === undefined ? undefined : checkSignal(o.signal),
  };
}
