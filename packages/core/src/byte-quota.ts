import { ConvergeError } from './errors.js'

/**
 * Bytes of updates one connection may write over its life. A client that exceeds it is
 * closed (4513): one connection cannot fill the disk however many documents it writes.
 */
export class ByteQuota {
  private used = 0
  private readonly limit: number

  constructor(limit: number) {
    this.limit = limit
  }

  /** Charges `bytes`; throws CONVERGE_LIMIT_EXCEEDED past the limit. */
  charge(bytes: number): void {
    this.used += bytes
    if (this.used > this.limit) {
      throw new ConvergeError(
        'CONVERGE_LIMIT_EXCEEDED',
        `more than ${this.limit} bytes of updates on one connection (maxUpdateBytesPerConnection)`,
      )
    }
  }
}
