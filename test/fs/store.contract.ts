/**
 * Shared DocStore contract suite: every implementation (FileDocStore, MemoryDocStore) must pass it.
 * `reopen` returns a store over the same state (a new instance for persistent stores), so that durability
 * across restarts is part of the contract where it applies.
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { asDocName, type DocName } from '../../src/ids.js'
import type { DocStore } from '../../src/fs/StorageAdapterInterface.js'

export interface StoreHarness {
  store: DocStore
  reopen(): Promise<DocStore>
  cleanup(): Promise<void>
}
export type StoreFactory = (opts: { compactAfterRecords?: number; compactAfterBytes?: number }) => Promise<StoreHarness>

const TODOS = asDocName('.rhema/todos.yaml')
const KNOW = asDocName('sub/.rhema/knowledge.yml')

/** Builds a doc by small edits and returns it with the update of each edit. */
function edits(n: number, seedText = 'item'): { doc: Y.Doc; updates: Uint8Array[] } {
  const doc = new Y.Doc()
  const updates: Uint8Array[] = []
  doc.on('update', (u: Uint8Array) => updates.push(u))
  const arr = doc.getArray<Y.Map<unknown>>('todos')
  for (let i = 0; i < n; i++) {
    const m = new Y.Map<unknown>()
    m.set('id', `${seedText}-${i}`)
    m.set('title', `Do thing ${i}`)
    arr.push([m])
    if (i % 3 === 2) arr.get(i - 1).set('status', 'done')
  }
  return { doc, updates }
}

const hex = (us: Uint8Array[]): string[] => us.map((u) => Buffer.from(u).toString('hex'))

function rebuild(updates: Uint8Array[]): unknown {
  const d = new Y.Doc()
  for (const u of updates) Y.applyUpdate(d, u)
  return d.getArray('todos').toJSON()
}

