import type { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { othersIn } from './presence.js'

/** One task: a Y.Map in the document's 'todos' Y.Array, so concurrent edits to different fields merge. */
export interface Todo {
  id: string
  text: string
  done: boolean
}

const read = (item: Y.Map<unknown>): Todo => ({
  id: String(item.get('id') ?? ''),
  text: String(item.get('text') ?? ''),
  done: item.get('done') === true,
})

interface Row {
  element: HTMLLIElement
  checkbox: HTMLInputElement
  input: HTMLInputElement
  editor: HTMLElement
  remove: HTMLButtonElement
}

/**
 * The shared task list: add, tick, rename, delete, clear the finished ones. Rows are
 * kept by id and patched in place, so a remote change never steals the focus or the
 * caret from a task being renamed here; a task someone else is editing shows their color.
 */
export class TodoList {
  readonly todos: Y.Array<Y.Map<unknown>>
  private readonly root: HTMLElement
  private readonly list: HTMLUListElement
  private readonly form: HTMLFormElement
  private readonly newInput: HTMLInputElement
  private readonly summary: HTMLElement
  private readonly clearButton: HTMLButtonElement
  private readonly awareness: Awareness
  private readonly rows = new Map<string, Row>()

  constructor(doc: Y.Doc, root: HTMLElement, awareness: Awareness) {
    this.todos = doc.getArray<Y.Map<unknown>>('todos')
    this.root = root
    this.awareness = awareness
    this.list = root.querySelector('.todo-items') as HTMLUListElement
    this.form = root.querySelector('.todo-new') as HTMLFormElement
    this.newInput = this.form.querySelector('input') as HTMLInputElement
    this.summary = root.querySelector('.todo-summary') as HTMLElement
    this.clearButton = root.querySelector('.todo-clear') as HTMLButtonElement
    this.form.addEventListener('submit', this.onSubmit)
    this.clearButton.addEventListener('click', this.clearDone)
    this.list.addEventListener('change', this.onChange)
    this.list.addEventListener('click', this.onClick)
    this.list.addEventListener('focusin', this.onFocus)
    this.list.addEventListener('focusout', this.onBlur)
    this.list.addEventListener('keydown', this.onKey)
    this.todos.observeDeep(this.render)
    awareness.on('change', this.renderPresence)
    this.render()
  }

  /** Appends a task. */
  add(text: string): void {
    const item = new Y.Map<unknown>()
    item.set('id', crypto.randomUUID())
    item.set('text', text)
    item.set('done', false)
    this.todos.push([item])
  }

  items(): Todo[] {
    return this.todos.toArray().map(read)
  }

  private find(id: string): [Y.Map<unknown>, number] | undefined {
    const all = this.todos.toArray()
    const index = all.findIndex((m) => m.get('id') === id)
    return index < 0 ? undefined : [all[index] as Y.Map<unknown>, index]
  }

  private readonly onSubmit = (event: SubmitEvent) => {
    event.preventDefault()
    const text = this.newInput.value.trim()
    if (text === '') return
    this.add(text)
    this.newInput.value = ''
  }

  private readonly clearDone = () => {
    this.todos.doc?.transact(() => {
      const all = this.todos.toArray()
      for (let i = all.length - 1; i >= 0; i--) if (all[i]?.get('done') === true) this.todos.delete(i, 1)
    })
  }

  private readonly onChange = (event: Event) => {
    const target = event.target as HTMLInputElement
    const id = target.closest('li')?.dataset.id
    const found = id === undefined ? undefined : this.find(id)
    if (found === undefined) return
    if (target.type === 'checkbox') found[0].set('done', target.checked)
    else if (target.value.trim() !== '' && target.value !== found[0].get('text'))
      found[0].set('text', target.value.trim())
  }

  private readonly onClick = (event: Event) => {
    const button = (event.target as HTMLElement).closest('button.todo-delete')
    const id = button?.closest('li')?.dataset.id
    const found = id === undefined ? undefined : this.find(id)
    if (found !== undefined) this.todos.delete(found[1], 1)
  }

  private readonly onKey = (event: KeyboardEvent) => {
    const target = event.target as HTMLInputElement
    if (event.key === 'Enter' && target.classList.contains('todo-text')) target.blur()
  }

  private readonly onFocus = (event: FocusEvent) => {
    const id = (event.target as HTMLElement).closest('li')?.dataset.id
    if (id !== undefined) this.awareness.setLocalStateField('focus', `todo:${id}`)
  }

  private readonly onBlur = () => {
    this.awareness.setLocalStateField('focus', null)
  }

  private readonly render = () => {
    const todos = this.items()
    const seen = new Set<string>()
    let before: ChildNode | null = this.list.firstChild
    for (const todo of todos) {
      seen.add(todo.id)
      let row = this.rows.get(todo.id)
      if (row === undefined) {
        row = makeRow(todo.id)
        this.rows.set(todo.id, row)
      }
      if (row.input.dataset.named !== todo.text) nameRow(row, todo.text)
      row.checkbox.checked = todo.done
      row.element.classList.toggle('is-done', todo.done)
      // Never rewrite a task that is being renamed here.
      if (document.activeElement !== row.input && row.input.value !== todo.text) row.input.value = todo.text
      if (row.element !== before) this.list.insertBefore(row.element, before)
      before = row.element.nextSibling
    }
    for (const [id, row] of this.rows) {
      if (seen.has(id)) continue
      row.element.remove()
      this.rows.delete(id)
    }
    const done = todos.filter((t) => t.done).length
    this.summary.textContent = todos.length === 0 ? '' : `${done} of ${todos.length} done`
    this.clearButton.hidden = done === 0
    this.root.classList.toggle('is-empty', todos.length === 0)
    this.renderPresence()
  }

  /** Marks the tasks that someone else has focused, in their color. */
  private readonly renderPresence = () => {
    const editing = new Map<string, { name: string; color: string }>()
    for (const [, state] of othersIn(this.awareness)) {
      if (state.focus?.startsWith('todo:')) editing.set(state.focus.slice(5), state.user)
    }
    for (const [id, row] of this.rows) {
      const who = editing.get(id)
      row.element.classList.toggle('is-remote-focus', who !== undefined)
      if (who === undefined) {
        row.element.style.removeProperty('--color')
        row.editor.textContent = ''
      } else {
        row.element.style.setProperty('--color', who.color)
        row.editor.textContent = who.name
      }
    }
  }

  destroy(): void {
    this.form.removeEventListener('submit', this.onSubmit)
    this.clearButton.removeEventListener('click', this.clearDone)
    this.list.removeEventListener('change', this.onChange)
    this.list.removeEventListener('click', this.onClick)
    this.list.removeEventListener('focusin', this.onFocus)
    this.list.removeEventListener('focusout', this.onBlur)
    this.list.removeEventListener('keydown', this.onKey)
    this.todos.unobserveDeep(this.render)
    this.awareness.off('change', this.renderPresence)
    this.list.replaceChildren()
    this.rows.clear()
  }
}

const makeRow = (id: string): Row => {
  const element = document.createElement('li')
  element.className = 'todo-item'
  element.dataset.id = id
  const checkbox = document.createElement('input')
  checkbox.type = 'checkbox'
  checkbox.className = 'todo-check'
  checkbox.setAttribute('aria-label', 'Done')
  const input = document.createElement('input')
  input.className = 'todo-text'
  input.setAttribute('aria-label', 'Task')
  const editor = document.createElement('span')
  editor.className = 'todo-editor'
  const remove = document.createElement('button')
  remove.type = 'button'
  remove.className = 'todo-delete'
  remove.textContent = '×'
  element.append(checkbox, input, editor, remove)
  return { element, checkbox, input, editor, remove }
}

/** Names a row's controls with its task's text, so each reads apart from the others ("Done: Call the venue"). */
const nameRow = (row: Row, text: string): void => {
  row.input.dataset.named = text
  row.checkbox.setAttribute('aria-label', `Done: ${text}`)
  row.input.setAttribute('aria-label', `Task: ${text}`)
  row.remove.setAttribute('aria-label', `Delete task: ${text}`)
  row.remove.title = `Delete “${text}”`
}
