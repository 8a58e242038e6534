/**
 * Waits until `condition` holds, checking after every macrotask (and at least every
 * `interval` ms), and fails after `timeout` ms with a message that says what was awaited.
 * For waiting on a state that has no event; prefer an event where there is one.
 */
export const waitFor = async (
  condition: () => boolean | Promise<boolean>,
  { timeout = 10_000, interval = 10, what = 'condition' }: { timeout?: number; interval?: number; what?: string } = {},
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
    await new Promise((r) => setTimeout(r, interval))
  }
}

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
