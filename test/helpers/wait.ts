import { type WaitOptions, waitFor as waitForWithin } from '../bench/lib/wait.js'

/**
 * Waits until `condition` holds, checking every `interval` ms (default 10), and fails after
 * `timeout` ms (default 10 s) with a message that says what was awaited. For waiting on a
 * state that has no event; prefer an event where there is one. The benchmark's waitFor
 * (test/bench/lib/wait.ts) with a test's shorter default timeout.
 */
export const waitFor = (condition: () => boolean | Promise<boolean>, options: WaitOptions = {}): Promise<void> =>
  waitForWithin(condition, { ...options, timeout: options.timeout ?? 10_000 })

/** Resolves with the first emission of `event` on `emitter`, or rejects after `timeout` ms. */
export const nextEvent = <T = unknown>(
  emitter: { once(event: string, fn: (...args: never[]) => void): unknown },
  event: string,
  timeout = 10_000,
): Promise<T> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${timeout} ms waiting for ${event}`)), timeout)
    emitter.once(event, ((value: T) => {
      clearTimeout(timer)
      resolve(value)
    }) as (...args: never[]) => void)
  })
