import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

/**
 * The backup file: a header line, then one entry per document, then an end marker.
 *
 *   "converge-backup v1\n" · (varString doc · varUint8Array update)* · varString ""
 *
 * Each update is the document's whole state (one Yjs update), so restoring merges into
 * whatever a data directory already holds instead of replacing it.
 */
export const BACKUP_HEADER = 'converge-backup v1\n'

export interface BackupEntry {
  doc: string
  update: Uint8Array
}

export const encodeBackupEntry = (entry: BackupEntry): Uint8Array => {
  const encoder = encoding.createEncoder()
  encoding.writeVarString(encoder, entry.doc)
  encoding.writeVarUint8Array(encoder, entry.update)
  return encoding.toUint8Array(encoder)
}

export const BACKUP_END = (() => {
  const encoder = encoding.createEncoder()
  encoding.writeVarString(encoder, '')
  return encoding.toUint8Array(encoder)
})()

/** A backup file that cannot be read: wrong header, truncated or corrupt, with the byte offset. */
export class BackupFileError extends Error {}

/** Reads every entry of a backup file; throws BackupFileError on a wrong header, a truncated file, or a missing end. */
export const decodeBackup = (bytes: Uint8Array): BackupEntry[] => {
  const header = new TextEncoder().encode(BACKUP_HEADER)
  if (bytes.length < header.length || !header.every((b, i) => bytes[i] === b)) {
    throw new BackupFileError('not a converge backup (wrong header)')
  }
  const decoder = decoding.createDecoder(bytes.subarray(header.length))
  const entries: BackupEntry[] = []
  let entryStart = 0
  try {
    for (;;) {
      entryStart = decoder.pos
      if (!decoding.hasContent(decoder)) throw new Error('no end marker')
      const doc = decoding.readVarString(decoder)
      if (doc === '') break
      entries.push({ doc, update: decoding.readVarUint8Array(decoder) })
    }
  } catch {
    const at = header.length + entryStart
    throw new BackupFileError(
      `backup file is truncated or corrupt at byte ${at} of ${bytes.length} (entry ${entries.length + 1}; ${entries.length} documents before it are intact)`,
    )
  }
  return entries
}