export function runStoreContract(name: string, factory: StoreFactory): void {
  describe(`DocStore contract: ${name}`, () => {
    let h: StoreHarness | null = null
    const open = async (opts: Parameters<StoreFactory>[0] = {}): Promise<StoreHarness> => (h = await factory(opts))
    afterEach(async () => {
      await h?.cleanup()
      h = null
    })

    it('is empty at first', async () => {
      const { store } = await open()
      expect(await store.list()).toEqual([])
      expect(await store.load(TODOS)).toBeNull()
      expect(await store.size(TODOS)).toBe(0)
      expect(store.shouldCompact(TODOS)).toBe(false)
    })

    it('round-trips updates in order and the latest meta, across a reopen', async () => {
      const { store, reopen } = await open()
      const { doc, updates } = edits(12)
      for (const u of updates) await store.append(TODOS, u)
      await store.writeMeta(TODOS, { baseHash: 'a'.repeat(64) })
      await store.writeMeta(TODOS, { baseHash: 'b'.repeat(64), baseText: 'todos: []\n', extra: { n: 1 } })
      const loaded = await store.load(TODOS)
      expect(hex(loaded!.updates)).toEqual(hex(updates))
      expect(loaded!.meta).toEqual({ baseHash: 'b'.repeat(64), baseText: 'todos: []\n', extra: { n: 1 } })
      expect(loaded!.warnings).toEqual([])
      await store.close()
      const again = await reopen()
      const reloaded = await again.load(TODOS)
      expect(rebuild(reloaded!.updates)).toEqual(doc.getArray('todos').toJSON())
      expect(reloaded!.meta.baseHash).toBe('b'.repeat(64))
      await again.close()
    })

    it('keeps non-durable meta written before a clean close', async () => {
      const { store, reopen } = await open()
      await store.append(TODOS, edits(1).updates[0]!)
      await store.writeMeta(TODOS, { ackedSV: 'AAE=' }, { durable: false })
      await store.close()
      const again = await reopen()
      expect((await again.load(TODOS))!.meta).toEqual({ ackedSV: 'AAE=' })
      await again.close()
    })

    it('serialises appends issued without waiting', async () => {
      const { store } = await open()
      const { updates } = edits(30)
      await Promise.all(updates.map((u) => store.append(TODOS, u)))
      const loaded = await store.load(TODOS)
      expect(hex(loaded!.updates)).toEqual(hex(updates))
    })

    it('keeps the order of appends, compactions and meta issued in one go', async () => {
      const { store } = await open()
      const { doc, updates } = edits(4)
      const first = new Y.Doc()
      Y.applyUpdate(first, updates[0]!)
      Y.applyUpdate(first, updates[1]!)
      await Promise.all([
        store.append(TODOS, updates[0]!),
        store.append(TODOS, updates[1]!),
        store.compact(TODOS, Y.encodeStateAsUpdate(first), { step: 'compact' }),
        store.append(TODOS, updates[2]!),
        store.writeMeta(TODOS, { step: 'after' }, { durable: false }),
        ...updates.slice(3).map((u) => store.append(TODOS, u)),
      ])
      const loaded = await store.load(TODOS)
      expect(hex(loaded!.updates.slice(1))).toEqual(hex(updates.slice(2)))
      expect(loaded!.meta).toEqual({ step: 'after' })
      expect(rebuild(loaded!.updates)).toEqual(doc.getArray('todos').toJSON())
    })

    it('compaction keeps the content, replaces the meta and empties the log', async () => {
      const { store, reopen } = await open({ compactAfterRecords: 10 })
      const { doc, updates } = edits(25)
      for (const u of updates.slice(0, 20)) await store.append(TODOS, u)
      await store.writeMeta(TODOS, { baseHash: 'old' })
      expect(store.shouldCompact(TODOS)).toBe(true)
      const partial = new Y.Doc()
      for (const u of updates.slice(0, 20)) Y.applyUpdate(partial, u)
      await store.compact(TODOS, Y.encodeStateAsUpdate(partial), { baseHash: 'new' })
      expect(store.shouldCompact(TODOS)).toBe(false)
      expect((await store.load(TODOS))!.updates).toHaveLength(1)
      for (const u of updates.slice(20)) await store.append(TODOS, u)
      const loaded = await store.load(TODOS)
      expect(loaded!.updates).toHaveLength(1 + updates.length - 20)
      expect(loaded!.meta).toEqual({ baseHash: 'new' })
      expect(rebuild(loaded!.updates)).toEqual(doc.getArray('todos').toJSON())
      await store.close()
      const again = await reopen()
      expect(rebuild((await again.load(TODOS))!.updates)).toEqual(doc.getArray('todos').toJSON())
      await again.close()
    })

    it('compacts a document that had no state and compacts twice in a row', async () => {
      const { store } = await open()
      const { doc } = edits(5)
      await store.compact(KNOW, Y.encodeStateAsUpdate(doc), { baseHash: 'x' })
      await store.compact(KNOW, Y.encodeStateAsUpdate(doc), { baseHash: 'y' })
      const loaded = await store.load(KNOW)
      expect(loaded!.meta).toEqual({ baseHash: 'y' })
      expect(rebuild(loaded!.updates)).toEqual(doc.getArray('todos').toJSON())
    })

    it('says when to compact by record count and by bytes', async () => {
      const byRecords = await open({ compactAfterRecords: 5 })
      const { updates } = edits(5)
      for (const u of updates.slice(0, 4)) await byRecords.store.append(TODOS, u)
      expect(byRecords.store.shouldCompact(TODOS)).toBe(false)
      await byRecords.store.append(TODOS, updates[4]!)
      expect(byRecords.store.shouldCompact(TODOS)).toBe(true)
      await byRecords.cleanup()
      const byBytes = await open({ compactAfterBytes: 4000 })
      await byBytes.store.append(TODOS, new Uint8Array(3000))
      expect(byBytes.store.shouldCompact(TODOS)).toBe(false)
      await byBytes.store.append(TODOS, new Uint8Array(3000))
      expect(byBytes.store.shouldCompact(TODOS)).toBe(true)
    })

    it('lists, sizes and removes documents', async () => {
      const { store } = await open()
      const names: DocName[] = [KNOW, TODOS, asDocName('rhema.yaml'), asDocName('a b/ünï/.rhema/x.yaml')]
      for (const n of names) await store.append(n, edits(2, n).updates[0]!)
      expect(await store.list()).toEqual([...names].sort())
      const before = await store.size(TODOS)
      expect(before).toBeGreaterThan(0)
      await store.append(TODOS, edits(3).updates[2]!)
      expect(await store.size(TODOS)).toBeGreaterThan(before)
      await store.remove(TODOS)
      expect(await store.load(TODOS)).toBeNull()
      expect(await store.size(TODOS)).toBe(0)
      expect(await store.list()).toEqual(names.filter((n) => n !== TODOS).sort())
      await store.append(TODOS, edits(1).updates[0]!)
      expect((await store.load(TODOS))!.updates).toHaveLength(1)
    })

    it('hands out copies: mutating loaded or appended buffers changes nothing stored', async () => {
      const { store } = await open()
      const u = edits(1).updates[0]!
      const mine = u.slice()
      await store.append(TODOS, mine)
      mine.fill(0)
      const first = await store.load(TODOS)
      first!.updates[0]!.fill(0)
      expect(Buffer.from((await store.load(TODOS))!.updates[0]!)).toEqual(Buffer.from(u))
    })
  })
}
