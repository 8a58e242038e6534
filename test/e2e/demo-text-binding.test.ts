// The notes demo's text binding, checked without a browser: the edit it derives from an
// input event, and where a caret goes when a remote change arrives.
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { diffText, shiftIndex } from '../../demos/web/src/text-binding.js'
import { seededRandom } from '../bench/lib/seeded-random.js'
import { seedFor } from '../helpers/seed.js'

const RUNS = 2_000
// Few letters, so repeated characters make the edit's place ambiguous.
const word = (random: () => number, max: number) =>
  Array.from({ length: Math.floor(random() * max) }, () => 'ab\n'[Math.floor(random() * 3)]).join('')

describe('the demo text binding', () => {
  it('turns any single edit into an edit that rebuilds the new text and ends at the caret', () => {
    const random = seededRandom(seedFor('diffText', import.meta.url))
    for (let run = 0; run < RUNS; run++) {
      const before = word(random, 12)
      const index = Math.floor(random() * (before.length + 1))
      const remove = Math.floor(random() * (before.length - index + 1))
      const insert = word(random, 4)
      const after = before.slice(0, index) + insert + before.slice(index + remove)
      const caret = index + insert.length
      const edit = diffText(before, after, caret)
      const rebuilt = before.slice(0, edit.index) + edit.insert + before.slice(edit.index + edit.remove)
      expect(rebuilt).toBe(after)
      if (before !== after) expect(edit.index + edit.insert.length).toBe(caret)
    }
  })

  it('moves a caret with a remote change as a Yjs position tied to the character before it does', () => {
    const random = seededRandom(seedFor('shiftIndex', import.meta.url))
    for (let run = 0; run < RUNS; run++) {
      const doc = new Y.Doc()
      const text = doc.getText('t')
      text.insert(0, word(random, 12) || 'a')
      const caret = Math.floor(random() * (text.length + 1))
      const anchor = Y.createRelativePositionFromTypeIndex(text, caret, -1)
      let delta: Y.YTextEvent['delta'] = []
      text.observe((event) => {
        delta = event.delta
      })
      doc.transact(() => {
        for (let k = 0; k < 1 + Math.floor(random() * 3); k++) {
          const at = Math.floor(random() * (text.length + 1))
          if (random() < 0.5) text.insert(at, word(random, 3) || 'b')
          else text.delete(at, Math.min(text.length - at, 1 + Math.floor(random() * 3)))
        }
      })
      const expected = Y.createAbsolutePositionFromRelativePosition(anchor, doc)?.index
      expect(shiftIndex(caret, delta)).toBe(expected)
    }
  })
})
