import * as Y from 'yjs'
import { describe, expect, test } from 'vitest'
import { FileModel } from '../../src/crdt/model.js'
import { peer, sync, text } from './helpers.js'

const TODOS = `todos:
  - id: t1
    title: First
    status: open
  - id: t2
    title: Second
    status: open
`

type Registers = { _map: Map<string, Y.Item> }
const registers = (m: FileModel) => [...((m.doc.getMap('n') as unknown as Registers)._map.values())].filter((i) => !i.deleted)

describe('decoded registers are compacted (crdt/compact.ts)', () => {
  test('a tombstone loaded from a sidecar no longer keeps the whole sidecar buffer alive', () => {
    const a = peer('a', TODOS)
    a.ingest(TODOS.slice(0, TODOS.indexOf('  - id: t2')))
    const state = Y.encodeStateAsUpdate(a.doc)
    // A sidecar's records are views into the file read whole.
    const file = new Uint8Array(state.length + 100_000)
    file.set(state, 50_000)
    const b = new FileModel({ name: '.rhema/todos.yaml', author: { id: 'p-b', name: 'b', kind: 'human' } })
    b.load([file.subarray(50_000, 50_000 + state.length)])
    const tombs = registers(b).filter((i) => (i.parentSub ?? '').endsWith('d') && (i.content as unknown as { arr: unknown[] }).arr[0])
    expect(tombs).toHaveLength(1)
    const sv = ((tombs[0]!.content as unknown as { arr: Array<[Uint8Array, number]> }).arr[0]!)[0]
    expect(sv).toBeInstanceOf(Uint8Array)
    expect(sv.buffer.byteLength).toBe(sv.length)
    expect(text(b)).toBe(text(a))
  })

  test('values stay equal: same encoded state, same rendering, on every peer', () => {
    const a = peer('a', TODOS)
    const b = peer('b', TODOS)
    a.ingest(TODOS.replace('title: First', 'title: First, edited'))
    b.ingest(TODOS.replace('status: open\n  - id: t2', 'status: done\n  - id: t2'))
    sync(a, b)
    expect(text(a)).toBe(text(b))
    const fresh = new Y.Doc()
    Y.applyUpdate(fresh, Y.encodeStateAsUpdate(b.doc))
    expect(Y.encodeStateAsUpdate(fresh)).toEqual(Y.encodeStateAsUpdate(b.doc))
    for (const item of registers(b)) expect(Array.isArray((item.content as unknown as { arr?: unknown[] }).arr), String(item.parentSub)).toBe(true)
  })
})
