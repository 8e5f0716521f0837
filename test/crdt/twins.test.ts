/**
 * Two equal items side by side (twins), each edited by another peer at once: every edit stays on the item
 * it was made on. The common subsequence paired the unchanged twin with the edited one's node, so an edit
 * of the first twin deleted the second and inserted a new first one (`match.ts` slideTwins); found by the
 * stale-save generator (seeds 723611, 961458: a value both changed had no record), kept as chains in
 * regressions/stale-fixed-6.json and -7.json.
 */
import { expect, test } from 'vitest'
import type { Child, Node } from '../../src/crdt/ir.js'
import { matchItems } from '../../src/crdt/match.js'
import { parseYaml } from '../../src/crdt/parse.js'
import { changedLines } from '../../src/crdt/recent.js'
import { defaultRules } from '../../src/crdt/rules.js'
import { peer, send, sync } from './helpers.js'

const TWINS = `alternatives:
  - name: Deduplicate by payload hash
    rejected_because: payloads repeat
  - name: Deduplicate by payload hash
    rejected_because: payloads repeat
`

for (const [edited, other] of [[0, 1], [1, 0]] as const) {
  test(`twin ${edited + 1} edited on one peer, twin ${other + 1} on the other: both edits on their items, no conflict`, () => {
    const a = peer('a', TWINS)
    const b = peer('b', TWINS)
    send(a, b)
    b.setBase(b.render())
    const nth = (text: string, n: number, from: string, to: string) => {
      let at = -1
      for (let k = 0; k <= n; k++) at = text.indexOf(from, at + 1)
      return text.slice(0, at) + to + text.slice(at + from.length)
    }
    const mine = nth(TWINS, edited, 'rejected_because: payloads repeat', 'rejected_because: payloads legitimately repeat')
    const theirs = nth(TWINS, other, 'name: Deduplicate by payload hash', 'name: Deduplicate by id')
    expect(b.ingest(mine).text).toBe(mine)
    expect(a.ingest(theirs).text).toBe(theirs)
    sync(a, b)
    const both = nth(mine, other, 'name: Deduplicate by payload hash', 'name: Deduplicate by id')
    expect(a.render().text).toBe(both)
    expect(b.render().text).toBe(both)
    expect(a.conflicts()).toEqual([])
  })
}

const items = (text: string): Child[] => {
  const root = parseYaml(text).root as Node & { entries: Array<{ value: Node & { items: Child[] } }> }
  return root.entries[0]!.value.items
}
const X = '  - name: Dedup\n    why: repeat\n'
const E = '  - name: Dedup\n    why: repeat, edited\n'

test.each([
  ['the first of two edited', [X, X], [E, X], [0, 1]],
  ['the second of two edited', [X, X], [X, E], [0, 1]],
  ['the first of three edited', [X, X, X], [E, X, X], [0, 1, 2]],
  ['the last of three edited', [X, X, X], [X, X, E], [0, 1, 2]],
  ['the middle of three edited', [X, X, X], [X, E, X], [0, 1, 2]],
])('twins, parsed apart (nothing shared), pair in place: %s', (_, base, next, want) => {
  const pairs = matchItems(items('l:\n' + base.join('')), items('l:\n' + next.join('')), defaultRules, ['l'])
  expect(pairs).toEqual(want)
})

test('the last line is the same line with or without its newline, unless that newline is all that changed', () => {
  expect(changedLines('a: 1\nb: 2', 'a: 3\nb: 2\n# note\n')).toBe(2)
  expect(changedLines('a: 1\nb: 2\n', 'a: 3\nb: 2')).toBe(2)
  expect(changedLines('a: 1\nb: 2\n', 'a: 3\nb: 2\n# note')).toBe(2)
  expect(changedLines('a: 1\nb: 2\n', 'a: 1\nb: 2')).toBe(1)
})
