/**
 * gapped.ts: an update that needs one not yet here is held whole, so no peer ever shows a value deleted
 * by an update whose new value is still pending (the network-faults ring's `title: `). Examples, a hostile
 * flood, and a seeded generator of out-of-order, duplicated, merged deliveries from several writers: at
 * every step a register once set is never seen empty, and the replica ends equal to the writers' state.
 */
import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import { HeldUpdates } from '../../src/crdt/gapped.js'
import { mulberry32 } from '../helpers/random.js'

/** Applies as FileModel.applyRemote does: held when gapped, then whatever became ready. */
function deliver(doc: Y.Doc, held: HeldUpdates, u: Uint8Array): void {
  if (held.holdIfGapped(doc, u, 'peer')) return
  Y.applyUpdate(doc, u)
  for (const h of held.ready(doc)) Y.applyUpdate(doc, h.update)
}

function writes(n: number): { src: Y.Doc; updates: Uint8Array[] } {
  const src = new Y.Doc()
  const updates: Uint8Array[] = []
  src.on('update', (u: Uint8Array) => updates.push(u))
  for (let i = 0; i < n; i++) src.getMap('m').set(i % 2 ? 'status' : 'title', `rev ${i}`)
  return { src, updates }
}

describe('updates held until what they need is here', () => {
  it('a retitle arriving before the change it follows: held whole, the old title stays until both are here', () => {
    const { src, updates } = writes(3) // title rev 0, status rev 1, title rev 2
    const doc = new Y.Doc()
    const held = new HeldUpdates()
    deliver(doc, held, updates[0]!)
    deliver(doc, held, updates[2]!)
    expect(held.size).toBe(1)
    expect(doc.getMap('m').get('title')).toBe('rev 0')
    deliver(doc, held, updates[1]!)
    expect(held.size).toBe(0)
    expect(doc.getMap('m').toJSON()).toEqual(src.getMap('m').toJSON())
  })

  it('a merged update with a hole (a Skip) waits for the hole to fill', () => {
    const { src, updates } = writes(3)
    const doc = new Y.Doc()
    const held = new HeldUpdates()
    deliver(doc, held, Y.mergeUpdates([updates[0]!, updates[2]!]))
    expect(held.size).toBe(1)
    expect(doc.getMap('m').size).toBe(0)
    deliver(doc, held, updates[1]!)
    deliver(doc, held, updates[0]!)
    expect(doc.getMap('m').toJSON()).toEqual(src.getMap('m').toJSON())
  })

  it('a flood of gapped updates stays bounded (the oldest dropped: peers send them again from state vectors)', () => {
    const { updates } = writes(400)
    const doc = new Y.Doc()
    const held = new HeldUpdates()
    for (const u of updates.slice(1)) deliver(doc, held, u)
    expect(held.size).toBeLessThanOrEqual(128)
    expect(doc.getMap('m').size).toBe(0)
  })

  it('seeded deliveries from three writers, out of order, duplicated, merged, with sync diffs: never an empty register, then equal', () => {
    // What travels: each writer's own transactions (what a daemon announces and peers pass on) and sync
    // diffs computed against the replica's state vector at some moment (a session's first exchange).
    for (let seed = 1; seed <= 60; seed++) {
      const rnd = mulberry32(seed)
      const writers = [new Y.Doc(), new Y.Doc(), new Y.Doc()]
      const doc = new Y.Doc()
      const held = new HeldUpdates()
      const queue: Uint8Array[] = []
      for (const w of writers) w.on('update', (u: Uint8Array, origin: unknown) => void (origin !== 'sync' && queue.push(u)))
      const sync = (a: Y.Doc, b: Y.Doc) => Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)), 'sync')
      const seen = new Set<string>()
      const deliverSome = (n: number) => {
        for (let i = 0; i < n && queue.length > 0; i++) {
          const u = queue.splice(Math.floor(rnd() * queue.length), 1)[0]!
          if (rnd() < 0.2) queue.push(u) // duplicated: it comes again later
          deliver(doc, held, u)
          for (const k of ['title', 'status']) {
            if (doc.getMap('m').get(k) === undefined) expect(seen.has(k), `seed ${seed}: ${k} was set, now empty`).toBe(false)
            else seen.add(k)
          }
        }
      }
      for (let step = 0; step < 40; step++) {
        const w = writers[Math.floor(rnd() * 3)]!
        w.getMap('m').set(rnd() < 0.5 ? 'title' : 'status', `w${w.clientID % 100} ${step}`)
        if (rnd() < 0.3) sync(w, writers[Math.floor(rnd() * 3)]!)
        if (rnd() < 0.15) queue.push(Y.encodeStateAsUpdate(w, Y.encodeStateVector(doc)))
        if (rnd() < 0.1 && queue.length > 1) queue.push(Y.mergeUpdates(queue.filter(() => rnd() < 0.5)))
        deliverSome(Math.floor(rnd() * 3))
      }
      deliverSome(Infinity)
      for (const a of writers) for (const b of writers) sync(a, b)
      expect(doc.getMap('m').toJSON(), `seed ${seed}`).toEqual(writers[0]!.getMap('m').toJSON())
      expect(held.size, `seed ${seed}`).toBe(0)
    }
  })
})
