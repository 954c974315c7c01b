/**
 * `--log-driver` and `--log-opt`, checked as dockerd checks them. dockerd checks in two
 * places: at create (ValidateLogOpts: the `mode` and `max-buffer-size` every driver takes,
 * then each driver's own keys) and when the driver starts (the values: sizes, counts,
 * `compress`, expressions), whose errors it words "failed to initialize logging driver: …".
 * berth checks both at create, so a container that could never start is not made, with
 * docker's words for each.
 *
 * berth keeps logs in json-file's format for both drivers it runs: `json-file`, and
 * `local` (docker's own compact format, which only dockerd reads back; its defaults are
 * kept: 20 MiB files, 5 of them).
 */
import { BerthError } from '../errors/index.ts';

/** How a container's output is kept: docker's json-file or local driver (rotated by max-size/max-file), or not at all. */
export interface LogConfig {
  readonly type: 'json-file' | 'local' | 'none';
  readonly config: Readonly<Record<string, string>>;
}

/** A log driver's options as its writer reads them. */
export interface JsonFileLimits {
  /** Bytes a log file may grow to before it is rotated; unset: no limit. */
  readonly maxSize?: number;
  /** How many files are kept, the live one included. */
  readonly maxFile: number;
  /** Container labels (`labels`) and env variables (`env`) named as attributes of every line. */
  readonly labels: readonly string[];
  readonly env: readonly string[];
  /** Labels and env variables whose names match these (`labels-regex`, `env-regex`) are attributes too. */
  readonly labelsRegex?: RegExp;
  readonly envRegex?: RegExp;
  /** `compress`: docker gzips rotated files; berth accepts it and keeps them plain (logs reads both alike). */
  readonly compress: boolean;
}

const JSON_FILE_OPTS = ['max-file', 'max-size', 'compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag'];
const LOCAL_OPTS = ['max-file', 'max-size', 'compress'];
/** The options dockerd takes for every driver, before the driver's own (logger.builtInLogOpts). */
const BUILT_IN_OPTS = ['mode', 'max-buffer-size'];
/** Drivers docker has that berth does not run. */
const OTHER_DRIVERS = ['syslog', 'journald', 'gelf', 'fluentd', 'awslogs', 'splunk', 'etwlogs', 'gcplogs', 'logentries'];
/** The local driver's defaults (daemon/logger/local). */
const LOCAL_MAX_SIZE = 20 * 1024 * 1024;
const LOCAL_MAX_FILE = 5;
/** A longer expression is refused: it would only be matched against label and variable names. */
const MAX_REGEX = 512;

function invalid(message: string): BerthError {
  return new BerthError('INVALID_ARGUMENT', message);
}

/** An error of the driver's start, which dockerd words with this prefix. */
function atStart(message: string): BerthError {
  return invalid(`failed to initialize logging driver: ${message}`);
}

/** go-units' FromHumanSize: a decimal size (1000s), with an optional k/m/g/t/p suffix and b. */
function humanSize(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?\s*$/i.exec(value);
  if (!m) throw invalid(`invalid size: '${value}'`);
  const unit = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 }[m[2]!.toLowerCase()]!;
  return Math.floor(Number(m[1]) * unit);
}

/** go-units' RAMInBytes: a binary size (1024s), as `max-buffer-size` is read. */
function ramSize(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?\s*$/i.exec(value);
  if (!m) throw invalid(`invalid size: '${value}'`);
  const unit = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 }[m[2]!.toLowerCase()]!;
  return Math.floor(Number(m[1]) * unit);
}

/** Go's strconv.ParseBool. */
function parseBool(value: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw invalid(`strconv.ParseBool: parsing ${JSON.stringify(value)}: invalid syntax`);
}

function atoi(value: string): number {
  if (!/^[+-]?\d+$/.test(value)) throw invalid(`strconv.Atoi: parsing ${JSON.stringify(value)}: invalid syntax`);
  return Number(value);
}

function regexOf(value: string | undefined): RegExp | undefined {
  if (!value) return undefined;
  if (value.length > MAX_REGEX) throw invalid(`error parsing regexp: expression longer than ${MAX_REGEX} characters`);
  try {
    return new RegExp(value);
  } catch (e) {
    throw invalid(`error parsing regexp: ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`);
  }
}

/** Beyond this every rotation renames thousands of files: refused rather than slow. */
function checkKept(maxFile: number): number {
  if (maxFile > 1000) throw invalid(`max-file ${maxFile} is more than berth keeps (1000)`);
  return maxFile;
}

