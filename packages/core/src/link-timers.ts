/** A link's timers (link.ts): the connect timeout and the redial backoff, cleared together. */
import { type BackoffOptions, backoffDelay } from './backoff.js'

export const unref = (timer: unknown) => (timer as { unref?: () => void } | undefined)?.unref?.()

/** The window's (or worker's) event target where there is one: not in Node. */
export const browserEvents = () => {
  const target = globalThis as {
    addEventListener?: (type: string, fn: () => void) => void
    removeEventListener?: (type: string, fn: () => void) => void
  }
  return typeof target.addEventListener === 'function' && typeof target.removeEventListener === 'function'
    ? (target as Required<typeof target>)
    : undefined
}

export class LinkTimers {
  /** Failed dials since the link was last open (the backoff step). */
  private attempt = 0
  /** Pending timers (none: undefined, as on every open link). */
  private timers: Array<ReturnType<typeof setTimeout>> | undefined

  /** Runs `fn` in `ms`; a weak timer does not keep Node running. */
  later(fn: () => void, ms: number, weak = true): void {
    const t = setTimeout(() => {
      const rest = this.timers?.filter((x) => x !== t)
      this.timers = rest?.length ? rest : undefined
      fn()
    }, ms)
    if (weak) unref(t)
    this.timers = [...(this.timers ?? []), t]
  }

  /** Runs `dial` after the next backoff delay (with jitter, backoff.ts). */
  redial(dial: () => void, backoff: BackoffOptions | undefined): void {
    const delay = backoffDelay(this.attempt++, backoff)
    this.later(dial, delay, false)
  }

  /** Starts the backoff over. */
  resetBackoff(): void {
    this.attempt = 0
  }

  clear(): void {
    for (const t of this.timers ?? []) clearTimeout(t)
    this.timers = undefined
  }
}
