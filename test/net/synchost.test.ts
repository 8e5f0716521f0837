import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll } from 'vitest'
import { FileDocStore } from '../../src/fs/sidecar.js'
import { MemoryDocStore } from '../../src/fs/memoryStore.js'
import { newPeerId, newSpaceId } from '../../src/ids.js'
import { RelayMetrics } from '../../src/net/relay/metrics.js'
import { RelaySpace } from '../../src/net/relay/space.js'
import type { DocStore } from '../../src/net/relay/storage.js'
import type { SyncHost } from '../../src/net/SyncHost.js'
import { MemoryHost } from './helpers.js'
import { syncHostContract } from './synchost.contract.js'

const metrics = new RelayMetrics(() => ({ connections: 0, sessions: 0, spaces: 0, bytesIn: 0, bytesOut: 0 }))
metrics.stop()
const self = { id: newPeerId(), name: 'relay', kind: 'relay' as const }
const relaySpace = (store: DocStore) =>
  RelaySpace.load({ spaceId: newSpaceId(), self, store, maxDocs: 100, metrics, onFailure: () => {} })

syncHostContract('MemoryHost (test double)', { make: async () => new MemoryHost(newSpaceId()) })

const memStores = new WeakMap<SyncHost, MemoryDocStore>()
syncHostContract('RelaySpace over MemoryDocStore', {
  make: async () => {
    const store = new MemoryDocStore()
    const host = await relaySpace(store)
    memStores.set(host, store)
    return host
  },
  reopen: async (host) => relaySpace(memStores.get(host)!.reopen()),
})

const dirs: string[] = []
afterAll(async () => Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true }))))
const fileDirs = new WeakMap<SyncHost, string>()
syncHostContract('RelaySpace over FileDocStore', {
  make: async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ctxsync-relayspace-'))
    dirs.push(dir)
    const host = await relaySpace(new FileDocStore({ dir, compactAfterRecords: 8 }))
    fileDirs.set(host, dir)
    return host
  },
  // No close first: what applyRemote resolved for must already be on disk (as after kill -9).
  reopen: async (host) => relaySpace(new FileDocStore({ dir: fileDirs.get(host)! })),
})
