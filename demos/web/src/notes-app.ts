import type { Replica } from '@converge/core'
import type * as Y from 'yjs'
import { rememberTitle, renderDocList } from './doc-list.js'
import { currentDoc, linkTo, newDocName, rememberDoc } from './doc-route.js'
import { initials, loadUser, PresenceBar, saveUser, USER_COLORS, type User } from './presence.js'
import { renderStatus } from './status-pill.js'
import { TextBinding } from './text-binding.js'
import { TextCursors } from './text-cursors.js'
import { TodoList } from './todo-list.js'
import { UnsavedChanges } from './unsaved-changes.js'
import type { WatchedStore } from './watched-store.js'

const $ = <T extends HTMLElement>(selector: string): T => {
  const element = document.querySelector<T>(selector)
  if (element === null) throw new Error(`missing element ${selector}`)
  return element
}

interface View {
  destroy(): void
}

/** What one open note shows: its title, body, cursors, tasks and the people on it. */
interface OpenNote {
  name: string
  doc: Y.Doc
  todos: TodoList
  unsaved: UnsavedChanges
  views: View[]
}

/**
 * The notes app: opens the note the URL names, binds its parts to the page, shows who is
 * here and whether changes are saved, and switches notes without reloading.
 */
export class NotesApp {
  readonly replica: Replica
  readonly store: WatchedStore
  user: User
  note: OpenNote | undefined
  private wanted = ''
  private switching: Promise<void> = Promise.resolve()
  private listTimer: ReturnType<typeof setTimeout> | undefined
  private relayDials = 0
  /** "+ New" was clicked: the next note opened takes the focus in its title. */
  private focusTitleOnOpen = false
  private connectedOnce = false

  private readonly root = $<HTMLElement>('.app')
  private readonly pill = $<HTMLElement>('.status-pill')
  private readonly title = $<HTMLInputElement>('.note-title')
  private readonly body = $<HTMLTextAreaElement>('.editor-body')
  private readonly overlay = $<HTMLElement>('.editor-overlay')
  private readonly todoRoot = $<HTMLElement>('.todos')
  private readonly avatars = $<HTMLElement>('.presence')
  private readonly docList = $<HTMLElement>('.doc-list')
  private readonly nameInput = $<HTMLInputElement>('.me-name')
  private readonly meAvatar = $<HTMLElement>('.me .avatar')
  private readonly swatches = $<HTMLElement>('.me-colors')

  constructor(replica: Replica, store: WatchedStore) {
    this.replica = replica
    this.store = store
    this.user = loadUser()
    replica.on('status', (name) => {
      if (name === this.note?.name) this.renderStatus()
    })
    replica.on('error', (err, context) => console.warn(`converge: ${context}`, err))
    addEventListener('online', () => this.renderStatus())
    addEventListener('offline', () => this.renderStatus())
    addEventListener('hashchange', () => void this.show(currentDoc()))
    // Leave the others' presence lists when the tab goes away, not 30 s later.
    addEventListener('pagehide', () => this.awareness()?.setLocalState(null))
    addEventListener('pageshow', (event) => {
      if (event.persisted) this.publishUser()
    })
    $<HTMLButtonElement>('.new-note').addEventListener('click', () => {
      this.focusTitleOnOpen = true
      location.hash = linkTo(newDocName())
    })
    $<HTMLButtonElement>('.share').addEventListener('click', (event) =>
      this.copyLink(event.currentTarget as HTMLElement),
    )
    this.setupUserControls()
  }

  /** Shows note `name`: one switch at a time, and only the last one asked for. */
  show(name: string): Promise<void> {
    this.wanted = name
    this.switching = this.switching.then(() => (this.wanted === name ? this.switchTo(name) : undefined))
    return this.switching
  }

  private async switchTo(name: string): Promise<void> {
    if (this.note?.name === name) return
    this.root.dataset.ready = 'false'
    await this.closeNote()
    let doc: Y.Doc
    try {
      doc = await this.replica.open(name)
    } catch (err) {
      console.error(`could not open ${name}`, err)
      return
    }
    rememberDoc(name)
    if (location.hash !== linkTo(name)) history.replaceState(null, '', linkTo(name))
    const awareness = this.replica.awareness(name)
    const titleText = doc.getText('title')
    const bodyText = doc.getText('body')
    const todos = new TodoList(doc, this.todoRoot, awareness)
    const unsaved = new UnsavedChanges(doc, name, () => this.renderStatus())
    const note: OpenNote = {
      name,
      doc,
      todos,
      unsaved,
      views: [
        unsaved,
        new TextBinding(titleText, this.title, () => this.titleChanged(name, titleText.toString())),
        new TextBinding(bodyText, this.body, () => this.fitBody()),
        new TextCursors(bodyText, this.body, this.overlay, awareness, 'body', () => this.user),
        todos,
        new PresenceBar(awareness, this.avatars, () => this.user),
      ],
    }
    this.note = note
    this.title.addEventListener('focus', this.focusTitle)
    this.title.addEventListener('blur', this.blurTitle)
    this.publishUser()
    this.renderStatus()
    this.refreshDocList()
    this.root.dataset.doc = name
    this.root.dataset.ready = 'true'
    if (this.focusTitleOnOpen) {
      this.focusTitleOnOpen = false
      this.title.focus()
    }
  }

