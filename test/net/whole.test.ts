/**
 * `net/whole.ts`: a replica passes on nothing of a document while an update it got waits for an earlier one
 * (Yjs applied its deletions, not its structs), for a while at most. Real Yjs documents; fake timers for the bound.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { isWhole, WholeGate, WHOLE_WAIT_MS } from '../../src/net/whole.js'

/** A replica whose doc feeds the gate as a daemon's log does; what it passes on lands in `out`. */
function replica() {
  const doc = new Y.Doc()
  const out: Array<{ update: Uint8Array; origin: string | null }> = []
  const gate = new WholeGate<string>((update, origin) => out.push({ update, origin }))
  doc.on('update', (u: Uint8Array, origin: unknown) => gate.push(u, (origin as string) ?? null, isWhole(doc), origin !== null))
  return { doc, out, gate }
}

/** Three updates of one writer: a title, a status, the title changed again (the last depends on the second). */
function writes() {
  const w = new Y.Doc()
  const us: Uint8Array[] = []
  w.on('update', (u: Uint8Array) => us.push(u))
  const m = w.getMap('m')
  m.set('title', 'rev 1')
  m.set('status', 'todo')
  m.set('title', 'rev 3')
  return us as [Uint8Array, Uint8Array, Uint8Array]
}

/** What a fresh replica shows once it applied `updates`. */
function shown(updates: Uint8Array[]) {
  const d = new Y.Doc()
  for (const u of updates) Y.applyUpdate(d, u)
  return d.getMap('m').toJSON()
}

afterEach(() => vi.useRealTimers())

describe('WholeGate', () => {
  it('holds what an out-of-order update applied, and passes it on merged with the update that completes it', () => {
    const [u1, u2, u3] = writes()
    const r = replica()
    Y.applyUpdate(r.doc, u1, 'p4')
    expect(r.out).toHaveLength(1)
    Y.applyUpdate(r.doc, u3, 'p4')
    // Yjs applied the deletion of "rev 1" (the next replica would show no title): nothing passed on.
    expect(r.doc.getMap('m').get('title')).toBeUndefined()
    expect(r.out).toHaveLength(1)
    expect(r.gate.holding).toBe(true)
    Y.applyUpdate(r.doc, u2, 'p4')
    expect(r.gate.holding).toBe(false)
    expect(r.out).toHaveLength(2)
    expect(r.out[1]!.origin).toBe('p4')
    // The next replica never sees a state without a title.
    expect(shown([r.out[0]!.update])).toEqual({ title: 'rev 1' })
    expect(shown(r.out.map((o) => o.update))).toEqual({ title: 'rev 3', status: 'todo' })
  })

  it('passes a local change at once, and keeps no origin when peers\' updates were merged', () => {
    const [u1, u2, u3] = writes()
    const r = replica()
    Y.applyUpdate(r.doc, u1, 'p4')
    Y.applyUpdate(r.doc, u3, 'p4')
    r.doc.getMap('other').set('k', 1) // local: origin null
    expect(r.out).toHaveLength(2)
    Y.applyUpdate(r.doc, u2, 'p2')
    expect(r.out).toHaveLength(3)
    expect(r.out[2]!.origin).toBeNull()
  })

  it('holds one spell for a while at most, then passes straight through until whole again', () => {
    vi.useFakeTimers()
    const [u1, u2, u3] = writes()
    const r = replica()
    Y.applyUpdate(r.doc, u1, 'p4')
    Y.applyUpdate(r.doc, u3, 'p4') // its predecessor never comes (lost, or a member's gap)
    vi.advanceTimersByTime(WHOLE_WAIT_MS - 1)
    expect(r.out).toHaveLength(1)
    vi.advanceTimersByTime(1)
    expect(r.out).toHaveLength(2)
    const other = new Y.Doc()
    other.getMap('x').set('a', 1)
    Y.applyUpdate(r.doc, Y.encodeStateAsUpdate(other), 'p5')
    expect(r.out).toHaveLength(3) // the spell is spent: no second wait
    Y.applyUpdate(r.doc, u2, 'p4')
    expect(isWhole(r.doc)).toBe(true)
    // A new spell holds again.
    const [v1, v2, v3] = (() => {
      const w = new Y.Doc()
      const us: Uint8Array[] = []
      w.on('update', (u: Uint8Array) => us.push(u))
      w.getMap('n').set('k', 'a')
      w.getMap('n').set('j', 'b')
      w.getMap('n').set('k', 'c') // deletes 'a' (held here), its own struct waits for 'b'
      return us as [Uint8Array, Uint8Array, Uint8Array]
    })()
    Y.applyUpdate(r.doc, v1, 'p6')
    const before = r.out.length
    Y.applyUpdate(r.doc, v3, 'p6')
    expect(r.gate.holding).toBe(true)
    expect(r.out).toHaveLength(before)
    Y.applyUpdate(r.doc, v2, 'p6')
    expect(r.out).toHaveLength(before + 1)
    r.gate.close()
  })
})
