/**
 * Messages a session holds while its document loads, up to a bound. Until the backlog is
 * handled (or dropped) its messages count as in flight, for flow control.
 */
export class Backlog<M> {
  /** Made on the first message held (most sessions hold none). */
  private held: M[] | undefined
  private handled: Promise<void> | undefined
  private resolveHandled: (() => void) | undefined
  private readonly max: number

  constructor(max: number) {
    this.max = max
  }

  /** Holds `m`; false (and nothing held) when `max` messages are held already. */
  hold(m: M): boolean {
    this.held ??= []
    if (this.held.length >= this.max) return false
    this.held.push(m)
    return true
  }

  /** Resolves once the backlog was handled (or dropped): until then its messages are in flight. */
  whenHandled(): Promise<void> {
    this.handled ??= new Promise((resolve) => {
      this.resolveHandled = resolve
    })
    return this.handled
  }

  /** The held messages, oldest first; the backlog is empty afterwards. */
  take(): M[] {
    const held = this.held ?? []
    this.held = undefined
    return held
  }

  /** The held messages were handled: their flow-control hold ends. */
  release(): void {
    this.resolveHandled?.()
  }

  /** Forgets the held messages (the session ended) and ends their hold. */
  drop(): void {
    this.held = undefined
    this.release()
  }
}
