/**
 * A merge driver's conflict moved into the live document (`crdt/merge/place.ts`): found by its path, recorded
 * so that every peer lists the same conflict with each value's author and time, the file unchanged; resolved
 * on another peer or superseded by a later edit there, it is cleared on both. A place that no longer shows
 * the merged value is not adopted.
 */
import { describe, expect, it } from 'vitest'
import { compileRules } from '../../src/crdt/rules.js'
import { merge3 } from '../../src/crdt/merge/merge3.js'
import { adoptConflict, mergeEntries, placeConflict } from '../../src/crdt/merge/place.js'
import { peer, send, sync, text } from './helpers.js'

const NAME = '.rhema/todos.yaml'
const BASE = 'todos:\n  - id: a\n    title: A\n    status: open\n  - id: b\n    status: open\n'
const CARL = { id: 'git:carl@x', name: 'carl', kind: 'human' as const }
const BOB = { id: 'p-bob', name: 'bob', kind: 'human' as const }

/** Live peers ann and bob; a merge of carl's `done` (t=1000) with bob's `blocked` (t=2000) that ann took in. */
function setup() {
  const ann = peer('ann', BASE)
  const bob = peer('bob', BASE)
  const m = merge3(BASE, BASE.replace('status: open', 'status: done'), BASE.replace('status: open', 'status: blocked'), {
    name: NAME, rules: compileRules(NAME), ours: CARL, theirs: BOB, times: [1000, 2000],
  })
  const [entry] = mergeEntries(m.model)
  ann.ingest(m.text!)
  sync(ann, bob)
  m.model.destroy()
  return { ann, bob, entry: entry!, merged: m.text! }
}

describe('merge conflicts adopted into the live document', () => {
  it('both peers list it with the authors and times of the merge; the file is unchanged; resolved on the other peer, it clears on both', () => {
    const { ann, bob, entry, merged } = setup()
    const p = placeConflict(ann, entry)
    expect(p.kind).toBe('here')
    adoptConflict(ann, (p as { node: string }).node, entry)
    send(ann, bob)
    for (const m of [ann, bob]) {
      expect(text(m)).toBe(merged)
      const cs = m.conflicts()
      expect(cs).toHaveLength(1)
      expect(cs[0]!.display).toBe('todos[id=a].status')
      expect(cs[0]!.values.map((v) => [v.raw, v.author.name, v.at])).toEqual([
        ['done', 'carl', new Date(1000_000).toISOString()],
        ['blocked', 'bob', new Date(2000_000).toISOString()],
      ])
      expect(cs[0]!.values[cs[0]!.winner - 1]!.raw).toBe('blocked')
    }
    const id = bob.conflicts()[0]!.id
    expect(ann.conflicts()[0]!.id).toBe(id)
    expect(bob.resolve(id, 1)).toBe(true)
    sync(ann, bob)
    for (const m of [ann, bob]) {
      expect(m.conflicts()).toEqual([])
      expect(text(m)).toContain('status: done')
    }
  })

  it('a later edit of the value on the other peer supersedes it on both', () => {
    const { ann, bob, entry } = setup()
    adoptConflict(ann, (placeConflict(ann, entry) as { node: string }).node, entry)
    sync(ann, bob)
    bob.ingest(text(bob)!.replace('status: blocked', 'status: shipped'))
    sync(ann, bob)
    for (const m of [ann, bob]) {
      expect(m.conflicts()).toEqual([])
      expect(text(m)).toContain('status: shipped')
    }
  })

  it('not adopted where the place moved on: the value changed, one of its values chosen, the entry removed', () => {
    const { ann, entry } = setup()
    ann.ingest(text(ann)!.replace('status: blocked', 'status: shipped'))
    expect(placeConflict(ann, entry)).toEqual({ kind: 'changed', taken: false })
    ann.ingest(text(ann)!.replace('status: shipped', 'status: done'))
    expect(placeConflict(ann, entry)).toEqual({ kind: 'changed', taken: true })
    ann.ingest('todos:\n  - id: b\n    status: open\n')
    expect(placeConflict(ann, entry)).toEqual({ kind: 'gone' })
  })

  it('the value the merge kept stays shown even when another value is dated later (a stash credited to its writer)', () => {
    const { ann, bob, entry, merged } = setup()
    const later = { ...entry, values: entry.values.map((v) => (v.desc === entry.values[entry.winner]!.desc ? v : { ...v, at: 3000 })) }
    adoptConflict(ann, (placeConflict(ann, later) as { node: string }).node, later)
    sync(ann, bob)
    for (const m of [ann, bob]) {
      expect(text(m)).toBe(merged)
      const c = m.conflicts()[0]!
      expect(c.values[c.winner - 1]!.raw).toBe('blocked')
    }
  })
})
