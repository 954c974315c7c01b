/**
 * When a registry request is tried again. A connection that breaks before an answer (reset,
 * timed out, hung up), a 429 and a 5xx other than 501 and 505 are transient: the request is
 * sent again after a back-off that doubles from BASE_DELAY_MS, or after the server's
 * Retry-After when it gives one, up to ATTEMPTS sends in all. Only GET, HEAD, PUT and DELETE
 * with no body or a body in memory are sent again (http.ts): a streamed body cannot be sent
 * twice, and a POST or PATCH may have taken effect before its answer was lost.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** Sends of one request at most, the first included. */
export const ATTEMPTS = 4;
const BASE_DELAY_MS = 250;
/** The longest wait between two sends; a Retry-After beyond it gives up at once. */
export const MAX_DELAY_MS = 10_000;

const TRANSIENT_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN', 'ENETRESET', 'UND_ERR_SOCKET']);

/** Whether a failed send (no answer at all) may succeed if sent again. */
export function isTransientError(e: unknown): boolean {
  const err = e as NodeJS.ErrnoException;
  if (err?.name === 'AbortError') return false;
  return TRANSIENT_CODES.has(err?.code ?? '') || /socket hang up/.test(err?.message ?? '');
}

export function isTransientStatus(status: number | undefined): boolean {
  return status === 429 || (status !== undefined && status >= 500 && status <= 599 && status !== 501 && status !== 505);
}

/**
 * The wait before send number `attempt + 1` (attempt counts from 1), in ms; undefined when
 * the server asks for a wait longer than MAX_DELAY_MS.
 */
export function retryDelay(attempt: number, retryAfter?: string | string[]): number | undefined {
  const header = Array.isArray(retryAfter) ? retryAfter[0] : retryAfter;
  if (header !== undefined && header.trim() !== '') {
    const text = header.trim();
    const ms = /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text) - Date.now();
    if (!Number.isNaN(ms)) return ms > MAX_DELAY_MS ? undefined : Math.max(0, ms);
  }
  const backoff = BASE_DELAY_MS * 2 ** (attempt - 1);
  // Jitter keeps many clients that failed together from coming back together.
  return Math.min(MAX_DELAY_MS, backoff / 2 + Math.random() * (backoff / 2));
}

/** Waits `ms`, or throws the signal's AbortError. */
export function wait(ms: number, signal?: AbortSignal): Promise<void> {
  return sleep(ms, undefined, { signal });
}
