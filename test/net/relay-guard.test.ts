/**
 * The relay with the guard `ctxsync serve` injects (crdt/guard.ts through `RelaySpaceOptions.guard`): a
 * hostile update is refused with 1008 and neither applied, relayed nor stored; a document whose stored
 * state is damaged (stored before the guard) is held — not served, nothing added to it — while the space's
 * other documents load and sync.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
// @ts-expect-error: a plain .mjs module shared with the benchmark (no types)
import { findings } from '../../bench/hostile-model.mjs'
import { checkState, checkUpdate } from '../../src/crdt/guard.js'
import { FileModel } from '../../src/crdt/model.js'
import { MemoryDocStore } from '../../src/fs/memoryStore.js'
import { asDocName, newPeerId, newSpaceId } from '../../src/ids.js'
import { RelayMetrics } from '../../src/net/relay/metrics.js'
import { RelaySpace, type DocGuard } from '../../src/net/relay/space.js'
import { ProtocolError } from '../../src/net/wire.js'

const metrics = new RelayMetrics(() => ({ connections: 0, sessions: 0, spaces: 0, bytesIn: 0, bytesOut: 0 }))
metrics.stop()
const self = { id: newPeerId(), name: 'relay', kind: 'relay' as const }
const guard: DocGuard = {
  checkUpdate: (doc, update) => checkUpdate(doc, update)?.reason ?? null,
  checkState: (doc) => checkState(doc)?.reason ?? null,
}
const load = (store: MemoryDocStore) => RelaySpace.load({ spaceId: newSpaceId(), self, store, maxDocs: 100, metrics, onFailure: () => {}, guard })

const TODOS = asDocName('.rhema/todos.yaml')
const NOTES = asDocName('.rhema/notes.yaml')
const TEXT = 'todos:\n  - id: t1\n    title: "First"\n'

describe('relay with the model guard', () => {
  it('refuses a hostile update with 1008: not applied, not stored, not relayed', async () => {
    const store = new MemoryDocStore()
    const relay = await load(store)
    const enrollment = FileModel.enrollment(TODOS, TEXT)
    await relay.applyRemote(TODOS, enrollment, newPeerId())
    const relayed: Uint8Array[] = []
    relay.onUpdate((_d, u) => relayed.push(u))
    const sv = relay.stateVector(TODOS)
    const victim = new Y.Doc()
    Y.applyUpdate(victim, enrollment)
    for (const bad of Object.values(findings(victim)) as Uint8Array[]) {
      const err = await relay.applyRemote(TODOS, bad, newPeerId()).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(ProtocolError)
      expect((err as ProtocolError).closeCode).toBe(1008)
    }
    expect(relay.stateVector(TODOS)).toEqual(sv)
    expect(relayed).toEqual([])
    expect((await store.load(TODOS))!.updates).toHaveLength(1)
    expect(metrics.updatesRefused).toBe(3)
    await relay.close()
  })

  it('holds a document whose stored state is damaged; the other documents load and take updates', async () => {
    const store = new MemoryDocStore()
    const enrollment = FileModel.enrollment(TODOS, TEXT)
    const victim = new Y.Doc()
    Y.applyUpdate(victim, enrollment)
    // What a relay without the guard stored.
    await store.append(TODOS, enrollment)
    await store.append(TODOS, findings(victim).mutualParents)
    await store.append(NOTES, FileModel.enrollment(NOTES, 'a: 1\n'))
    const relay = await load(store)
    expect([...relay.docNames()]).toEqual([NOTES])
    expect(relay.encodeDiff(TODOS, new Uint8Array([0]))).toBeNull()
    // Updates for the held document are dropped, not refused (refusing would end the peer's session).
    const edit = new FileModel({ name: TODOS, author: { id: 'p', name: 'p', kind: 'human' } })
    edit.load([enrollment])
    edit.ingest(TEXT.replace('First', 'First, edited'))
    await relay.applyRemote(TODOS, Y.encodeStateAsUpdate(edit.doc, Y.encodeStateVector(victim)), newPeerId())
    expect((await store.load(TODOS))!.updates).toHaveLength(2)
    // The other document syncs on.
    const notes = new FileModel({ name: NOTES, author: { id: 'p', name: 'p', kind: 'human' } })
    notes.load([FileModel.enrollment(NOTES, 'a: 1\n')])
    const sv = Y.encodeStateVector(notes.doc)
    notes.ingest('a: 2\n')
    await relay.applyRemote(NOTES, Y.encodeStateAsUpdate(notes.doc, sv), newPeerId())
    expect(relay.stateVector(NOTES)).toEqual(Y.encodeStateVector(notes.doc))
    await relay.close()
  })
})
