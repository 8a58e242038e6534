import type { Awareness } from 'y-protocols/awareness'

/** Someone using the app: the same in every tab of one browser. */
export interface User {
  id: string
  name: string
  color: string
}

/** What each tab publishes in the document's awareness. */
export interface PresenceState {
  user?: User
  /** The caret and selection in a text field, as Yjs relative positions. */
  cursor?: { field: string; anchor: unknown; head: unknown } | null
  /** What the person is working on ('title', 'body', 'todo:<id>'), for highlights. */
  focus?: string | null
}

export const USER_COLORS = ['#e8590c', '#2b8a3e', '#1c7ed6', '#ae3ec9', '#d6336c', '#0c8599', '#f08c00', '#6741d9']
const NAMES = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Margaret', 'Ken', 'Radia', 'Leslie', 'Frances']
const USER_KEY = 'converge-notes:user'

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)] as T

/** This browser's user, made up on first visit and kept in localStorage. */
export const loadUser = (): User => {
  try {
    const saved = JSON.parse(localStorage.getItem(USER_KEY) ?? 'null') as Partial<User> | null
    if (saved?.id && saved.name && saved.color) return saved as User
  } catch {
    // A corrupt entry: make a new user.
  }
  const user = { id: crypto.randomUUID(), name: pick(NAMES), color: pick(USER_COLORS) }
  saveUser(user)
  return user
}

export const saveUser = (user: User): void => {
  localStorage.setItem(USER_KEY, JSON.stringify(user))
}

export const initials = (name: string): string =>
  name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((w) => w[0]?.toUpperCase() ?? '')
    .join('') || '?'

/** Everyone present except this tab, with a user, keyed by awareness client id. */
export const othersIn = (awareness: Awareness): Array<[number, PresenceState & { user: User }]> => {
  const out: Array<[number, PresenceState & { user: User }]> = []
  for (const [clientId, state] of awareness.getStates()) {
    const s = state as PresenceState
    if (clientId !== awareness.clientID && s.user !== undefined)
      out.push([clientId, s as PresenceState & { user: User }])
  }
  return out
}

/**
 * The avatars in the header: one per person (tabs of one browser count once), this
 * browser's user first, each with a tooltip that says what they are editing.
 */
export class PresenceBar {
  private readonly awareness: Awareness
  private readonly element: HTMLElement
  private readonly self: () => User

  constructor(awareness: Awareness, element: HTMLElement, self: () => User) {
    this.awareness = awareness
    this.element = element
    this.self = self
    awareness.on('change', this.render)
    this.render()
  }

  readonly render = () => {
    const me = this.self()
    const people = new Map<string, { user: User; focus: string | null | undefined; you: boolean }>()
    people.set(me.id, { user: me, focus: undefined, you: true })
    for (const [, state] of othersIn(this.awareness)) {
      const existing = people.get(state.user.id)
      if (existing === undefined) people.set(state.user.id, { user: state.user, focus: state.focus, you: false })
      else existing.focus ??= state.focus
    }
    this.element.replaceChildren(
      ...[...people.values()].map(({ user, focus, you }) => {
        const avatar = document.createElement('span')
        avatar.className = 'avatar'
        avatar.style.setProperty('--color', user.color)
        avatar.textContent = initials(user.name)
        avatar.dataset.name = user.name
        const what = focus ? ` · editing ${focus.startsWith('todo:') ? 'a task' : `the ${focus}`}` : ''
        avatar.title = you ? `${user.name} (you)` : `${user.name}${what}`
        if (!you && focus) avatar.classList.add('is-active')
        return avatar
      }),
    )
    this.element.dataset.count = String(people.size)
  }

  destroy(): void {
    this.awareness.off('change', this.render)
  }
}
