import { isValidDocName } from '@converge/core'

const LAST_DOC_KEY = 'converge-notes:last-doc'
export const DEFAULT_DOC = 'welcome'

/** The document named by the URL (`#name`, or `?doc=name`), if any. */
export const docInUrl = (url: URL = new URL(location.href)): string | undefined => {
  let name = url.searchParams.get('doc') ?? ''
  if (url.hash.length > 1) {
    try {
      name = decodeURIComponent(url.hash.slice(1))
    } catch {
      name = url.hash.slice(1)
    }
  }
  name = name.trim()
  return isValidDocName(name) ? name : undefined
}

/** The document to show: the URL's, else the one open last time, else the welcome note. */
export const currentDoc = (): string => docInUrl() ?? localStorage.getItem(LAST_DOC_KEY) ?? DEFAULT_DOC

export const rememberDoc = (name: string): void => {
  localStorage.setItem(LAST_DOC_KEY, name)
}

export const linkTo = (name: string): string => `#${encodeURIComponent(name)}`

/** A fresh, unguessable-enough document name for a new note. */
export const newDocName = (): string => `note-${crypto.randomUUID().slice(0, 8)}`
