import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { DocStatus } from '@converge/core'
import type { BrowserContext, Page } from 'playwright-core'
import { REPO } from './vite-build.js'

export const SCREENSHOTS = join(REPO, 'test-output/screenshots')

/** How long a page may take to show a state it is waiting for, in ms (generous: the machine is shared). */
export const PAGE_WAIT = 30_000

export interface NoteContent {
  title: string
  body: string
  todos: Array<{ id: string; text: string; done: boolean }>
}

/**
 * One tab of the notes demo, driven the way a person would (typing, clicking), and read
 * through the page's `window.converge` hook.
 */
export class NotesPage {
  readonly page: Page
  readonly label: string
  /** Console reports of something the relay's Content-Security-Policy blocked (there should be none). */
  readonly cspViolations: string[] = []

  constructor(page: Page, label: string) {
    this.page = page
    this.label = label
    page.on('pageerror', (err) => console.log(`[${label}] page error: ${err.message}`))
    page.on('console', (m) => {
      if (m.text().includes('Content Security Policy')) this.cspViolations.push(m.text())
      // Failed dials are expected here: the tests take the network and the relay away.
      if (m.type() === 'error' && !m.text().startsWith('WebSocket connection to')) {
        console.log(`[${label}] console error: ${m.text()}`)
      }
    })
  }

  static async open(context: BrowserContext, url: string, label: string): Promise<NotesPage> {
    const notes = new NotesPage(await context.newPage(), label)
    await notes.page.goto(url)
    await notes.ready()
    return notes
  }

  /** The note is open and bound to the page. */
  async ready(): Promise<void> {
    await this.page.waitForSelector('.app[data-ready="true"]', { timeout: PAGE_WAIT })
  }

  /** The service worker controls this page: from now on the shell loads offline. */
  async controlledByServiceWorker(): Promise<void> {
    await this.page.waitForFunction(
      async () => {
        await navigator.serviceWorker.ready
        return navigator.serviceWorker.controller !== null
      },
      undefined,
      { timeout: PAGE_WAIT, polling: 100 },
    )
  }

  async setName(name: string): Promise<void> {
    await this.page.fill('.me-name', name)
  }

  async typeTitle(text: string): Promise<void> {
    await this.page.click('.note-title')
    await this.page.keyboard.press('End')
    await this.page.keyboard.type(text)
  }

  /** Types at the end (or the start) of the note's body. */
  async typeInBody(text: string, where: 'end' | 'start' = 'end'): Promise<void> {
    await this.page.click('.editor-body')
    await this.page.keyboard.press(where === 'end' ? 'Control+End' : 'Control+Home')
    await this.page.keyboard.type(text)
  }

  async addTodo(text: string): Promise<void> {
    await this.page.click('.todo-new input')
    await this.page.keyboard.type(text)
    await this.page.keyboard.press('Enter')
  }

  async toggleTodo(text: string): Promise<void> {
    const index = await this.page.$$eval(
      'input.todo-text',
      (inputs, wanted) => inputs.findIndex((i) => (i as HTMLInputElement).value === wanted),
      text,
    )
    if (index < 0) throw new Error(`[${this.label}] no task "${text}"`)
    await this.page.locator('.todo-check').nth(index).click()
  }

  content(): Promise<NoteContent> {
    return this.page.evaluate(() => window.converge.content() as NoteContent)
  }

  status(): Promise<DocStatus> {
    return this.page.evaluate(() => window.converge.status() as DocStatus)
  }

  pageId(): Promise<string> {
    return this.page.evaluate(() => window.converge.pageId)
  }

  /** Resolves once every change so far is in IndexedDB. */
  whenWritten(): Promise<void> {
    return this.page.evaluate(() => window.converge.whenWritten())
  }

  /** Waits until the note's content satisfies `predicate` (checked in Node on each poll). */
  async waitForContent(predicate: (c: NoteContent) => boolean, what: string): Promise<NoteContent> {
    const deadline = Date.now() + PAGE_WAIT
    for (;;) {
      const content = await this.content()
      if (predicate(content)) return content
      if (Date.now() > deadline) {
        throw new Error(`[${this.label}] timed out waiting for ${what}; content: ${JSON.stringify(content)}`)
      }
      await this.page.waitForTimeout(50)
    }
  }

  /** Waits until the status pill shows `state` (offline, connecting, syncing, saving, saved). */
  async waitForPill(state: string): Promise<void> {
    try {
      await this.page.waitForSelector(`.status-pill[data-state="${state}"]`, { timeout: PAGE_WAIT, state: 'attached' })
    } catch (err) {
      const seen = await this.page.evaluate(() => ({
        pill: document.querySelector<HTMLElement>('.status-pill')?.dataset.state,
        onLine: navigator.onLine,
        status: window.converge.status(),
      }))
      throw new Error(`[${this.label}] the status pill never showed ${state}: ${JSON.stringify(seen)}`, { cause: err })
    }
  }

  /** Waits until the relay connection is open, synced, and every local change is saved on it. */
  async waitForSaved(): Promise<void> {
    await this.page.waitForFunction(
      () => {
        const s = window.converge.status()
        return s?.connection === 'online' && s.synced && s.saved
      },
      undefined,
      { timeout: PAGE_WAIT, polling: 50 },
    )
    await this.waitForPill('saved')
  }

  async screenshot(name: string): Promise<void> {
    await mkdir(SCREENSHOTS, { recursive: true })
    await this.page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) })
  }
}

/** Titles and texts of the tasks, sorted: what two converged replicas must agree on. */
export const todoTexts = (c: NoteContent) => c.todos.map((t) => `${t.done ? '[x]' : '[ ]'} ${t.text}`)
