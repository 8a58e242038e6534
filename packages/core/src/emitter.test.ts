import { ObservableV2 } from 'lib0/observable'
import { describe, expect, it } from 'vitest'
import { Emitter } from './emitter.js'

type Events = { ping: (n: number, s: string) => void }
type Observable = Pick<ObservableV2<Events>, 'on' | 'off' | 'once' | 'emit'>

/** What each listener saw, for a script of subscriptions made while emitting. */
const script = (make: () => Observable, listenerCount: number, withOnce: boolean) => {
  const o = make()
  const seen: string[] = []
  const late = (n: number) => seen.push(`late ${n}`)
  const listeners = Array.from({ length: listenerCount }, (_, i) => (n: number, s: string) => {
    seen.push(`${i} ${n} ${s}`)
    // The first listener adds one and removes the last one while the event is emitted.
    if (i === 0 && n === 1) {
      o.on('ping', late)
      if (listenerCount > 1) o.off('ping', listeners[listenerCount - 1] as never)
    }
  })
  for (const f of listeners) o.on('ping', f)
  if (withOnce) o.once('ping', (n) => seen.push(`once ${n}`))
  o.emit('ping', [1, 'a'])
  o.emit('ping', [2, 'b'])
  o.emit('nothing' as 'ping', [3, 'c'])
  return seen
}

describe('Emitter', () => {
  it('delivers exactly as lib0 ObservableV2 does: listeners added during an emit miss it, removed ones still get it, once runs once', () => {
    for (const count of [0, 1, 2, 3])
      for (const withOnce of [false, true]) {
        const seen = script(() => new Emitter<Events>(), count, withOnce)
        expect(seen, `${count} listeners${withOnce ? ' and a once' : ''}`).toEqual(
          script(() => new ObservableV2<Events>(), count, withOnce),
        )
        if (count === 1 && !withOnce) expect(seen).toEqual(['0 1 a', '0 2 b', 'late 2'])
      }
  })

  it('delivers as lib0 does when a listener is added twice, removed twice, or removed from a once', () => {
    const run = (o: Observable) => {
      const seen: string[] = []
      const a = (n: number) => seen.push(`a ${n}`)
      const b = (n: number) => seen.push(`b ${n}`)
      o.on('ping', a)
      o.on('ping', b)
      o.on('ping', a)
      o.emit('ping', [1, ''])
      o.off('ping', a)
      o.off('ping', a)
      o.emit('ping', [2, ''])
      o.once('ping', a)
      o.off('ping', a)
      o.emit('ping', [3, ''])
      o.emit('ping', [4, ''])
      o.off('ping', b)
      o.emit('ping', [5, ''])
      o.on('ping', a)
      o.emit('ping', [6, ''])
      return seen
    }
    const seen = run(new Emitter<Events>())
    expect(seen).toEqual(run(new ObservableV2<Events>()))
    expect(seen).toEqual(['a 1', 'b 1', 'b 2', 'b 3', 'a 3', 'b 4', 'a 6'])
  })

  it('with a single listener, that listener gets the arguments', () => {
    const e = new Emitter<Events>()
    const got: unknown[] = []
    e.on('ping', (n, s) => got.push(n, s))
    e.emit('ping', [7, 'x'])
    expect(got).toEqual([7, 'x'])
  })
})
