/**
 * Anchors, aliases and merge keys (black-box tester finding 6). An anchored scalar is one register (`ir.ts`
 * OpaqueNode); an anchored mapping or list (`defaults: &base` over its keys, `&tags [a, b]`) is modelled like any
 * other collection, its anchor in the entry's separator (finding 5: as one register, of two peers' edits of
 * different keys in it only the later survived); an alias is a value of its own that means the node last
 * anchored so before it. What must hold:
 * - a file with an alias that no anchor before it defines does not parse: it is held at the alias's line:col
 *   and never reaches a peer (`parse.ts`);
 * - concurrent edits: each save is kept byte for byte where it was made, the peers converge, the merged file
 *   parses, and no alias silently changes into a value nobody wrote — an edit of the anchored value is seen
 *   through every alias (that is what an alias means), edits of different keys or items inside an anchored
 *   collection all survive (a race on one anchored scalar is one register's: later wins, recorded), and a merge that leaves an alias above its anchor or without one is written as
 *   canonical YAML where that alias becomes a copy of its anchored node (anchor after it) or null with a
 *   comment in the file saying so (anchor removed or renamed: `canonical.ts`), never the string `"*x"`.
 */
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, test } from 'vitest'
import { isMap, isPair, isScalar, parse, parseDocument, visit, type Pair, type Scalar, type YAMLMap, type YAMLSeq } from 'yaml'
import { parses, parseYaml, YamlSyntaxError } from '../../src/crdt/parse.js'
import type { FileModel } from '../../src/crdt/model.js'
import { mayHoldAlias } from '../../src/crdt/rendercheck.js'
import { ANCHOR_KINDS, stacked } from '../generators/edits.js'
import { mulberry32 } from '../helpers/random.js'
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
    // Valid YAML, but a value that contains itself: JSON and most readers cannot hold it, and the model's walks
    // overflowed the stack (edit generator seed 404: addAlias inside the anchored mapping).
    ['an alias inside its own anchored mapping', 'd: &d\n  a: 1\n  again: *d\n', '3:10: alias inside its own anchor: *d is inside the node anchored &d (a value that contains itself)'],
    ['a merge key inside its own anchored mapping', 'd: &d\n  a: 1\n  <<: *d\n', '3:7: alias inside its own anchor: *d is inside the node anchored &d (a value that contains itself)'],
    ['an alias inside its own anchored flow list', 'l: &l [1, *l]\n', '1:11: alias inside its own anchor: *l is inside the node anchored &l (a value that contains itself)'],
  ])('%s', (_what, t, at) => expect(heldAt(t)).toBe(at))

  test.each([
    ['an anchored list and its alias', 'a: &x [1, 2]\nb: *x\n'],
    ['an anchored block scalar in a list', 'l:\n  - &s |\n    t\n  - *s\n'],
    ['an anchor inside a flow list', 'c: [&y 1, *y]\n'],
    ['an anchored key', '&k key: 1\nv: *k\n'],
    ['an anchor on a value with no value', 'e: &w\nf: *w\n'],
    ['a merge key', 'base: &b {x: 1}\nc:\n  <<: *b\n  y: 2\n'],
    ['an alias after its anchored node, anchor redefined', 'a: &x 1\nb: *x\nc: &x {k: 2}\nd: *x\n'],
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
const BASE_BLOCK = '# shared\ndefaults: &base\n  owner: a   # who answers\n  area: b\ntodos:\n  - id: T-1\n    <<: *base\n  - id: T-2\n    meta: *base\n'
const BASE_FLOW = 'defaults: &base {owner: a, area: b}\ntodos:\n  - id: T-1\n    <<: *base\n'
const BASE_ITEM = 'list:\n  - &first\n    owner: a\n    area: b\n  - &second {owner: c, area: d}\nuse: [*first, *second]\n'
const BASE_NEXT_LINE = 'defaults:\n  &base\n  owner: a\n  area: b\ntags: \n  &tags\n  - core\n  - web\nlist:\n  -\n    &m\n    x: 1\n    y: 2\nuse: [*base, *tags, *m]\nmore:\n  <<: *base\n'

describe('concurrent edits around anchors and aliases', () => {
  test('the anchored list edited, the alias replaced by a list of its own: both kept', () => {
    const r = race(ALIASED, 'a: &x [1, 2, 3]\nb: *x\nc: 3\n', 'a: &x [1, 2]\nb: [1, 2, 9]\nc: 3\n')
    expect(r.merged).toBe('a: &x [1, 2, 3]\nb: [1, 2, 9]\nc: 3\n')
  })

  test('the anchored list edited, an alias added: the new alias sees the edit (it names the node)', () => {
    const r = race(ALIASED, 'a: &x [1, 2, 3]\nb: *x\nc: 3\n', 'a: &x [1, 2]\nb: *x\nc: *x\n')
    expect(r.merged).toBe('a: &x [1, 2, 3]\nb: *x\nc: *x\n')
  })

  // Black-box tester stop 30, finding 5: an anchored collection was one register, so of two peers' edits inside
  // it the later one survived whole. It is modelled like any other collection, its anchor in the separator.
  test('the anchored list edited on both sides: both items kept, no conflict', () => {
    const r = race(ALIASED, 'a: &x [1, 2, 3]\nb: *x\nc: 3\n', 'a: &x [1, 2, 4]\nb: *x\nc: 3\n')
    expect(r.merged).toMatch(/^a: &x \[1, 2, (3, 4|4, 3)\]\nb: \*x\nc: 3\n$/)
    expect([r.a.conflicts().length, r.b.conflicts().length]).toEqual([0, 0])
  })

  test.each([
    ['block', BASE_BLOCK, 'owner: a', 'owner: ann', 'area: b', 'area: bob'],
    ['flow', BASE_FLOW, 'owner: a', 'owner: ann', 'area: b', 'area: bob'],
    ['a list item', BASE_ITEM, 'owner: a', 'owner: ann', 'area: b', 'area: bob'],
    ['a flow list item', BASE_ITEM, 'owner: c', 'owner: ann', 'area: d', 'area: bob'],
  ])('finding 5: two peers edit different keys of one anchored mapping (%s): both edits survive, no conflict', (_f, base, a0, a1, b0, b1) => {
    const r = race(base, base.replace(a0, a1), base.replace(b0, b1))
    expect(r.merged).toBe(base.replace(a0, a1).replace(b0, b1))
    expect([r.a.conflicts().length, r.b.conflicts().length]).toEqual([0, 0])
  })

  // Issue 13: an anchor alone on the line after its key (or dash) kept the collection one register.
  test.each([
    ['a mapping', BASE_NEXT_LINE, 'owner: a', 'owner: ann', 'area: b', 'area: bob'],
    ['a list after `key: `', BASE_NEXT_LINE, '- core', '- core2', '- web', '- web2'],
    ['a list item\'s mapping', BASE_NEXT_LINE, 'x: 1', 'x: 10', 'y: 2', 'y: 20'],
    ['a mapping, CRLF', BASE_NEXT_LINE.replace(/\n/g, '\r\n'), 'owner: a', 'owner: ann', 'area: b', 'area: bob'],
    // Anchor race seed 2 (keyed, 600): a comment line between the dash and the anchor.
    ['a list item\'s mapping, a comment line above the anchor', BASE_NEXT_LINE.replace('  -\n    &m', '  - # item\n    # note\n\n    &m'), 'x: 1\n', 'x: 1\n    added_ann: ann\n', 'y: 2\n', 'y: 2\n    added_bob: bob\n'],
    ['a mapping, a key added and one removed', BASE_NEXT_LINE, '  area: b\n', '  area: b\n  due: soon\n', '  owner: a\n', ''],
  ])('an anchor on the line after its key, two peers edit different children of %s: both edits survive, no conflict', (_f, base, a0, a1, b0, b1) => {
    const r = race(base, base.replace(a0, a1), base.replace(b0, b1))
    expect(r.merged).toBe(base.replace(a0, a1).replace(b0, b1))
    expect([r.a.conflicts().length, r.b.conflicts().length]).toEqual([0, 0])
  })

  test('an anchor on the line after its key renamed by one peer, a key inside edited by the other: both kept', () => {
    const renamed = BASE_NEXT_LINE.replace(/([&*])base\b/g, '$1base_v2')
    const r = race(BASE_NEXT_LINE, renamed, BASE_NEXT_LINE.replace('area: b', 'area: bob'))
    expect(r.merged).toBe(renamed.replace('area: b', 'area: bob'))
  })

  test('an anchor on the line after its key, an entry moved above it while a peer makes that entry an alias: a copy, the anchor kept', () => {
    const base = 'k:\n  &a\n  x: 1\nb: *a\nc: 3\n'
    const r = race(base, 'c: 3\nk:\n  &a\n  x: 1\nb: *a\n', base.replace('c: 3', 'c: *a'))
    expect(parse(r.merged)).toEqual({ c: { x: 1 }, k: { x: 1 }, b: { x: 1 } })
    expect(r.merged).toMatch(/^b: \*a$/m)
  })

  // Anchor races seed 3 (with the anchorOwnLine kind): the merge put an alias inside the node a peer anchored with
  // its name at once — a value that contains itself, so the synced state did not render (DamagedStateError).
  test.each([
    ['the old anchor renamed: null with a comment', 'shared: &shared_x\n  owner: ann\ntodos: &shared\n  - id: T-1\n    status: todo\n', null],
    ['the old anchor kept: a copy of the node it meant', 'shared: &shared\n  owner: ann\ntodos:\n  &shared\n  - id: T-1\n    status: todo\n', { owner: 'ann' }],
  ])('an alias added inside a list a peer anchors with its name at once (%s)', (_what, eb, also) => {
    const base = 'shared: &shared\n  owner: ann\ntodos:\n  - id: T-1\n    status: todo\n'
    const r = race(base, base.replace('status: todo\n', 'status: todo\n    also: *shared\n'), eb)
    expect((parse(r.merged) as { todos: Array<{ also: unknown }> }).todos[0]!.also).toEqual(also)
    if (also === null) expect(r.merged).toMatch(/also: null # unresolved alias \*shared/)
  })

  test('finding 5: one peer renames the anchor (and its uses), the other edits a key inside it: both kept', () => {
    const renamed = BASE_BLOCK.replace(/([&*])base\b/g, '$1base_v2')
    const r = race(BASE_BLOCK, renamed, BASE_BLOCK.replace('area: b', 'area: bob'))
    expect(r.merged).toBe(renamed.replace('area: b', 'area: bob'))
  })

  test('finding 5: one peer anchors a mapping, the other edits a key inside it: both kept', () => {
    const base = 'defaults:\n  owner: a\n  area: b\n'
    const r = race(base, 'defaults: &base\n  owner: a\n  area: b\nx: *base\n', base.replace('area: b', 'area: bob'))
    expect(r.merged).toBe('defaults: &base\n  owner: a\n  area: bob\nx: *base\n')
  })

  test('finding 5: a flow anchored list item made block while a peer renames its anchor: the anchor still names the mapping', () => {
    const base = 'l:\n  - &m {a: 1, b: 2}\nu: *m\n'
    const r = race(base, 'l:\n  - &m\n    a: 1\n    b: 2\nu: *m\n', 'l:\n  - &n {a: 1, b: 2}\nu: *n\n')
    // Both wrote the item's separator: when ann's (`- &m`) wins, bob's `*n` has no anchor (null, said in the file).
    const unresolved = /^u: null # unresolved alias \*n/m.test(r.merged)
    expect(parse(r.merged)).toEqual({ l: [{ a: 1, b: 2 }], u: unresolved ? null : { a: 1, b: 2 } })
    if (!unresolved) expect(r.merged).toMatch(/^ {2}- &n\n {4}a: 1\n/m)
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

  // Found by the race generator below (seeds 2, 3): items written in block style under a list a peer emptied to
  // `{}` are shown as flow text, which was made from their values alone (aliases became the string "*shared").
  test('a list emptied to {} (and the anchor renamed) while a peer adds to an item with aliases: aliases stay aliases', () => {
    const base = 'shared: &shared\n  owner: ann\ntodos:\n  - id: T-1\n    meta: *shared\n  - id: T-2\n    <<: *shared\n    status: done\n'
    const r = race(base, 'shared: &shared_v2\n  owner: ann\ntodos: {}\n', base.replace('status: done', 'status: done\n    like_shared: *shared'))
    expect(r.merged).not.toMatch(/"\*shared"/)
    expect(r.merged).toMatch(/^    <<: \{\} # unresolved alias \*shared: /m)
  })

  test('merge keys written out (anchor gone) while a peer adds one: `<<: {}` with a comment, valid for YAML 1.1 readers too', () => {
    const r = race(MERGED, 'base:\n  x: 1\n  y: 2\nc:\n  x: 1\n  y: 2\n  z: 3\n', MERGED + 'd:\n  <<: *b\n')
    expect(r.merged).toMatch(/^ {2}<<: \{\} # unresolved alias \*b/m)
    expect(parse(r.merged)).toEqual({ base: { x: 1, y: 2 }, c: { x: 1, y: 2, z: 3 }, d: { '<<': {} } })
  })
})

// KNOWN OPEN: an anchor name defined again by one peer above the alias another peer adds changes what that alias
// means (legal YAML either way: only the two saves' history tells), with no record. Turns red once fixed.
test.fails('KNOWN OPEN: an anchor redefined above a peer\'s new alias: the alias keeps its meaning or a record says so', () => {
  const r = race('a: &x 1\nb: *x\n', 'a: &x 1\nb: *x\nc: &x 3\n', 'a: &x 1\nb: *x\nd: *x\n')
  expect(r.merged).toBe('a: &x 1\nb: *x\nc: &x 3\nd: *x\n')
  expect((parse(r.merged) as { d: number }).d === 1 || r.a.conflicts().length > 0).toBe(true)
})

const FILES = [
  ALIASED,
  MERGED,
  fs.readFileSync(path.resolve(__dirname, '../../fixtures/syntax/anchors-tags.yaml'), 'utf8'),
  '# shared settings\nshared: &shared\n  owner: ann\n  labels: [a, b]\ntodos:\n  - id: T-1\n    status: todo\n    meta: *shared\n  - id: T-2\n    <<: *shared\n    status: done\n',
]
const KINDS = [...ANCHOR_KINDS, ...ANCHOR_KINDS, 'editValue', 'deleteField', 'addField', 'moveField', 'swapKeys', 'rename', 'deleteItem', 'newItem', 'toEmpty', 'comment', 'toMapping', 'moveItemToEnd']
const CASES = Number(process.env.CTXSYNC_ANCHOR_CASES) || 300
const SEED = Number(process.env.CTXSYNC_ANCHOR_SEED) || (process.env.CI ? 1 : Date.now() % 1_000_000)

/** Strings of the form `*name` anywhere in a value: an alias turned into text. */
function aliasStrings(v: unknown, out: string[] = [], seen = new Set<unknown>()): string[] {
  if (typeof v === 'string' && /^\*[\w-]+$/.test(v)) out.push(v)
  else if (v && typeof v === 'object' && !seen.has(v)) {
    seen.add(v) // an alias inside its own anchored node makes a cycle
    for (const x of Array.isArray(v) ? v : Object.values(v)) aliasStrings(x, out, seen)
  }
  return out
}

const data = (t: string): unknown => parse(t, { customTags: ['binary', 'set', 'omap', 'pairs', 'timestamp'] as never, logLevel: 'error' })

function validEdit(text: string, r: () => number): string | null {
  for (let k = 0; k < 5; k++) {
    const e = stacked(text, r, KINDS)
    if (e && parses(e.text)) return e.text
  }
  return null
}

// Two peers edit one file with anchors concurrently (the edit generator's kinds, anchors, aliases and merge keys
// twice as likely): each save kept where made, the peers converge on text that parses, and no alias became text.
test(`${CASES} concurrent edits around anchors and aliases converge on a file that parses (seed ${SEED})`, () => {
  const r = mulberry32(SEED)
  const failures: string[] = []
  let races = 0
  let commented = 0
  for (let n = 0; n < CASES; n++) {
    let base: string | null = FILES[n % FILES.length]!
    base = validEdit(base, r) ?? base // a first edit, so anchors move about between cases
    const [ea, eb] = [validEdit(base, r), validEdit(base, r)]
    if (!ea || !eb) continue
    races++
    const a = peer('ann', base)
    const b = peer('bob', base)
    const fail = (why: string) => failures.push(`case ${n}: ${why}: ${JSON.stringify({ base, ea, eb })}`)
    try {
      if (a.ingest(ea).text !== ea) fail('ann\'s save not kept')
      else if (b.ingest(eb).text !== eb) fail('bob\'s save not kept')
      else {
        sync(a, b)
        const [ta, tb] = [text(a), text(b)]
        if (ta !== tb) fail('peers differ')
        else if (ta !== null && !parses(ta)) fail('the merge does not parse')
        else if (ta !== null) {
          const made = new Set([...aliasStrings(data(ea)), ...aliasStrings(data(eb))])
          const strs = aliasStrings(data(ta)).filter((s) => !made.has(s))
          if (strs.length) fail(`aliases written as text: ${strs.join(', ')}`)
          if (/# unresolved alias/.test(ta)) commented++
        }
      }
    } catch (e) {
      fail(`threw ${(e as Error).message}`)
    }
    a.destroy()
    b.destroy()
  }
  console.log(`anchor races (CTXSYNC_ANCHOR_SEED=${SEED}): ${races} races, ${commented} with an alias whose anchor went (null + comment), ${failures.length} failed`)
  expect(failures.slice(0, 5)).toEqual([])
}, 120_000)

// The rendering's entry-wise parse check defers to a whole check for texts that may hold an alias: every alias
// form must say yes; prose with `*emphasis*` (common in context files) should not.
test('what the rendering check takes for an alias', () => {
  for (const t of ['b: *x\n', '  - *x\n', 'a: [1, *x]\n', 'a: {k: *x}\n', '  <<: *base\r\n', 'b: *x # why\n', 'k: *x', '? *x\n: 1\n', '*x\n'])
    expect(mayHoldAlias(t), t).toBe(true)
  for (const t of ['t: fix *all* bugs\n', '  - *italic* text\n', 'note: |\n  **bold**\n', 'x: a*b\n', 'y: 2 * 3\n'])
    expect(mayHoldAlias(t), t).toBe(false)
})

/** A text edit: `text` in place of [start, end) of the base. */
interface Cut { start: number; end: number; text: string }
const lineStart = (t: string, p: number) => t.lastIndexOf('\n', p - 1) + 1
const lineEnd = (t: string, p: number) => { const nl = t.indexOf('\n', p); return nl < 0 ? -1 : nl + 1 }
const cutText = (t: string, cuts: Cut[]) => [...cuts].sort((x, y) => y.start - x.start).reduce((s, c) => s.slice(0, c.start) + c.text + s.slice(c.end), t)

/**
 * Two peers' edits of different children of one anchored mapping or list (finding 5): a value set, a key added
 * or removed, as a person types them (the text around kept byte for byte); null when the text has no anchored
 * collection with two one-line scalar children.
 */
function anchoredRace(t: string, r: () => number): { where: string; a: Cut; b: Cut } | null {
  const doc = parseDocument(t)
  if (doc.errors.length) return null
  const found: Array<YAMLMap | YAMLSeq> = []
  visit(doc, { Map: (_, n) => void (n.anchor && found.push(n)), Seq: (_, n) => void (n.anchor && found.push(n)) })
  const pick = <T>(a: T[]) => a[Math.floor(r() * a.length)]!
  const line1 = (n: unknown): n is Scalar => isScalar(n) && !!n.range && !t.slice(n.range[0], n.range[1]).includes('\n') && n.type !== 'BLOCK_LITERAL' && n.type !== 'BLOCK_FOLDED'
  const colls = found.filter((c) => c.items.filter((it) => line1(isPair(it) ? it.value : it)).length >= 2)
  if (!colls.length) return null
  const c = pick(colls)
  const kids = c.items.map((it, i) => [it, i] as const).filter(([it]) => line1(isPair(it) ? it.value : it))
  const i = Math.floor(r() * kids.length)
  const j = (i + 1 + Math.floor(r() * (kids.length - 1))) % kids.length
  const edit = (k: number, who: string): Cut => {
    const [it] = kids[k]!
    const v = (isPair(it) ? it.value : it) as Scalar
    const op = isMap(c) ? pick(['set', 'set', 'add', 'del']) : 'set'
    // Both keys of two deleted leave the mapping empty, which a merge writes `{}` (the textual merge: null).
    if (op === 'del' && isPair(it) && c.items.length > 2) {
      const key = it.key as Scalar
      if (c.flow) {
        const at = c.items.indexOf(it)
        const prev = at > 0 ? (c.items[at - 1] as Pair<Scalar, Scalar>).value?.range : undefined
        const next = (c.items[at + 1] as Pair<Scalar> | undefined)?.key?.range
        if (prev && !/[#\n]/.test(t.slice(prev[1], v.range![1]))) return { start: prev[1], end: v.range![1], text: '' }
        if (!prev && next) return { start: key.range![0], end: next[0], text: '' }
      } else if (/^ *$/.test(t.slice(lineStart(t, key.range![0]), key.range![0])) && lineEnd(t, v.range![1]) > 0) {
        return { start: lineStart(t, key.range![0]), end: lineEnd(t, v.range![1]), text: '' }
      }
    }
    if (op === 'add' && isPair(it)) {
      const key = it.key as Scalar
      if (c.flow) return { start: v.range![1], end: v.range![1], text: `, added_${who}: ${who}` }
      const col = key.range![0] - lineStart(t, key.range![0])
      const e = lineEnd(t, v.range![1])
      if (/^ *$/.test(t.slice(lineStart(t, key.range![0]), key.range![0])) && e > 0) return { start: e, end: e, text: `${' '.repeat(col)}added_${who}: ${who}\n` }
    }
    return { start: v.range![0], end: v.range![1], text: `${who}_${Math.floor(r() * 100)}` }
  }
  return { where: `&${c.anchor}`, a: edit(i, 'ann'), b: edit(j, 'bob') }
}

const KEYED = [BASE_BLOCK, BASE_FLOW, BASE_ITEM, BASE_NEXT_LINE, ...FILES]
const KEYED_CASES = Number(process.env.CTXSYNC_ANCHOR_KEYED_CASES) || 100

// Finding 5, widened: two peers edit different keys or items of one anchored mapping or list (after a random
// first edit, so anchors, aliases and merge keys move about): both edits survive, as the textual merge of the
// two saves says, with no conflict recorded, on both peers alike.
test(`${KEYED_CASES} races on different keys of one anchored collection keep both edits (seed ${SEED})`, () => {
  const r = mulberry32(SEED + 7)
  const failures: string[] = []
  let races = 0
  let exact = 0
  for (let n = 0; n < KEYED_CASES; n++) {
    let base = KEYED[n % KEYED.length]!
    if (r() < 0.7) base = validEdit(base, r) ?? base
    const race = anchoredRace(base, r)
    if (!race) continue
    const [ea, eb, both] = [cutText(base, [race.a]), cutText(base, [race.b]), cutText(base, [race.a, race.b])]
    if (!parses(ea) || !parses(eb) || !parses(both)) continue
    races++
    const a = peer('ann', base)
    const b = peer('bob', base)
    const fail = (why: string) => failures.push(`case ${n} (${race.where}): ${why}: ${JSON.stringify({ base, ea, eb })}`)
    try {
      if (a.ingest(ea).text !== ea || b.ingest(eb).text !== eb) fail('a save not kept')
      else {
        sync(a, b)
        const [ta, tb] = [text(a), text(b)]
        if (ta !== tb) fail('peers differ')
        else if (ta === null || !parses(ta)) fail('the merge does not parse')
        else if (JSON.stringify(mergedData(ta)) !== JSON.stringify(mergedData(both))) fail(`not both edits: ${JSON.stringify(ta)}`)
        else if (a.conflicts().length + b.conflicts().length > 0) fail('a conflict recorded')
        else if (ta === both) exact++
      }
    } catch (e) {
      fail(`threw ${(e as Error).message}`)
    }
    a.destroy()
    b.destroy()
  }
  console.log(`anchored-key races (CTXSYNC_ANCHOR_SEED=${SEED}): ${races} races, ${exact} byte for byte the textual merge, ${failures.length} failed`)
  expect(races).toBeGreaterThan(KEYED_CASES / 2)
  expect(failures.slice(0, 5)).toEqual([])
}, 120_000)

/** A text's data as a library loads it (aliases, merge keys), keys sorted: a merge may order new keys either way. */
function mergedData(t: string): unknown {
  const sort = (v: unknown, seen = new Set<unknown>()): unknown => {
    if (!v || typeof v !== 'object' || seen.has(v)) return v
    seen.add(v)
    if (Array.isArray(v)) return v.map((x) => sort(x, seen))
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort((v as Record<string, unknown>)[k], seen)]))
  }
  const opts = { customTags: ['binary', 'set', 'omap', 'pairs', 'timestamp'] as never, logLevel: 'error' as const }
  try {
    return sort(parse(t, { ...opts, merge: true }))
  } catch {
    return sort(parse(t, opts)) // a merge key the edits left with no mapping to merge (`<<: ~`)
  }
}
