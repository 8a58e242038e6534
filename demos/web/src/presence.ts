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

/**
 * The colours a person can pick, named for the swatches' accessible names. Each is dark
 * enough for white initials on it (contrast >= 4.5:1, WCAG AA).
 */
export const USER_COLORS: ReadonlyArray<{ name: string; value: string }> = [
  { name: 'Orange', value: '#c2410c' },
  { name: 'Green', value: '#237032' },
  { name: 'Blue', value: '#1864ab' },
  { name: 'Purple', value: '#9c36b5' },
  { name: 'Pink', value: '#c2255c' },
  { name: 'Teal', value: '#0b7285' },
  { name: 'Brown', value: '#8a5300' },
  { name: 'Indigo', value: '#5f3dc4' },
]
const isUserColor = (color: string) => USER_COLORS.some((c) => c.value === color)

/** Avatars shown in the header before the rest fold into a "+N" chip. */
export const MAX_AVATARS = 4
const NAMES = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Margaret', 'Ken', 'Radia', 'Leslie', 'Frances']
const USER_KEY = 'converge-notes:user'

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)] as T

/** This browser's user, made up on first visit and kept in localStorage. */
export const loadUser = (): User => {
  try {
    const saved = JSON.parse(localStorage.getItem(USER_KEY) ?? 'null') as Partial<User> | null
    // A colour from an older palette is replaced: the new ones are all readable.
    if (saved?.id && saved.name && saved.color)
      return isUserColor(saved.color) ? (saved as User) : saveNew(saved.id, saved.name)
  } catch {
    // A corrupt entry: make a new user.
  }
  return saveNew(crypto.randomUUID(), pick(NAMES))
}

const saveNew = (id: string, name: string): User => {
  const user = { id, name, color: pick(USER_COLORS).value }
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
    const everyone = [...people.values()]
    // Everyone beyond the first few folds into one chip, so a crowd never pushes the header wider.
    const shown = everyone.length > MAX_AVATARS ? everyone.slice(0, MAX_AVATARS - 1) : everyone
    const folded = everyone.slice(shown.length)
    const avatars = shown.map(({ user, focus, you }) => {
      const avatar = document.createElement('span')
      avatar.className = 'avatar'
      avatar.style.setProperty('--color', user.color)
      avatar.textContent = initials(user.name)
      avatar.dataset.name = user.name
      const what = focus ? ` · editing ${focus.startsWith('todo:') ? 'a task' : `the ${focus}`}` : ''
      avatar.title = you ? `${user.name} (you)` : `${user.name}${what}`
      avatar.setAttribute('role', 'img')
      avatar.setAttribute('aria-label', avatar.title)
      if (!you && focus) avatar.classList.add('is-active')
      return avatar
    })
    if (folded.length > 0) {
      const more = document.createElement('span')
      more.className = 'avatar presence-more'
      more.textContent = `+${folded.length}`
      more.title = folded.map((p) => p.user.name).join(', ')
      more.setAttribute('role', 'img')
      more.setAttribute('aria-label', `${folded.length} more: ${more.title}`)
      avatars.push(more)
    }
    this.element.replaceChildren(...avatars)
    this.element.dataset.count = String(people.size)
  }

  destroy(): void {
    this.awareness.off('change', this.render)
  }
}
