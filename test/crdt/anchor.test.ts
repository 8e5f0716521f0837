/**
 * Anchors, aliases and merge keys (black-box tester finding 6). An anchored value is one register (`ir.ts`
 * OpaqueNode); an alias is a value of its own that means the node last anchored so before it. What must hold:
 * - a file with an alias that no anchor before it defines does not parse: it is held at the alias's line:col
 *   and never reaches a peer (`parse.ts`);
 * - concurrent edits: each save is kept byte for byte where it was made, the peers converge, the merged file
 *   parses, and no alias silently changes into a value nobody wrote — an edit of the anchored value is seen
 *   through every alias (that is what an alias means), a race on the anchored value is a race on one register
 *   (later wins, recorded), and a merge that leaves an alias above its anchor or without one is written as
 *   canonical YAML where that alias becomes a copy of its anchored node (anchor after it) or null with a
 *   comment in the file saying so (anchor removed or renamed: `canonical.ts`), never the string `"*x"`.
 */
import { describe, expect, test } from 'vitest'
import { parse } from 'yaml'
import { parseYaml, YamlSyntaxError } from '../../src/crdt/parse.js'
import type { FileModel } from '../../src/crdt/model.js'
import { peer, sync, text } from './helpers.js'

function heldAt(t: string): string {
  try {
    parseYaml(t)
    return 'parsed'
  } catch (e) {
    if (!(e instanceof YamlSyntaxError)) throw e
    return `${e.line}:${e.col}: ${e.reason}`
  }
}

describe('an alias without an anchor before it does not parse', () => {
  test.each([
    ['an alias to a missing anchor', 'a: 1\nb: *nope\n', '2:4: unresolved alias: *nope (no anchor &nope before it)'],
    ['an alias above its anchor', 'b: *x\na: &x 1\n', '1:4: unresolved alias: *x (no anchor &x before it)'],
    ['in a flow list', 'a: [&y 1, *z]\n', '1:11: unresolved alias: *z (no anchor &z before it)'],
    ['a merge key', 'c:\n  <<: *base\n  y: 2\n', '2:7: unresolved alias: *base (no anchor &base before it)'],
  ])('%s', (_what, t, at) => expect(heldAt(t)).toBe(at))

  test.each([
    ['an anchored list and its alias', 'a: &x [1, 2]\nb: *x\n'],
    ['an anchored block scalar in a list', 'l:\n  - &s |\n    t\n  - *s\n'],
    ['an anchor inside a flow list', 'c: [&y 1, *y]\n'],
    ['an anchored key', '&k key: 1\nv: *k\n'],
    ['an anchor on a value with no value', 'e: &w\nf: *w\n'],
    ['a merge key', 'base: &b {x: 1}\nc:\n  <<: *b\n  y: 2\n'],
  ])('%s parses', (_what, t) => expect(heldAt(t)).toBe('parsed'))
})

interface Race { a: FileModel; b: FileModel; merged: string }

/** ann saves `ea`, bob `eb` from the same `base`; both saves kept as written, then they sync and must agree on text that parses. */
function race(base: string, ea: string, eb: string): Race {
  const a = peer('ann', base)
  const b = peer('bob', base)
  expect(a.ingest(ea).text).toBe(ea)
  expect(b.ingest(eb).text).toBe(eb)
  sync(a, b)
  const merged = text(a)!
  expect(text(b)).toBe(merged)
  expect(heldAt(merged)).toBe('parsed')
  return { a, b, merged }
}

const ALIASED = 'a: &x [1, 2]\nb: *x\nc: 3\n'
const MERGED = 'base: &b\n  x: 1\n  y: 2\nc:\n  <<: *b\n  z: 3\n'

describe('concurrent edits around anchors and aliases', () => {
  test('the anchored list edited, the alias replaced by a list of its own: both kept', () => {
    const r = race(ALIASED, 'a: &x [1, 2, 3]\nb: *x\nc: 3\n', 'a: &x [1, 2]\nb: [1, 2, 9]\nc: 3\n')
    expect(r.merged).toBe('a: &x [1, 2, 3]\nb: [1, 2, 9]\nc: 3\n')
  })

  test('the anchored list edited, an alias added: the new alias sees the edit (it names the node)', () => {
    const r = race(ALIASED, 'a: &x [1, 2, 3]\nb: *x\nc: 3\n', 'a: &x [1, 2]\nb: *x\nc: *x\n')
    expect(r.merged).toBe('a: &x [1, 2, 3]\nb: *x\nc: *x\n')
  })

  test('the anchored list edited on both sides: one register, later wins, recorded', () => {
    const r = race(ALIASED, 'a: &x [1, 2, 3]\nb: *x\nc: 3\n', 'a: &x [1, 2, 4]\nb: *x\nc: 3\n')
    expect([r.a.conflicts().length, r.b.conflicts().length]).toEqual([1, 1])
  })

  test('the anchor dropped (its aliases written out) while a peer adds an alias: null with a comment, not the string "*x"', () => {
    const r = race(ALIASED, 'a: [1, 2]\nb: [1, 2]\nc: 3\n', 'a: &x [1, 2]\nb: *x\nc: 3\nd: *x\n')
    expect(parse(r.merged)).toEqual({ a: [1, 2], b: [1, 2], c: 3, d: null })
    expect(r.merged).toMatch(/^d: null # unresolved alias \*x: its anchor &x was removed or renamed/m)
  })

  test('the anchor renamed while a peer adds an alias to the old name: the renamed alias stays an alias', () => {
    const r = race(ALIASED, 'a: &y [1, 2]\nb: *y\nc: 3\n', 'a: &x [1, 2]\nb: *x\nc: *x\n')
    expect(r.merged).toMatch(/^b: \*y$/m)
    expect(r.merged).toMatch(/^c: null # unresolved alias \*x/m)
    expect(parse(r.merged)).toEqual({ a: [1, 2], b: [1, 2], c: null })
  })

  test('an entry moved above the anchor while a peer makes it an alias: a copy of the anchored value', () => {
    const r = race(ALIASED, 'c: 3\na: &x [1, 2]\nb: *x\n', 'a: &x [1, 2]\nb: *x\nc: *x\n')
    expect(parse(r.merged)).toEqual({ c: [1, 2], a: [1, 2], b: [1, 2] })
    expect(r.merged).toMatch(/^b: \*x$/m)
  })

  test('a merge key: the base edited, an override added: both kept', () => {
    const r = race(MERGED, MERGED.replace('x: 1', 'x: 5'), MERGED.replace('z: 3', 'z: 3\n  x: 7'))
    expect(r.merged).toBe('base: &b\n  x: 5\n  y: 2\nc:\n  <<: *b\n  z: 3\n  x: 7\n')
  })

  test('a merge key: the base edited, the merge key removed: both kept', () => {
    const r = race(MERGED, MERGED.replace('x: 1', 'x: 5'), MERGED.replace('  <<: *b\n', ''))
    expect(r.merged).toBe('base: &b\n  x: 5\n  y: 2\nc:\n  z: 3\n')
  })

  test('merge keys written out (anchor gone) while a peer adds one: `<<: {}` with a comment, valid for YAML 1.1 readers too', () => {
    const r = race(MERGED, 'base:\n  x: 1\n  y: 2\nc:\n  x: 1\n  y: 2\n  z: 3\n', MERGED + 'd:\n  <<: *b\n')
    expect(r.merged).toMatch(/^ {2}<<: \{\} # unresolved alias \*b/m)
    expect(parse(r.merged)).toEqual({ base: { x: 1, y: 2 }, c: { x: 1, y: 2, z: 3 }, d: { '<<': {} } })
  })
})
