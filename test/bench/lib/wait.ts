export interface WaitOptions {
  /** How long to wait before failing, in ms. */
  timeout?: number
  /** How often to check, in ms. */
  interval?: number
  /** What is awaited, for the error. */
  what?: string
}

/**
 * Waits until `condition` holds, checking every `interval` ms, and fails after `timeout`
 * ms saying what it waited for. For states without an event (a process port, a poll).
 */
export const waitFor = async (
  condition: () => boolean | Promise<boolean>,
  { timeout = 30_000, interval = 10, what = 'condition' }: WaitOptions = {},
): Promise<void> => {
  const deadline = Date.now() + timeout
  let lastError: unknown
  for (;;) {
    try {
      if (await condition()) return
      lastError = undefined
    } catch (err) {
      lastError = err
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? `: ${lastError.message}` : ''
      throw new Error(`timed out after ${timeout} ms waiting for ${what}${cause}`)
    }
    await sleep(interval)
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Resolves on the next turn of the event loop, after pending I/O callbacks. */
export const yieldToIo = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** Rejects with `what` after `ms` unless `promise` settles first. */
export const withTimeout = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
    promise.then(
      (v) => {
        clearTimeout(timer)
        resolve(v)
      },
      (err) => {
        clearTimeout(timer)
        reject(err)
      },
    )
  })