  private async closeNote(): Promise<void> {
    const note = this.note
    if (note === undefined) return
    this.note = undefined
    this.title.removeEventListener('focus', this.focusTitle)
    this.title.removeEventListener('blur', this.blurTitle)
    for (const view of note.views) view.destroy()
    await this.replica.close(note.name)
  }

  private awareness() {
    return this.note === undefined ? undefined : this.replica.awareness(this.note.name)
  }

  private publishUser(): void {
    const awareness = this.awareness()
    if (awareness === undefined) return
    // After pagehide cleared our presence (then a back/forward restore), start it afresh.
    if (awareness.getLocalState() === null) awareness.setLocalState({ user: this.user })
    else awareness.setLocalStateField('user', this.user)
  }

  private readonly focusTitle = () => this.awareness()?.setLocalStateField('focus', 'title')
  private readonly blurTitle = () => this.awareness()?.setLocalStateField('focus', null)

  /** The replica dials the relay again: the first attempt is over. */
  relayDialed(): void {
    this.relayDials++
    this.renderStatus()
  }

  renderStatus(): void {
    const note = this.note
    if (note === undefined) return
    const status = this.replica.status(note.name)
    if (status.connection === 'online') this.connectedOnce = true
    if (status.connection === 'online' && status.saved) note.unsaved.saved()
    renderStatus(this.pill, status, note.unsaved.count(), {
      browserOnline: navigator.onLine,
      firstAttempt: !this.connectedOnce && this.relayDials <= 1,
      localWrites: this.store.pending,
    })
  }

  private titleChanged(name: string, title: string): void {
    document.title = `${title.trim() || 'Untitled'} · converge notes`
    rememberTitle(name, title)
    this.refreshDocList()
  }

  /** The sidebar lists what the store holds; a burst of title keystrokes refreshes it once. */
  private refreshDocList(): void {
    if (this.listTimer !== undefined) return
    this.listTimer = setTimeout(() => {
      this.listTimer = undefined
      this.replica.list().then(
        (names) => renderDocList(this.docList, names, this.note?.name ?? ''),
        (err) => console.warn('listing notes failed', err),
      )
    }, 150)
  }

  /** The textarea grows with its text, so it never scrolls inside and the cursor overlay stays aligned. */
  private fitBody(): void {
    this.body.style.height = 'auto'
    this.body.style.height = `${this.body.scrollHeight}px`
  }

  private setupUserControls(): void {
    const renderMe = () => {
      this.nameInput.value = this.user.name
      this.meAvatar.textContent = initials(this.user.name)
      this.meAvatar.style.setProperty('--color', this.user.color)
      for (const swatch of this.swatches.querySelectorAll<HTMLButtonElement>('button')) {
        swatch.setAttribute('aria-pressed', String(swatch.dataset.color === this.user.color))
      }
    }
    const update = (change: Partial<User>) => {
      this.user = { ...this.user, ...change }
      saveUser(this.user)
      renderMe()
      this.publishUser()
    }
    this.swatches.replaceChildren(
      ...USER_COLORS.map(({ name, value }) => {
        const swatch = document.createElement('button')
        swatch.type = 'button'
        swatch.className = 'swatch'
        swatch.dataset.color = value
        swatch.style.setProperty('--color', value)
        swatch.title = name
        swatch.setAttribute('aria-label', name)
        swatch.addEventListener('click', () => update({ color: value }))
        return swatch
      }),
    )
    this.nameInput.addEventListener('input', () => {
      const name = this.nameInput.value.trim()
      if (name !== '') update({ name: name.slice(0, 40) })
    })
    renderMe()
  }

  private copyLink(button: HTMLElement): void {
    const label = button.querySelector('.share-label') ?? button
    navigator.clipboard.writeText(location.href).then(
      () => {
        label.textContent = 'Link copied'
        setTimeout(() => {
          label.textContent = 'Share'
        }, 1500)
      },
      () => prompt('Copy this link', location.href),
    )
  }
}
