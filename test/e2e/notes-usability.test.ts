import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { MemoryStore, Replica } from '@converge/core'
import { websocket } from '@converge/websocket'
import type { Page } from 'playwright-core'
import { expect, it } from 'vitest'
import { USER_COLORS } from '../../demos/web/src/presence.js'
import { describeInChromium } from './chromium.js'
import { freshDoc, useNotesDemo } from './notes-demo.js'
import { NotesPage, PAGE_WAIT } from './notes-page.js'

const PHONE = { width: 390, height: 844 }
const DESKTOP = { width: 1280, height: 800 }
const TEST_TIMEOUT = 180_000
/** People on the note besides the page under test (the "6 people present"). */
const OTHERS = ['Margaret Hamilton', 'Edsger Dijkstra', 'Barbara Liskov', 'Donald Knuth', 'Radia Perlman']

/** axe-core's source, injected into pages as a script. */
const AXE_SOURCE = createRequire(import.meta.url).resolve('axe-core/axe.min.js')

interface AxeViolation {
  id: string
  impact: string | null
  nodes: Array<{ target: string[]; failureSummary?: string }>
}

/** Runs axe-core in the page and returns its violations of the WCAG 2 A and AA rules. */
const axeViolations = async (page: Page): Promise<AxeViolation[]> => {
  // Evaluated through the DevTools protocol, not as an inline <script>: the relay's CSP
  // (script-src 'self') rightly blocks inline scripts, and the page keeps that CSP under test.
  await page.evaluate(readFileSync(AXE_SOURCE, 'utf8'))
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<unknown> } }).axe
    const result = (await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa'] },
      resultTypes: ['violations'],
    })) as { violations: AxeViolation[] }
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    }))
  })
}

