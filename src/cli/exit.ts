/**
 * The one place where errors become exit statuses and the one-line message Docker users
 * expect: `berth: Error: <message>` then `hint: <hint>`, exit 125 for engine errors.
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

export function exitCodeFor(e: unknown): number {
  if (e instanceof StatusError) return e.status;
  return e instanceof BerthError ? (EXIT_BY_CODE[e.code] ?? 125) : 125;
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
