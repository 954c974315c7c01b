/**
 * The one place where errors become exit statuses and the one-line message Docker users
 * expect: `berth: Error: <message>` then `hint: <hint>`. An engine error exits 1, as
 * docker's do, except under `run` and `create`, where docker keeps 1 and up for the
 * container's own status and says 125 for its own failures (126 and 127 for a command that
 * cannot be run). Usage errors have their own statuses (usage.ts).
 */
import { BerthError, type ErrorCode } from '../errors/index.ts';

const EXIT_BY_CODE: Partial<Record<ErrorCode, number>> = {
  CMD_NOT_EXECUTABLE: 126,
  CMD_NOT_FOUND: 127,
  SYNTAX: 1,
};

/**
 * An error that carries docker's exit status and its whole message, printed as is (docker's
 * cli.StatusError): Go template errors (`template parsing error: ...`, exit 64 or 1).
 */
export class StatusError extends BerthError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super('SYNTAX', message);
  }
}

/** The verbs whose engine errors exit 125: the container's own status has 1 and up. */
const CONTAINER_STATUS_VERBS = ['run', 'create'];

export function exitCodeFor(e: unknown, verb?: string): number {
  if (e instanceof StatusError) return e.status;
  const engineError = verb !== undefined && CONTAINER_STATUS_VERBS.includes(verb) ? 125 : 1;
  return e instanceof BerthError ? (EXIT_BY_CODE[e.code] ?? engineError) : engineError;
}

export function formatError(e: unknown): string {
  if (e instanceof StatusError) return e.message;
  if (e instanceof BerthError) {
    const lines: string[] = [];
    if (e.position) {
      const p = e.position;
      lines.push(`${p.file}:${p.line}:${p.column}: ${e.message}`);
      if (p.lineText !== undefined) {
        lines.push(`  ${p.lineText}`);
        lines.push(`  ${' '.repeat(Math.max(0, p.column - 1))}^`);
      }
    } else {
      lines.push(`Error: ${e.message}`);
    }
    if (e.hint) lines.push(`hint: ${e.hint}`);
    return lines.join('\n');
  }
  if (e instanceof Error) return `Error: ${e.message}`;
  return `Error: ${String(e)}`;
}
