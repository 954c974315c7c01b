/** The HTTP status of each error code: the one place the API maps codes, as cli/exit.ts does for exits. */
import { BerthError, type ErrorCode } from '../errors/index.ts';

const STATUS_BY_CODE: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  FAILED_PRECONDITION: 409,
  CONFLICT: 409,
  DATA_CORRUPT: 400,
  UNSAFE_PATH: 400,
  SYNTAX: 400,
  UNAUTHORIZED: 401,
  // dockerd answers an unreachable registry with 500.
  UNAVAILABLE: 500,
  UNSUPPORTED: 501,
  CANCELLED: 500,
  RUNTIME: 500,
  // A start that fails on its command is docker's 400; the CLI reads the message for 126/127.
  CMD_NOT_FOUND: 400,
  CMD_NOT_EXECUTABLE: 400,
  INTERNAL: 500,
};

/** An error whose status is docker's own and no code's: 503 from an inactive swarm, 304 from a no-op. */
export class HttpError extends BerthError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(status >= 500 ? 'UNAVAILABLE' : 'INVALID_ARGUMENT', message);
  }
}

export function statusFor(e: BerthError): number {
  return e instanceof HttpError ? e.status : STATUS_BY_CODE[e.code];
}
