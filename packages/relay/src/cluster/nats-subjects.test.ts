import { describe, expect, it } from 'vitest'
import { decodeDocToken, encodeDocToken } from './nats-subjects.js'

describe('document names as subject tokens', () => {
  const names = ['notes', 'team-a/notes', 'a.b.*.>', 'with space', 'über_☃', '_5F', '日本語', 'x'.repeat(200)]

  it('round-trip and hold only characters valid in subjects and KV keys', () => {
    for (const name of names) {
      const token = encodeDocToken(name)
      expect(token).toMatch(/^[A-Za-z0-9_-]+$/)
      expect(decodeDocToken(token)).toBe(name)
    }
  })

  it('are distinct for distinct names', () => {
    const tokens = new Set(names.map(encodeDocToken))
    expect(tokens.size).toBe(names.length)
  })

  it('refuse tokens no name encodes to', () => {
    for (const bad of ['a.b', '_zz', '_2', '_61', '_FF', 'a b']) expect(decodeDocToken(bad)).toBeUndefined()
  })
})
