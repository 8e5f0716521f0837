import { describe, expect, test } from 'vitest'
import { TextMemo } from '../../src/crdt/textmemo.js'
import { changedLines } from '../../src/crdt/linedistance.js'

describe('TextMemo', () => {
  test('keeps the most recently used keys within its character budget; a key over a quarter of it is not kept', () => {
    const m = new TextMemo<number>(12)
    m.set('aaa', 1)
    m.set('bbb', 2)
    m.set('ccc', 3)
    expect(m.get('aaa')).toBe(1) // used again: now the newest
    m.set('ddd', 4) // 12 characters: still within
    m.set('eee', 5) // 15: the least recently used (bbb) goes
    expect(m.get('bbb')).toBeUndefined()
    expect([m.get('aaa'), m.get('ccc'), m.get('ddd'), m.get('eee')]).toEqual([1, 3, 4, 5])
    expect(m.set('xxxx', 9)).toBe(9)
    expect(m.get('xxxx')).toBeUndefined()
  })
})

describe('changedLines remembered', () => {
  // Calls with and without bounds, in any order, answer as a fresh computation would (seeded texts).
  test('bounded and unbounded calls agree with a fresh count, in any order', () => {
    let s = 7
    const rnd = (n: number) => ((s = (s * 1103515245 + 12345) % 2 ** 31), s % n)
    const text = () => Array.from({ length: 3 + rnd(12) }, () => `k${rnd(6)}: ${rnd(4)}`).join('\n') + (rnd(3) ? '\n' : '')
    for (let i = 0; i < 300; i++) {
      const [a, b] = [text(), text()]
      // The same distance from texts never asked before (one common line first): a fresh count.
      const exact = changedLines(`#${i}\n${a}`, `#${i}\n${b}`)
      const bounds = Array.from({ length: 4 }, () => (rnd(3) ? rnd(10) : undefined))
      for (const max of bounds) {
        const want = max !== undefined && exact! > max ? undefined : exact
        expect(changedLines(a, b, max), `${i} ${max}`).toBe(want)
      }
    }
  })
})
