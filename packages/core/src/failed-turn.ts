import { ConvergeError } from './errors.js'
import { onNextTurn } from './next-turn.js'

/**
 * How a Store keeps appends in order (see Store): after a write fails, appends made in the
 * same turn of the event loop are refused too. Their callers have not seen the failure
 * yet, so what they append may build on the lost write.
 */
export class FailedTurn {
  private cause: unknown

  /** A write failed with `cause`: refuse appends until the next turn. */
  fail(cause: unknown): void {
    this.cause = cause
    onNextTurn(() => {
      this.cause = undefined
    })
  }

  /** The error to reject an append with while a failure of this turn stands, else undefined. */
  refusal(): ConvergeError | undefined {
    if (this.cause === undefined) return undefined
    return new ConvergeError('CONVERGE_STORE_WRITE_FAILED', 'an earlier append failed in this turn', {
      cause: this.cause,
    })
  }
}
