import * as Y from 'yjs'
import { ConvergeError } from './errors.js'

/**
 * The size of one document, kept to `maxDocBytes`. Eight 15 MiB incompressible updates
 * were all accepted into one document (118 MiB on disk, 1.5 GiB of memory to load it).
 * The count starts at the stored size and adds every update appended; appended updates
 * overlap what a compaction merges, so near the limit the exact size is measured again.
 */
export class DocSize {
  private bytes = 0
  private readonly max: number

  constructor(maxDocBytes: number) {
    this.max = maxDocBytes
  }

  /** The document was loaded from `bytes` stored bytes. */
  loaded(bytes: number): void {
    this.bytes = bytes
  }

  /** An update of `bytes` was appended. */
  appended(bytes: number): void {
    this.bytes += bytes
  }

  /** Whether an update of `bytes` leaves the document well under the limit (half of it): a cold document needs no exact measure then. */
  wellUnder(bytes: number): boolean {
    return this.bytes + bytes <= this.max / 2
  }

  /**
   * Counts an update of `bytes` about to be appended to `doc` (so updates still being
   * written count too). With `enforce`, throws CONVERGE_LIMIT_EXCEEDED instead when it
   * would take the document past the limit.
   */
  admit(doc: Y.Doc, bytes: number, name: string, enforce: boolean): void {
    if (enforce && this.bytes + bytes > this.max) this.bytes = Y.encodeStateAsUpdate(doc).length
    if (!enforce || this.bytes + bytes <= this.max) {
      this.bytes += bytes
      return
    }
    throw new ConvergeError(
      'CONVERGE_LIMIT_EXCEEDED',
      `${name} would exceed ${this.max} bytes (maxDocBytes) with an update of ${bytes}`.slice(0, 200),
    )
  }
}
