/**
 * The SyncHost contract (src/net/SyncHost.ts) as a shared suite: every implementation that sessions sync
 * against runs it — the test MemoryHost, and the relay's RelaySpace over each store. `reopen`, when given,
 * loads the host again from what it persisted (durability: applyRemote resolved means it survives).
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { DocName, PeerId } from '../../src/ids.js'
import type { SyncHost } from '../../src/net/SyncHost.js'

export interface HostFactory {
  make(): Promise<SyncHost>
  reopen?(host: SyncHost): Promise<SyncHost>
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
  describe(`SyncHost contract: ${name}`, () => {
    it('holds what it applied: names, state vectors, diffs (null when the other side has it all)', async () => {
      const host = await factory.make()
      const src = new Y.Doc()
      const u = updateOf((d) => d.getMap('root').set('k', 'v'), src)
      await host.applyRemote(doc('a/b.yaml'), u, PEER)
      expect([...host.docNames()]).toEqual(['a/b.yaml'])
      expect(Y.decodeStateVector(host.stateVector(doc('a/b.yaml')))).toEqual(Y.decodeStateVector(Y.encodeStateVector(src)))
      expect(Y.decodeStateVector(host.stateVector(doc('missing.yaml'))).size).toBe(0)
      const fresh = new Y.Doc()
      Y.applyUpdate(fresh, host.encodeDiff(doc('a/b.yaml'), Y.encodeStateVector(fresh))!)
      expect(fresh.getMap('root').get('k')).toBe('v')
      expect(host.encodeDiff(doc('a/b.yaml'), Y.encodeStateVector(src))).toBeNull()
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
      const u = updateOf((d) => d.getArray('list').push(['once']))
      await host.applyRemote(doc('l.yaml'), u, PEER)
      await host.applyRemote(doc('l.yaml'), u, PEER)
      expect(seen).toEqual([['l.yaml', PEER]])
      const check = new Y.Doc()
      Y.applyUpdate(check, host.encodeDiff(doc('l.yaml'), Uint8Array.of(0))!)
      expect(check.getArray('list').toArray()).toEqual(['once'])
      off()
      await host.applyRemote(doc('l.yaml'), updateOf((d) => d.getMap('m').set('x', 1)), PEER)
      expect(seen.length).toBe(1)
    })

    if (factory.reopen) {
      it('keeps what applyRemote resolved for (a reopened host serves it)', async () => {
        const host = await factory.make()
        const src = new Y.Doc()
        for (let i = 0; i < 20; i++) await host.applyRemote(doc('d.yaml'), updateOf((d) => d.getMap('root').set(`k${i}`, i), src), PEER)
        const again = await factory.reopen!(host)
        const check = new Y.Doc()
        Y.applyUpdate(check, again.encodeDiff(doc('d.yaml'), Uint8Array.of(0))!)
        expect(check.getMap('root').toJSON()).toEqual(src.getMap('root').toJSON())
      })
    }
  })
}
