import type * as Y from 'yjs'

type TextField = HTMLInputElement | HTMLTextAreaElement

/** One edit that turns `before` into `after`: delete `remove` characters at `index`, then insert `insert`. */
export interface TextEdit {
  index: number
  remove: number
  insert: string
}

/**
 * The single edit between two versions of a field. Where a repeated character makes the
 * spot ambiguous ("aa" -> "aaa"), the caret decides: the edit ends where the caret is.
 */
export const diffText = (before: string, after: string, caret: number = after.length): TextEdit => {
  const limit = Math.min(before.length, after.length)
  let suffix = 0
  const maxSuffix = Math.min(limit, after.length - caret)
  while (suffix < maxSuffix && before[before.length - 1 - suffix] === after[after.length - 1 - suffix]) suffix++
  let prefix = 0
  const maxPrefix = limit - suffix
  while (prefix < maxPrefix && before[prefix] === after[prefix]) prefix++
  return {
    index: prefix,
    remove: before.length - prefix - suffix,
    insert: after.slice(prefix, after.length - suffix),
  }
}

/** Where index `i` of the old text lands after a Y.Text change described by `delta`. */
export const shiftIndex = (i: number, delta: Y.YTextEvent['delta']): number => {
  let old = 0
  let shifted = i
  for (const op of delta) {
    if (op.retain !== undefined) {
      old += op.retain
    } else if (op.insert !== undefined) {
      const length = typeof op.insert === 'string' ? op.insert.length : 1
      // Text inserted right at the caret goes after it: a remote writer does not push our caret.
      if (old < i) shifted += length
    } else if (op.delete !== undefined) {
      if (old < i) shifted -= Math.min(op.delete, i - old)
      old += op.delete
    }
    if (old >= i) break
  }
  return shifted
}

/**
 * Keeps an <input> or <textarea> and a Y.Text equal. Local typing becomes one Y.Text edit
 * per input event; a remote change rewrites the field and moves the caret and selection
 * with the text around them, so the person typing never loses their place.
 */
export class TextBinding {
  readonly text: Y.Text
  readonly field: TextField
  private readonly onChange: () => void

  constructor(text: Y.Text, field: TextField, onChange: () => void = () => undefined) {
    this.text = text
    this.field = field
    this.onChange = onChange
    field.value = text.toString()
    field.addEventListener('input', this.onInput)
    text.observe(this.onRemote)
    onChange()
  }

  private readonly onInput = () => {
    const before = this.text.toString()
    const after = this.field.value
    if (before === after) return
    const edit = diffText(before, after, this.field.selectionEnd ?? after.length)
    this.text.doc?.transact(() => {
      if (edit.remove > 0) this.text.delete(edit.index, edit.remove)
      if (edit.insert !== '') this.text.insert(edit.index, edit.insert)
    }, this)
    this.onChange()
  }

  private readonly onRemote = (event: Y.YTextEvent) => {
    if (event.transaction.origin === this) return
    const field = this.field
    const start = field.selectionStart ?? 0
    const end = field.selectionEnd ?? 0
    const direction = field.selectionDirection ?? 'none'
    const focused = document.activeElement === field
    field.value = this.text.toString()
    if (focused) field.setSelectionRange(shiftIndex(start, event.delta), shiftIndex(end, event.delta), direction)
    this.onChange()
  }

  destroy(): void {
    this.field.removeEventListener('input', this.onInput)
    this.text.unobserve(this.onRemote)
  }
}
