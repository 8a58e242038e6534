/** Reconnect delays: exponential growth with jitter, so a crowd of clients does not reconnect in step. */
export interface BackoffOptions {
  /** Delay before the first retry, in ms. Default 100. */
  initialDelay?: number
  /** Upper bound of the delay, in ms. Default 5000. */
  maxDelay?: number
  /** Growth factor per failed attempt. Default 2. */
  factor?: number
}

export const DEFAULT_BACKOFF: Required<BackoffOptions> = { initialDelay: 100, maxDelay: 5000, factor: 2 }

/**
 * The delay before retry number `attempt` (0-based): the exponential ceiling, scaled by a
 * random factor in [0.5, 1) ("equal jitter"), so it never collapses to zero.
 */
export const backoffDelay = (attempt: number, options: BackoffOptions = {}, random: () => number = Math.random) => {
  const { initialDelay, maxDelay, factor } = { ...DEFAULT_BACKOFF, ...options }
  const ceiling = Math.min(maxDelay, initialDelay * factor ** Math.min(attempt, 64))
  return Math.round(ceiling * (0.5 + random() * 0.5))
}
