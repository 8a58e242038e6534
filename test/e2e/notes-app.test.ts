import { expect, it } from 'vitest'
import { ADMIN_TOKEN } from '../helpers/admin.js'
import type { RelayProcess } from '../helpers/relay-process.js'
import { describeInChromium } from './chromium.js'
import { freshDoc, startNotesRelay, useNotesDemo } from './notes-demo.js'
import { type NoteContent, NotesPage, todoTexts } from './notes-page.js'

const VIEWPORT = { width: 1360, height: 860 }
const TEST_TIMEOUT = 180_000

/** The relay's stored copy of a note, through its admin API (it never joins the note). */
const relayContent = async (relay: RelayProcess, doc: string): Promise<Record<string, unknown>> => {
  const res = await fetch(`${relay.httpUrl}/api/docs/${encodeURIComponent(doc)}`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  })
  if (res.status === 404) return {}
  if (res.status !== 200) throw new Error(`admin API answered ${res.status}`)
  return ((await res.json()) as { content: Record<string, unknown> }).content
}

const sameNote = (a: NoteContent, b: NoteContent) =>
  a.title === b.title && a.body === b.body && JSON.stringify(a.todos) === JSON.stringify(b.todos)

describeInChromium('the notes demo in Chromium', (executablePath) => {
  const demo = useNotesDemo(executablePath)
  const newContext = () => demo.newContext(VIEWPORT)

  it(
    'two people editing one note in two browsers converge on title, text and tasks, and see each other',
    async () => {
      const url = `${demo.relay.httpUrl}/#${freshDoc('converge')}`
      const ada = await NotesPage.open(await newContext(), url, 'ada')
      const grace = await NotesPage.open(await newContext(), url, 'grace')
      await ada.setName('Ada Lovelace')
      await grace.setName('Grace Hopper')

      await ada.typeTitle('Launch plan')
      // Both type at once: Ada at the end of the body, Grace at its start and in the tasks.
      await Promise.all([
        ada.typeInBody('Goals for this week:\n- ship offline mode\n- write the docs\n'),
        (async () => {
          await grace.addTodo('Review the sync protocol')
          await grace.addTodo('Book the team dinner')
          await grace.typeInBody('Agenda. ', 'start')
        })(),
      ])
      await ada.addTodo('Record the demo video')
      await grace.toggleTodo('Review the sync protocol')

      const expectAll = (c: NoteContent) =>
        c.title === 'Launch plan' &&
        c.body.includes('Agenda. ') &&
        c.body.includes('- write the docs\n') &&
        c.todos.length === 3 &&
        c.todos.some((t) => t.text === 'Review the sync protocol' && t.done)
      const adaSees = await ada.waitForContent(expectAll, 'every edit from both')
      const graceSees = await grace.waitForContent((c) => expectAll(c) && sameNote(c, adaSees), 'the same note as Ada')
      expect(sameNote(adaSees, graceSees)).toBe(true)
      expect(todoTexts(graceSees)).toEqual([
        '[x] Review the sync protocol',
        '[ ] Book the team dinner',
        '[ ] Record the demo video',
      ])
      await ada.waitForSaved()
      await grace.waitForSaved()

      // Presence: each sees the other's avatar, and Grace's caret (with her name) in Ada's editor.
      await ada.page.waitForSelector('.presence .avatar[data-name="Grace Hopper"]', { timeout: 30_000 })
      await grace.page.waitForSelector('.presence .avatar[data-name="Ada Lovelace"]', { timeout: 30_000 })
      await grace.page.click('.editor-body', { position: { x: 120, y: 12 } })
      await ada.page.waitForSelector('.remote-caret-label:text("Grace Hopper")', { timeout: 30_000 })

      expect(
        await relayContent(demo.relay, await ada.page.evaluate(() => window.converge.docName() ?? '')),
      ).toMatchObject({
        title: 'Launch plan',
        body: adaSees.body,
      })
      await ada.screenshot('converge-ada')
      await grace.screenshot('converge-grace')
      // The app runs whole under the relay's Content-Security-Policy (scripts, styles, ws:, service worker).
      expect([...ada.cspViolations, ...grace.cspViolations]).toEqual([])
    },
    TEST_TIMEOUT,
  )

  it(
    'a browser that goes offline keeps editing, reloads from the service worker with its edits from IndexedDB, and converges when back online',
    async () => {
      const doc = freshDoc('offline')
      const url = `${demo.relay.httpUrl}/#${doc}`
      const offlineContext = await newContext()
      const ada = await NotesPage.open(offlineContext, url, 'ada')
      const grace = await NotesPage.open(await newContext(), url, 'grace')
      await ada.setName('Ada')
      await grace.setName('Grace')
      await ada.typeTitle('Field notes')
      await ada.typeInBody('Written online.\n')
      await grace.waitForContent((c) => c.body === 'Written online.\n', 'the online text')
      await ada.waitForSaved()
      await ada.controlledByServiceWorker()

      await offlineContext.setOffline(true)
      await ada.waitForPill('offline')
      await ada.typeInBody('Written on the train, offline.\n')
      await ada.addTodo('Buy a new charger')
      // Meanwhile Grace, online, edits too.
      await grace.typeInBody('Grace was here.\n', 'start')
      await grace.addTodo('Call the venue')
      await grace.waitForSaved()
      expect((await ada.status()).unsaved).toBeGreaterThan(0)
      await ada.whenWritten()
      await ada.screenshot('offline-before-reload')

      // Reload while still offline: the shell comes from the service worker, the note from IndexedDB.
      const response = await ada.page.reload()
      expect(response?.fromServiceWorker()).toBe(true)
      await ada.ready()
      await ada.waitForPill('offline')
      const offline = await ada.content()
      expect(offline.title).toBe('Field notes')
      expect(offline.body).toBe('Written online.\nWritten on the train, offline.\n')
      expect(todoTexts(offline)).toEqual(['[ ] Buy a new charger'])
      expect((await ada.status()).unsaved).toBeGreaterThan(0)
      expect(JSON.stringify(await relayContent(demo.relay, doc))).not.toContain('train')
      await ada.screenshot('offline-after-reload')

      await offlineContext.setOffline(false)
      await ada.waitForSaved()
      const everything = (c: NoteContent) =>
        c.body.includes('Grace was here.\n') &&
        c.body.includes('Written online.\nWritten on the train, offline.\n') &&
        c.todos.length === 2
      const adaSees = await ada.waitForContent(everything, "both people's edits")
      await grace.waitForContent((c) => sameNote(c, adaSees), 'the same note as Ada')
      expect(todoTexts(adaSees).sort()).toEqual(['[ ] Buy a new charger', '[ ] Call the venue'])
      expect(await relayContent(demo.relay, doc)).toMatchObject({ body: adaSees.body })
      await ada.screenshot('offline-back-online')
    },
    TEST_TIMEOUT,
  )

  it(
    'two tabs of one browser sync through BroadcastChannel while offline, and the relay gets it all when back online',
    async () => {
      const doc = freshDoc('tabs')
      const url = `${demo.relay.httpUrl}/#${doc}`
      const context = await newContext()
      const first = await NotesPage.open(context, url, 'tab-1')
      await first.controlledByServiceWorker()
      await context.setOffline(true)
      // The second tab opens while offline: its shell comes from the service worker.
      const second = await NotesPage.open(context, url, 'tab-2')
      await first.waitForPill('offline')
      await second.waitForPill('offline')

      await first.typeInBody('Typed in the first tab.\n')
      await second.waitForContent((c) => c.body === 'Typed in the first tab.\n', 'the first tab’s text')
      await second.addTodo('Added in the second tab')
      await second.typeInBody('And the second tab answers.\n')
      const both = await first.waitForContent(
        (c) => c.body.endsWith('And the second tab answers.\n') && c.todos.length === 1,
        'the second tab’s edits',
      )
      // Each tab sees the other's presence (one person, two tabs).
      const present = await first.page.evaluate((name) => window.converge.replica.awareness(name).getStates().size, doc)
      expect(present).toBe(2)
      expect(await relayContent(demo.relay, doc)).toEqual({})
      await second.screenshot('tabs-offline')

      await context.setOffline(false)
      await first.waitForSaved()
      await second.waitForSaved()
      expect(await relayContent(demo.relay, doc)).toMatchObject({ body: both.body })
    },
    TEST_TIMEOUT,
  )

  it(
    'pages resume without a reload when the relay is restarted during a session',
    async () => {
      const own = await startNotesRelay()
      try {
        const doc = freshDoc('restart')
        const url = `${own.httpUrl}/#${doc}`
        const ada = await NotesPage.open(await newContext(), url, 'ada')
        const grace = await NotesPage.open(await newContext(), url, 'grace')
        const pageIds = [await ada.pageId(), await grace.pageId()]
        await ada.typeInBody('Before the restart.\n')
        await grace.waitForContent((c) => c.body === 'Before the restart.\n', 'the first text')
        await ada.waitForSaved()

        await own.kill()
        await ada.page.waitForFunction(() => window.converge.status()?.connection !== 'online', undefined, {
          timeout: 30_000,
        })
        await ada.typeInBody('While the relay was down.\n')
        await ada.waitForPill('offline')
        await ada.screenshot('relay-down')
        await own.start()

        await ada.waitForSaved()
        await grace.waitForSaved()
        const after = await grace.waitForContent((c) => c.body.includes('While the relay was down.\n'), 'the text')
        expect(after.body).toBe('Before the restart.\nWhile the relay was down.\n')
        await grace.typeInBody('After the restart.\n')
        await ada.waitForContent((c) => c.body.endsWith('After the restart.\n'), 'the text typed after')
        expect([await ada.pageId(), await grace.pageId()]).toEqual(pageIds)
        await grace.screenshot('relay-restarted')
      } finally {
        await own.dispose()
      }
    },
    TEST_TIMEOUT,
  )
})
