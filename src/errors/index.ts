/**
 * One error type for the whole engine. Callers match on `code`, never on message text.
 * The CLI maps codes to Docker's exit statuses in one place (cli/exit.ts); the API maps
 * them to HTTP statuses in api/.
 */
export type ErrorCode =
  | 'INVALID_ARGUMENT' // bad flag, bad reference, malformed input the user gave
  | 'NOT_FOUND' // no such image, container, volume, blob
  | 'ALREADY_EXISTS'
  | 'FAILED_PRECONDITION' // e.g. removing an image a container uses
  | 'CONFLICT' // e.g. container is running
  | 'DATA_CORRUPT' // digest mismatch, truncated tar, bad JSON in an archive
  | 'UNSAFE_PATH' // archive entry that would escape its root
  | 'SYNTAX' // Dockerfile syntax error (carries a position)
  | 'UNAUTHORIZED'
  | 'UNAVAILABLE' // registry unreachable, runc missing
  | 'UNSUPPORTED'
  | 'CANCELLED'
  | 'RUNTIME' // runc or the kernel refused
  | 'CMD_NOT_FOUND' // exit 127
  | 'CMD_NOT_EXECUTABLE' // exit 126
  | 'INTERNAL';

export interface SourcePosition {
  readonly file: string;
  readonly line: number; // 1-based
  readonly column: number; // 1-based
  readonly lineText?: string;
}

export class BerthError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  readonly position?: SourcePosition;

  constructor(code: ErrorCode, message: string, opts: { hint?: string; cause?: unknown; position?: SourcePosition } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'BerthError';
    this.code = code;
    this.hint = opts.hint;
    this.position = opts.position;
  }
}

export function isBerthError(e: unknown, code?: ErrorCode): e is BerthError {
  return e instanceof BerthError && (code === undefined || e.code === code);
}

/** Node's errno errors carry a string `code` such as ENOENT. */
export function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

/** An error as a worker thread posts it: plain data that structured clone keeps whole. */
export interface PostedError {
  readonly code?: ErrorCode;
  readonly errno?: string;
  readonly message: string;
  readonly hint?: string;
}

export function postedError(e: unknown): PostedError {
  if (isBerthError(e)) return { code: e.code, message: e.message, hint: e.hint };
  return { errno: errnoCode(e), message: e instanceof Error ? e.message : String(e) };
}

/** The error again on the other side: a BerthError keeps its code and hint, an errno error its code. */
export function errorFromPosted(p: PostedError): Error {
  if (p.code) return new BerthError(p.code, p.message, { hint: p.hint });
  return Object.assign(new Error(p.message), p.errno ? { code: p.errno } : {});
}
