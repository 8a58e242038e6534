import { ConvergeError } from './errors.js'

/**
 * The work one message from a peer may ask of this side, in units of about one decoded
 * entry (a state vector entry, a delete digest chunk, an awareness state). A message over
 * budget is refused before the work is done, and its sender closed with 4513.
 */
export class WorkBudget {
  private used = 0
  private readonly limit: number
  private readonly what: string

  constructor(limit: number, what: string) {
    this.limit = limit
    this.what = what
  }

  /** Charges `units`; throws CONVERGE_LIMIT_EXCEEDED once the total passes the limit. */
  spend(units: number): void {
    this.used += units
    if (this.used > this.limit) {
      throw new ConvergeError('CONVERGE_LIMIT_EXCEEDED', `${this.what} asks more than ${this.limit} units of work`)
    }
  }

  get spent(): number {
    return this.used
  }
}