const describeViolations = (violations: AxeViolation[]) =>
  violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`).join('\n')

/**
 * The contrast ratio (WCAG 2) of the text of `selector` (or of its placeholder) against the
 * first opaque background behind it. axe-core does not check placeholders.
 */
const contrastOf = (page: Page, selector: string, placeholder: boolean): Promise<number> =>
  page.evaluate(
    ([sel, ph]) => {
      const element = document.querySelector(sel as string) as HTMLElement
      const rgb = (css: string) => (css.match(/[\d.]+/g) ?? []).map(Number)
      const luminance = ([r = 0, g = 0, b = 0]: number[]) => {
        const f = (c: number) => (c / 255 <= 0.03928 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4)
        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b)
      }
      const fg = rgb(getComputedStyle(element, ph ? '::placeholder' : null).color)
      let bg = [255, 255, 255]
      for (let e: HTMLElement | null = element; e !== null; e = e.parentElement) {
        const c = rgb(getComputedStyle(e).backgroundColor)
        if (c.length === 3 || (c[3] ?? 0) === 1) {
          bg = c
          break
        }
      }
      const [hi, lo] = [luminance(fg), luminance(bg)].sort((a, b) => b - a) as [number, number]
      return (hi + 0.05) / (lo + 0.05)
    },
    [selector, placeholder] as const,
  )

/** Five people on `doc` through Node replicas, each with a user in the note's presence. */
const peopleOn = async (url: string, doc: string): Promise<Replica[]> =>
  Promise.all(
    OTHERS.map(async (name, i) => {
      const replica = new Replica({ store: new MemoryStore() })
      replica.connect(websocket(url))
      await replica.open(doc)
      replica
        .awareness(doc)
        .setLocalState({ user: { id: `person-${i}`, name, color: USER_COLORS[i % USER_COLORS.length]?.value } })
      return replica
    }),
  )

describeInChromium('the notes demo on a phone and for assistive technology', (executablePath) => {
  const demo = useNotesDemo(executablePath)
  const { open } = demo

  it(
    'at 390×844 with 6 people present the header fits: the status pill is on screen and the page does not scroll sideways',
    async () => {
      const doc = freshDoc('phone')
      const others = await peopleOn(demo.relay.url, doc)
      try {
        const me = await open(PHONE, `${demo.relay.httpUrl}/#${doc}`, 'phone')
        await me.setName('Grace Hopper')
        await me.page.waitForSelector('.presence[data-count="6"]', { timeout: PAGE_WAIT })
        await me.typeInBody('Typed on a phone.\n')
        await me.waitForSaved()
        const layout = await me.page.evaluate(() => {
          const box = (selector: string) => {
            const r = (document.querySelector(selector) as HTMLElement).getBoundingClientRect()
            return { left: r.left, right: r.right, top: r.top, bottom: r.bottom }
          }
          return {
            viewport: document.documentElement.clientWidth,
            scrollWidth: document.documentElement.scrollWidth,
            bodyScrollWidth: document.body.scrollWidth,
            topbar: box('.topbar'),
            pill: box('.status-pill'),
            brand: box('.brand'),
            presence: box('.presence'),
            share: box('.share'),
          }
        })
        await me.screenshot('phone-six-people')
        const where = JSON.stringify(layout)
        expect(layout.scrollWidth, where).toBeLessThanOrEqual(layout.viewport)
        expect(layout.bodyScrollWidth, where).toBeLessThanOrEqual(layout.viewport)
        for (const part of [layout.pill, layout.brand, layout.presence, layout.share]) {
          expect(part.left, where).toBeGreaterThanOrEqual(0)
          expect(part.right, where).toBeLessThanOrEqual(layout.viewport)
          expect(part.top, where).toBeGreaterThanOrEqual(layout.topbar.top)
          expect(part.bottom, where).toBeLessThanOrEqual(layout.topbar.bottom)
        }
        // Nothing in the header overlaps the pill.
        expect(layout.share.right, where).toBeLessThanOrEqual(layout.pill.left)
        expect(layout.presence.right, where).toBeLessThanOrEqual(layout.share.left)
        expect(layout.brand.right, where).toBeLessThanOrEqual(layout.presence.left)
        expect(await me.page.textContent('.status-pill')).toContain('Saved')
      } finally {
        await Promise.all(others.map((r) => r.destroy()))
      }
    },
    TEST_TIMEOUT,
  )

  it(
    'axe-core finds no WCAG A/AA violations (contrast, names) on the note with tasks, on a desktop and a phone',
    async () => {
      const doc = freshDoc('axe')
      const others = await peopleOn(demo.relay.url, doc)
      try {
        for (const [viewport, label] of [
          [DESKTOP, 'desktop'],
          [PHONE, 'phone'],
        ] as const) {
          const me = await open(viewport, `${demo.relay.httpUrl}/#${doc}`, `axe-${label}`)
          await me.page.waitForSelector('.presence[data-count="6"]', { timeout: PAGE_WAIT })
          if (label === 'desktop') {
            await me.addTodo('Water the plants')
            await me.addTodo('Call the venue')
            await me.toggleTodo('Call the venue')
          }
          await me.page.waitForSelector('.todo-item >> nth=1', { timeout: PAGE_WAIT })
          await me.waitForSaved()
          // Hover a task so its delete button is shown, as a pointer user sees it.
          await me.page.hover('.todo-item >> nth=0')
          for (const field of ['.note-title', '.editor-body', '.todo-new input']) {
            expect(await contrastOf(me.page, field, true), `${field} placeholder`).toBeGreaterThanOrEqual(4.5)
          }
          expect(await contrastOf(me.page, '.todo-delete', false), 'delete button').toBeGreaterThanOrEqual(4.5)
          const violations = await axeViolations(me.page)
          await me.screenshot(`axe-${label}`)
          expect(violations, describeViolations(violations)).toEqual([])
          // Leave, so the next viewport's page sees the same six people.
          await me.page.context().close()
        }
      } finally {
        await Promise.all(others.map((r) => r.destroy()))
      }
    },
    TEST_TIMEOUT,
  )

  it(
    'controls have distinct names: colour swatches by colour, task controls by the task’s text',
    async () => {
      const me = await open(DESKTOP, `${demo.relay.httpUrl}/#${freshDoc('names')}`, 'names')
      await me.addTodo('Water the plants')
      await me.addTodo('Call the venue')
      await me.page.waitForSelector('.todo-item >> nth=1', { timeout: PAGE_WAIT })
      const names = await me.page.evaluate(() => {
        const named = (selector: string) =>
          [...document.querySelectorAll<HTMLElement>(selector)].map(
            (e) => e.getAttribute('aria-label') ?? e.textContent ?? '',
          )
        return {
          swatches: named('.me-colors button'),
          checks: named('.todo-check'),
          texts: named('.todo-text'),
          deletes: named('.todo-delete'),
        }
      })
      expect(new Set(names.swatches).size).toBe(names.swatches.length)
      for (const name of names.swatches) expect(name).not.toMatch(/use this colou?r/i)
      expect(names.checks).toEqual(['Done: Water the plants', 'Done: Call the venue'])
      expect(names.texts).toEqual(['Task: Water the plants', 'Task: Call the venue'])
      expect(names.deletes).toEqual(['Delete task: Water the plants', 'Delete task: Call the venue'])
      // Playwright's accessible-name lookups agree with the attributes.
      await me.page.getByRole('button', { name: 'Delete task: Call the venue' }).waitFor({ state: 'attached' })
      await me.page.getByRole('checkbox', { name: 'Done: Water the plants' }).check()
      await me.waitForContent((c) => c.todos.some((t) => t.text === 'Water the plants' && t.done), 'the task done')
    },
    TEST_TIMEOUT,
  )

  it(
    '"+ New" moves focus to the new note’s title, and the title and note fields show a visible focus ring',
    async () => {
      const me = await open(DESKTOP, `${demo.relay.httpUrl}/#${freshDoc('focus')}`, 'focus')
      const before = await me.page.evaluate(() => window.converge.docName())
      await me.page.click('.new-note')
      await me.page.waitForFunction((old) => window.converge.docName() !== old, before, { timeout: PAGE_WAIT })
      await me.ready()
      await me.page.waitForFunction(
        () => document.activeElement?.classList.contains('note-title') === true,
        undefined,
        {
          timeout: PAGE_WAIT,
        },
      )
      // Keyboard focus on each field draws an outline or a ring (not the browser default, which the CSS removed).
      for (const field of ['.note-title', '.editor-body']) {
        await me.page.focus(field)
        await me.page.keyboard.press('Shift+Tab')
        await me.page.keyboard.press('Tab')
        const ring = await me.page.evaluate((selector) => {
          const element = document.querySelector(selector) as HTMLElement
          const style = getComputedStyle(element)
          return {
            focused: document.activeElement === element,
            outline: style.outlineStyle !== 'none' && Number.parseFloat(style.outlineWidth) >= 2,
            shadow: style.boxShadow !== 'none',
          }
        }, field)
        expect(ring.focused, field).toBe(true)
        expect(ring.outline || ring.shadow, `${field}: ${JSON.stringify(ring)}`).toBe(true)
      }
      await me.page.focus('.note-title')
      await me.screenshot('focus-title')
    },
    TEST_TIMEOUT,
  )

  it(
    'the header counts unsaved changes, not keystrokes, keeps the count across an offline reload, and clears it once saved',
    async () => {
      const context = await demo.newContext(DESKTOP)
      const me = await NotesPage.open(context, `${demo.relay.httpUrl}/#${freshDoc('unsaved')}`, 'unsaved')
      await me.waitForSaved()
      await me.controlledByServiceWorker()
      await context.setOffline(true)
      await me.waitForPill('offline')
      const count = () => me.page.getAttribute('.status-pill', 'data-unsaved')
      const countReaches = async (n: number, after: string) => {
        await me.page
          .waitForSelector(`.status-pill[data-unsaved="${n}"]`, { timeout: PAGE_WAIT, state: 'attached' })
          .catch(async (err) => {
            throw new Error(`after ${after} the count never read ${n}; it reads ${await count()}`, {
              cause: err,
            })
          })
      }
      await me.typeInBody('Twenty-six keystrokes here') // one run of typing: one change
      await countReaches(1, 'typing in the body')
      await me.typeTitle('Trip') // another part of the note: a second change
      await countReaches(2, 'typing the title')
      await me.addTodo('Pack the charger') // a third
      await countReaches(3, 'adding a task')
      expect((await me.status()).unsaved).toBeGreaterThan(3) // the replica counts transactions
      expect(await me.page.textContent('.status-count')).toBe('3 changes not synced')
      await me.whenWritten()
      await me.screenshot('unsaved-offline')

      await me.page.reload()
      await me.ready()
      await me.waitForPill('offline')
      expect(await count()).toBe('3')
      expect(await me.page.isVisible('.status-count')).toBe(true)

      await context.setOffline(false)
      await me.waitForSaved()
      expect(await count()).toBe('0')
      expect(await me.page.isVisible('.status-count')).toBe(false)
    },
    TEST_TIMEOUT,
  )
})
