/**
 * A relay passes on nothing of a document while a member's update waits for an earlier one (`net/whole.ts`):
 * Yjs applied its deletion of the old title, so relaying what it applied would show the other members an empty
 * title until the missing update took the long way round. Once it comes, both go out merged.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { MemoryDocStore } from '../../src/fs/memoryStore.js'
import { asDocName, newPeerId, newSpaceId } from '../../src/ids.js'
import { RelayMetrics } from '../../src/net/relay/metrics.js'
import { RelaySpace } from '../../src/net/relay/space.js'

const metrics = new RelayMetrics(() => ({ connections: 0, sessions: 0, spaces: 0, bytesIn: 0, bytesOut: 0 }))
metrics.stop()
const self = { id: newPeerId(), name: 'relay', kind: 'relay' as const }
const DOC = asDocName('.rhema/todos.yaml')

describe('relay and an update that arrives before the one it depends on', () => {
  it('relays nothing until the document is whole, then the merge', async () => {
    const store = new MemoryDocStore()
    const relay = await RelaySpace.load({ spaceId: newSpaceId(), self, store, maxDocs: 10, metrics, onFailure: () => {} })
    const w = new Y.Doc()
    const us: Uint8Array[] = []
    w.on('update', (u: Uint8Array) => us.push(u))
    w.getMap('m').set('title', 'rev 1')
    w.getMap('m').set('status', 'todo')
    w.getMap('m').set('title', 'rev 3')
    const [u1, u2, u3] = us as [Uint8Array, Uint8Array, Uint8Array]
    const writer = newPeerId()
    await relay.applyRemote(DOC, u1, writer)
    const member = new Y.Doc()
    relay.onUpdate((_d, u) => Y.applyUpdate(member, u))
    Y.applyUpdate(member, u1)
    await relay.applyRemote(DOC, u3, writer)
    expect(member.getMap('m').toJSON()).toEqual({ title: 'rev 1' })
    await relay.applyRemote(DOC, u2, writer)
    expect(member.getMap('m').toJSON()).toEqual({ title: 'rev 3', status: 'todo' })
    // Stored as it came: a restarted relay holds all of it.
    const again = await RelaySpace.load({ spaceId: newSpaceId(), self, store, maxDocs: 10, metrics, onFailure: () => {} })
    const d = new Y.Doc()
    Y.applyUpdate(d, again.encodeDiff(DOC, new Uint8Array([0]))!)
    expect(d.getMap('m').toJSON()).toEqual({ title: 'rev 3', status: 'todo' })
    await relay.close()
    await again.close()
  })
})
