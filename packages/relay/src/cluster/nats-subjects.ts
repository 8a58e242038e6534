/**
 * Document names as NATS subject tokens and KV keys. A token may hold only
 * [A-Za-z0-9-] here: every other UTF-8 byte (and '_', the escape) becomes `_XX` (hex),
 * so 'team-a/notes' is 'team-a_2Fnotes'. Reversible, and valid in subjects ('.', '*',
 * '>' and spaces never appear) and in KV keys.
 */
const PLAIN = /^[A-Za-z0-9-]$/

export const encodeDocToken = (doc: string): string => {
  let out = ''
  for (const ch of doc) {
    if (PLAIN.test(ch)) {
      out += ch
      continue
    }
    for (const byte of new TextEncoder().encode(ch)) out += `_${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

/** The document name of a token; undefined when `token` is not one encodeDocToken makes. */
export const decodeDocToken = (token: string): string | undefined => {
  const bytes: number[] = []
  for (let i = 0; i < token.length; i++) {
    const ch = token.charAt(i)
    if (ch === '_') {
      const hex = token.slice(i + 1, i + 3)
      if (!/^[0-9A-F]{2}$/.test(hex)) return undefined
      bytes.push(Number.parseInt(hex, 16))
      i += 2
    } else if (PLAIN.test(ch)) {
      bytes.push(ch.charCodeAt(0))
    } else {
      return undefined
    }
  }
  try {
    const doc = new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes))
    return encodeDocToken(doc) === token ? doc : undefined
  } catch {
    return undefined
  }
}

/** The subjects a cluster uses, under one prefix (default 'converge'). */
export class ClusterSubjects {
  constructor(readonly prefix: string) {}

  /** Updates of one document (in the stream). */
  updates(doc: string): string {
    return `${this.prefix}.doc.${encodeDocToken(doc)}`
  }

  /** Every document's updates: the stream's subject filter. */
  get allUpdates(): string {
    return `${this.prefix}.doc.>`
  }

  /** Presence of one document (core NATS, not stored). */
  awareness(doc: string): string {
    return `${this.prefix}.aw.${encodeDocToken(doc)}`
  }
}
