/**
 * The SyncHost contract (test/net/synchost.contract.ts) on the production host: `SpaceHost` over a real
 * `Space` opened in process on a temp directory (made a member by `init`), over a MemoryDocStore that
 * outlives it. `reopen` drops the Space without closing it (kill -9) and opens a new one over the same
 * store and files.
 */
import { afterAll } from 'vitest'
import { parse } from 'yaml'
import * as Y from 'yjs'
import { FileModel } from '../../src/crdt/model.js'
import { newPeerId } from '../../src/ids.js'
import type { SyncHost } from '../../src/net/SyncHost.js'
import { syncHostContract, type ContractEdits } from '../net/synchost.contract.js'
import { Node, removeSpaceDirs } from './harness.js'

const nodes: Node[] = []
const nodeOf = new WeakMap<SyncHost, Node>()
afterAll(async () => {
  for (const n of nodes) await n.close()
  await removeSpaceDirs()
})

/** Edits made as a peer makes them: YAML text taken in by a FileModel (the schema SpaceHost guards). */
const fileEdits: ContractEdits = {
  source: (name) => {
    const model = new FileModel({ name, author: { id: newPeerId(), name: 'contract', kind: 'human' } })
    const map: Record<string, string | number> = {}
    const list: string[] = []
    const take = (): Uint8Array => {
      const lines = Object.entries(map).map(([k, v]) => `${k}: ${JSON.stringify(v)}\n`)
      const text = lines.join('') + (list.length ? `list:\n${list.map((x) => `  - ${JSON.stringify(x)}\n`).join('')}` : '')
      const sv = Y.encodeStateVector(model.doc)
      if (model.isEmpty) model.enroll(text)
      else model.ingest(text)
      return Y.encodeStateAsUpdate(model.doc, sv)
    }
    return {
      set: (k, v) => ((map[k] = v), take()),
      push: (x) => (list.push(x), take()),
      stateVector: () => model.stateVector(),
    }
  },
  read: (name, update) => {
    const model = new FileModel({ name, author: { id: newPeerId(), name: 'reader', kind: 'human' } })
    model.load([update])
    const { list, ...map } = (parse(model.render().text ?? '') ?? {}) as Record<string, unknown>
    return { map, list: (list as unknown[] | undefined) ?? [] }
  },
}

syncHostContract('SpaceHost over a Space on MemoryDocStore', {
  edits: fileEdits,
  make: async () => {
    const node = await Node.make({ track: ['a/*.yaml', '{l,x,d}.yaml', '**/.rhema/**/*.{yaml,yml}'] })
    nodes.push(node)
    await node.start()
    const host = node.host()
    nodeOf.set(host, node)
    return host
  },
  reopen: async (host) => {
    const node = nodeOf.get(host)!
    await node.kill()
    await node.start()
    const again = node.host()
    nodeOf.set(again, node)
    return again
  },
})
