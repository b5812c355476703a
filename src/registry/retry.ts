/**
 * Retry policy for registry calls: exponential backoff with full jitter on 429, 5xx and dropped
 * connections, honouring `Retry-After`, bounded by a count (`--push-retry`, `--image-download-retry`).
 */

export interface RetryPolicy {
  /** Retries after the first attempt (0 = try once). */
  readonly retries: number;
  /** First backoff in ms (doubles each time, capped by maxDelayMs). */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Injected for tests: sleeps `ms`. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Injected for tests: a number in [0, 1). */
  readonly random?: () => number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 3, baseDelayMs: 500, maxDelayMs: 30_000 };

export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 408 || (status >= 500 && status !== 501 && status !== 505);
}

const NETWORK_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH',
  'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
]);

/** A dropped or refused connection (worth retrying), as opposed to a TLS or programming error. */
export function isRetryableNetworkError(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
    if (current.name === 'AbortError') return false;
    current = current.cause;
  }
  return false;
}

/** Seconds or an HTTP date, as milliseconds from now; undefined when absent or unparsable. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** How long to wait before retry number `attempt` (1-based). */
export function backoffDelay(options: { readonly policy: RetryPolicy; readonly attempt: number; readonly retryAfterMs?: number }): number {
  const { policy } = options;
  if (options.retryAfterMs !== undefined) return Math.min(options.retryAfterMs, policy.maxDelayMs);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (options.attempt - 1));
  return Math.floor((policy.random ?? Math.random)() * ceiling);
}

export function sleepFor(policy: RetryPolicy, ms: number): Promise<void> {
  return (policy.sleep ?? ((delay: number) => new Promise((resolve) => setTimeout(resolve, delay))))(ms);
}