/** The json-file driver's start: its values, with its errors (daemon/logger/jsonfilelog.New). */
function jsonFileStart(config: Readonly<Record<string, string>>): JsonFileLimits {
  let maxSize: number | undefined;
  if (config['max-size'] !== undefined) {
    maxSize = humanSize(config['max-size']);
    // docker's driver reads a zero as no limit.
    if (maxSize === 0) maxSize = undefined;
  }
  let maxFile = 1;
  if (config['max-file'] !== undefined) {
    maxFile = atoi(config['max-file']);
    if (maxFile < 1) throw invalid('max-file cannot be less than 1');
  }
  const compress = config.compress !== undefined && parseBool(config.compress);
  if (compress && (maxFile === 1 || maxSize === undefined)) throw invalid('compress cannot be true when max-file is less than 2 or max-size is not set');
  const list = (k: string) => (config[k] ?? '').split(',').filter(Boolean);
  return {
    maxSize,
    maxFile: checkKept(maxFile),
    labels: list('labels'),
    env: list('env'),
    labelsRegex: regexOf(config['labels-regex']),
    envRegex: regexOf(config['env-regex']),
    compress,
  };
}

/** `config[key]` read by `parse`, else `fallback`; a bad value is the driver's error: `context`, then the parser's reason. */
function optionOr<T>(config: Readonly<Record<string, string>>, key: string, parse: (raw: string) => T, fallback: T, context: string): T {
  const raw = config[key];
  if (raw === undefined) return fallback;
  try {
    return parse(raw);
  } catch (e) {
    throw invalid(`${context}: ${(e as Error).message}`);
  }
}

/** The local driver's start (daemon/logger/local.New and validateConfig). */
function localStart(config: Readonly<Record<string, string>>): JsonFileLimits {
  const maxSize = optionOr(config, 'max-size', humanSize, LOCAL_MAX_SIZE, `invalid value for max-size: ${config['max-size']}`);
  const maxFile = optionOr(config, 'max-file', atoi, LOCAL_MAX_FILE, `invalid value for max-file: ${config['max-file']}`);
  const compress = optionOr(config, 'compress', parseBool, true, 'error reading compress log option');
  if (maxFile < 0) throw invalid('max-file cannot be less than 0');
  if (compress && maxFile <= 1) throw invalid('compression cannot be enabled when max file count is 1');
  return { maxSize: maxSize || undefined, maxFile: checkKept(Math.max(maxFile, 1)), labels: [], env: [], compress };
}

/** The writer's options of a checked config; its type says which driver's defaults apply. */
export function jsonFileLimits(config: Readonly<Record<string, string>>, type: LogConfig['type'] = 'json-file'): JsonFileLimits {
  return type === 'local' ? localStart(config) : jsonFileStart(config);
}

/** dockerd's ValidateLogOpts for what every driver takes: `mode`, and `max-buffer-size` with mode=non-blocking. */
function checkBuiltInOpts(opts: Readonly<Record<string, string>>): void {
  const mode = opts.mode ?? '';
  if (!['', 'blocking', 'non-blocking'].includes(mode)) throw invalid(`logger: logging mode not supported: ${mode}`);
  if (opts['max-buffer-size'] !== undefined) {
    if (mode !== 'non-blocking') throw invalid("logger: max-buffer-size option is only supported with 'mode=non-blocking'");
    try {
      ramSize(opts['max-buffer-size']);
    } catch (e) {
      throw invalid(`error parsing option max-buffer-size: ${(e as Error).message}`);
    }
  }
}

/** `--log-driver` and `--log-opt KEY=VALUE`s as a LogConfig, with docker's errors for what it refuses. */
export function checkLogConfig(driver: string | undefined, opts: Readonly<Record<string, string>>): LogConfig {
  const type = driver || 'json-file';
  if (type === 'none') {
    // docker's CLI refuses these before asking the daemon.
    if (Object.keys(opts).length) throw invalid('invalid logging opts for driver none');
    return { type, config: {} };
  }
  checkBuiltInOpts(opts);
  if (type !== 'json-file' && type !== 'local') {
    if (OTHER_DRIVERS.includes(type)) {
      throw new BerthError('UNSUPPORTED', `the ${type} logging driver is not supported by berth yet`, { hint: 'use --log-driver json-file, local or none' });
    }
    throw invalid(`logger: no log driver named '${type}' is registered`);
  }
  for (const k of Object.keys(opts)) {
    if (BUILT_IN_OPTS.includes(k)) continue;
    if (type === 'json-file' && !JSON_FILE_OPTS.includes(k)) throw invalid(`unknown log opt '${k}' for json-file log driver`);
    if (type === 'local' && !LOCAL_OPTS.includes(k)) throw invalid(`unknown log opt '${k}' for log driver local`);
  }
  try {
    jsonFileLimits(opts, type);
  } catch (e) {
    throw e instanceof BerthError ? atStart(e.message) : e;
  }
  return { type, config: { ...opts } };
}
