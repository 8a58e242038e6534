import { linkTo } from './doc-route.js'

const TITLES_KEY = 'converge-notes:titles'

/** Titles of the notes this browser has seen, by document name (the sidebar shows them without loading each note). */
const readTitles = (): Record<string, string> => {
  try {
    return JSON.parse(localStorage.getItem(TITLES_KEY) ?? '{}') as Record<string, string>
  } catch {
    return {}
  }
}

export const rememberTitle = (name: string, title: string): void => {
  const titles = readTitles()
  if (titles[name] === title) return
  titles[name] = title
  localStorage.setItem(TITLES_KEY, JSON.stringify(titles))
}

/** The sidebar: every note stored in this browser, the open one highlighted. */
export const renderDocList = (element: HTMLElement, names: string[], current: string): void => {
  const titles = readTitles()
  const all = [...new Set([...names, current])].sort((a, b) =>
    (titles[a] || a).localeCompare(titles[b] || b, undefined, { sensitivity: 'base' }),
  )
  element.replaceChildren(
    ...all.map((name) => {
      const li = document.createElement('li')
      const a = document.createElement('a')
      a.href = linkTo(name)
      a.className = 'doc-link'
      if (name === current) a.setAttribute('aria-current', 'page')
      const title = document.createElement('span')
      title.className = 'doc-link-title'
      title.textContent = titles[name]?.trim() || 'Untitled'
      const sub = document.createElement('span')
      sub.className = 'doc-link-name'
      sub.textContent = name
      a.append(title, sub)
      li.append(a)
      return li
    }),
  )
}
