import { describe, expect, it } from 'vitest'
import { PROGRESS_AFTER_MS, progressLine } from './progress-line.js'

const terminal = (isTTY: boolean) => {
  const out = {
    isTTY,
    text: '',
    write(s: string) {
      out.text += s
      return true
    },
  }
  return out
}

describe('progress of backup and restore', () => {
  it('on a terminal: nothing for quick work, then one redrawn line with counts, cleared at the end', () => {
    const out = terminal(true)
    let now = 0
    const progress = progressLine('restoring', out as unknown as NodeJS.WriteStream, () => now)
    progress.update(1, 10)
    expect(out.text).toBe('')
    now = PROGRESS_AFTER_MS + 500
    progress.update(4, 10)
    expect(out.text).toBe('\r\x1b[Krestoring 4/10 documents (40%), 1.5 s')
    now += 10
    progress.update(5, 10) // within the redraw interval: skipped
    expect(out.text.match(/restoring/g)).toHaveLength(1)
    progress.update(10, 10) // the last one always shows
    expect(out.text).toContain('10/10 documents (100%)')
    progress.end()
    expect(out.text.endsWith('\r\x1b[K')).toBe(true)
  })

  it('not a terminal (a pipe, CI): prints nothing at all', () => {
    const out = terminal(false)
    let now = 0
    const progress = progressLine('backing up', out as unknown as NodeJS.WriteStream, () => now)
    now = 60_000
    progress.update(5, 10)
    progress.end()
    expect(out.text).toBe('')
  })
})
