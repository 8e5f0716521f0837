/**
 * The SyncHost contract (src/net/SyncHost.ts) as a shared suite: every implementation that sessions sync
 * against runs it — the test MemoryHost, the relay's RelaySpace over each store, and the production
 * SpaceHost (test/space/host.test.ts). `reopen`, when given, loads the host again from what it persisted
 * (durability: applyRemote resolved means it survives).
 *
 * `edits` makes the updates the suite sends. By default they are plain Yjs (a map `root`, a list `list`):
 * hosts that relay opaque documents take any well-formed update. A host that models files refuses updates
 * outside its schema (`crdt/guard.ts`, ending the session with 1008), so it passes edits made the way its
 * peers make them (`test/space/host.test.ts`: through a FileModel).
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { DocName, PeerId } from '../../src/ids.js'
import type { SyncHost } from '../../src/net/SyncHost.js'

export interface HostFactory {
  make(): Promise<SyncHost>
  reopen?(host: SyncHost): Promise<SyncHost>
  edits?: ContractEdits
}

/** A peer's copy of one document, changed through whatever API its kind of host expects. */
export interface EditSource {
  /** Sets `key` of the document's top map; returns the update. */
  set(key: string, value: string | number): Uint8Array
  /** Appends to the document's list; returns the update. */
  push(item: string): Uint8Array
  stateVector(): Uint8Array
}

export interface ContractEdits {
  source(doc: DocName): EditSource
  /** What a document holds once `update` (a host's whole diff) is applied to an empty copy. */
  read(doc: DocName, update: Uint8Array): { map: Record<string, unknown>; list: unknown[] }
}

/** Plain Yjs: a map `root` and an array `list` of one Y.Doc. */
export const yjsEdits: ContractEdits = {
  source: () => {
    const d = new Y.Doc()
    return {
      set: (key, value) => updateOf((x) => x.getMap('root').set(key, value), d),
      push: (item) => updateOf((x) => x.getArray('list').push([item]), d),
      stateVector: () => Y.encodeStateVector(d),
    }
  },
  read: (_doc, update) => {
    const d = new Y.Doc()
    Y.applyUpdate(d, update)
    return { map: d.getMap('root').toJSON(), list: d.getArray('list').toArray() }
  },
}

const PEER = 'p-contract0' as PeerId
const doc = (name: string) => name as DocName

function updateOf(f: (d: Y.Doc) => void, base?: Y.Doc): Uint8Array {
  const d = base ?? new Y.Doc()
  const sv = Y.encodeStateVector(d)
  f(d)
  return Y.encodeStateAsUpdate(d, sv)
}

export function syncHostContract(name: string, factory: HostFactory): void {
  const edits = factory.edits ?? yjsEdits
  describe(`SyncHost contract: ${name}`, () => {
    it('holds what it applied: names, state vectors, diffs (null when the other side has it all)', async () => {
      const host = await factory.make()
      const src = edits.source(doc('a/b.yaml'))
      const u = src.set('k', 'v')
      await host.applyRemote(doc('a/b.yaml'), u, PEER)
      expect([...host.docNames()]).toEqual(['a/b.yaml'])
      expect(Y.decodeStateVector(host.stateVector(doc('a/b.yaml')))).toEqual(Y.decodeStateVector(src.stateVector()))
      expect(Y.decodeStateVector(host.stateVector(doc('missing.yaml'))).size).toBe(0)
      expect(edits.read(doc('a/b.yaml'), host.encodeDiff(doc('a/b.yaml'), Y.encodeStateVector(new Y.Doc()))!).map.k).toBe('v')
      expect(host.encodeDiff(doc('a/b.yaml'), src.stateVector())).toBeNull()
      expect(host.encodeDiff(doc('missing.yaml'), Uint8Array.of(0))).toBeNull()
    })

    it('refuses document names that are not plain relative paths', async () => {
      const host = await factory.make()
      for (const bad of ['../x.yaml', 'a/../../x.yaml', '/etc/passwd', 'a\\b.yaml', 'nul\0.yaml', '']) {
        expect(host.acceptDoc(bad), JSON.stringify(bad)).toBe(false)
      }
      expect(host.acceptDoc('.rhema/todos.yaml')).toBe(true)
    })

    it('rejects a malformed update and applies nothing', async () => {
      const host = await factory.make()
      await expect(host.applyRemote(doc('x.yaml'), Uint8Array.of(5, 1, 2, 3, 200), PEER)).rejects.toThrow()
      expect([...host.docNames()].filter((n) => Y.decodeStateVector(host.stateVector(n)).size > 0)).toEqual([])
    })

    it('announces applied updates once, with their origin; the same update twice lands once', async () => {
      const host = await factory.make()
      const seen: Array<[string, PeerId | null]> = []
      const off = host.onUpdate((d, _u, origin) => seen.push([d, origin]))
      const src = edits.source(doc('l.yaml'))
      const u = src.push('once')
      await host.applyRemote(doc('l.yaml'), u, PEER)
      await host.applyRemote(doc('l.yaml'), u, PEER)
      expect(seen).toEqual([['l.yaml', PEER]])
      expect(edits.read(doc('l.yaml'), host.encodeDiff(doc('l.yaml'), Uint8Array.of(0))!).list).toEqual(['once'])
      off()
      await host.applyRemote(doc('l.yaml'), src.set('x', 1), PEER)
      expect(seen.length).toBe(1)
    })

    if (factory.reopen) {
      it('keeps what applyRemote resolved for (a reopened host serves it)', async () => {
        const host = await factory.make()
        const src = edits.source(doc('d.yaml'))
        const want: Record<string, number> = {}
        for (let i = 0; i < 20; i++) {
          want[`k${i}`] = i
          await host.applyRemote(doc('d.yaml'), src.set(`k${i}`, i), PEER)
        }
        const again = await factory.reopen!(host)
        expect(edits.read(doc('d.yaml'), again.encodeDiff(doc('d.yaml'), Uint8Array.of(0))!).map).toEqual(want)
      })
    }
  })
}
