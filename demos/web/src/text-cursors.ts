import type { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { othersIn, type PresenceState, type User } from './presence.js'

interface RemoteSelection {
  name: string
  color: string
  from: number
  to: number
  head: number
}

/**
 * Shares this tab's caret and selection in a textarea through awareness, and draws the
 * others' in an overlay that mirrors the textarea's text layout (same font, padding and
 * wrapping, with transparent text), so their carets sit exactly between the characters.
 */
export class TextCursors {
  private readonly text: Y.Text
  private readonly field: HTMLTextAreaElement
  private readonly overlay: HTMLElement
  private readonly awareness: Awareness
  private readonly key: string
  private readonly self: () => User
  private frame = 0

  constructor(
    text: Y.Text,
    field: HTMLTextAreaElement,
    overlay: HTMLElement,
    awareness: Awareness,
    key: string,
    self: () => User,
  ) {
    this.self = self
    this.text = text
    this.field = field
    this.overlay = overlay
    this.awareness = awareness
    this.key = key
    document.addEventListener('selectionchange', this.publish)
    field.addEventListener('input', this.publish)
    field.addEventListener('focus', this.publish)
    field.addEventListener('blur', this.clear)
    awareness.on('change', this.schedule)
    text.observe(this.schedule)
    this.schedule()
  }

  /** Puts our caret (as positions relative to the text, which survive concurrent edits) in awareness. */
  private readonly publish = () => {
    if (document.activeElement !== this.field) return
    const { selectionStart, selectionEnd, selectionDirection } = this.field
    const [anchor, head] =
      selectionDirection === 'backward' ? [selectionEnd, selectionStart] : [selectionStart, selectionEnd]
    const rel = (i: number) => Y.relativePositionToJSON(Y.createRelativePositionFromTypeIndex(this.text, i))
    this.update({ cursor: { field: this.key, anchor: rel(anchor), head: rel(head) }, focus: this.key })
  }

  private readonly clear = () => this.update({ cursor: null, focus: null })

  /** One awareness update for both fields, and none when nothing moved (selectionchange fires often). */
  private update(change: Pick<PresenceState, 'cursor' | 'focus'>): void {
    const state = this.awareness.getLocalState() as PresenceState | null
    if (state === null) return
    if (JSON.stringify(state.cursor ?? null) === JSON.stringify(change.cursor) && state.focus === change.focus) return
    this.awareness.setLocalState({ ...state, ...change })
  }

  private readonly schedule = () => {
    if (this.frame !== 0) return
    this.frame = requestAnimationFrame(() => {
      this.frame = 0
      this.render()
    })
  }

  private selections(): RemoteSelection[] {
    const doc = this.text.doc
    if (doc === null) return []
    const absolute = (json: unknown) => {
      const pos = Y.createAbsolutePositionFromRelativePosition(Y.createRelativePositionFromJSON(json), doc)
      return pos?.type === this.text ? pos.index : undefined
    }
    const out: RemoteSelection[] = []
    for (const [, state] of othersIn(this.awareness)) {
      const cursor = (state as PresenceState).cursor
      if (cursor == null || cursor.field !== this.key) continue
      const anchor = absolute(cursor.anchor)
      const head = absolute(cursor.head)
      if (anchor === undefined || head === undefined) continue
      // The same person in another tab of this browser.
      const name = state.user.id === this.self().id ? `${state.user.name} (other tab)` : state.user.name
      out.push({ name, color: state.user.color, from: Math.min(anchor, head), to: Math.max(anchor, head), head })
    }
    return out
  }

  private render(): void {
    const value = this.text.toString()
    const selections = this.selections()
    const cuts = new Set([0, value.length])
    for (const s of selections) cuts.add(s.from).add(s.to)
    const points = [...cuts].sort((a, b) => a - b)
    const nodes: Node[] = []
    const caretsAt = (i: number) => {
      for (const s of selections) if (s.head === i) nodes.push(caret(s))
    }
    for (let k = 0; k < points.length - 1; k++) {
      const from = points[k] as number
      const to = points[k + 1] as number
      caretsAt(from)
      const piece = document.createTextNode(value.slice(from, to))
      const cover = selections.find((s) => s.from <= from && to <= s.to && s.from < s.to)
      if (cover === undefined) {
        nodes.push(piece)
      } else {
        const span = document.createElement('span')
        span.className = 'remote-selection'
        span.style.setProperty('--color', cover.color)
        span.append(piece)
        nodes.push(span)
      }
    }
    caretsAt(value.length)
    // A zero-width space gives a trailing newline its line, as the textarea has.
    nodes.push(document.createTextNode('\u200b'))
    this.overlay.replaceChildren(...nodes)
  }

  destroy(): void {
    cancelAnimationFrame(this.frame)
    document.removeEventListener('selectionchange', this.publish)
    this.field.removeEventListener('input', this.publish)
    this.field.removeEventListener('focus', this.publish)
    this.field.removeEventListener('blur', this.clear)
    this.awareness.off('change', this.schedule)
    this.text.unobserve(this.schedule)
    this.overlay.replaceChildren()
  }
}

const caret = (s: RemoteSelection): HTMLElement => {
  const el = document.createElement('span')
  el.className = 'remote-caret'
  el.style.setProperty('--color', s.color)
  const label = document.createElement('span')
  label.className = 'remote-caret-label'
  label.textContent = s.name
  el.append(label)
  return el
}
