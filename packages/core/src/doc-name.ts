import { ConvergeError } from './errors.js'

/** Longest accepted document name, in UTF-16 code units. */
export const MAX_DOC_NAME_LENGTH = 512

/**
 * A document name is 1..512 characters with no control characters. The empty name is
 * reserved for connection-level messages, and U+0000 separates keys in the stores.
 */
export const isValidDocName = (name: string): boolean => {
  if (name.length === 0 || name.length > MAX_DOC_NAME_LENGTH) return false
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i)
    if (c < 0x20 || c === 0x7f) return false
  }
  return true
}

export const assertDocName = (name: string): void => {
  if (!isValidDocName(name)) {
    throw new ConvergeError('CONVERGE_INVALID_DOC_NAME', `invalid document name: ${JSON.stringify(name).slice(0, 80)}`)
  }
}
