/**
 * Test parts for `net`: an in-memory SyncHost over plain Y.Docs, a seeded RNG, a byte-counting TCP proxy on
 * 127.0.0.1, and small waiting helpers. Network traffic from these helpers only ever goes to 127.0.0.1.
 */
import net from 'node:net'
import * as Y from 'yjs'
import { newPeerId, newSpaceId, type DocName, type PeerId, type SpaceId } from '../../src/ids.js'
import type { PeerInfo, SyncHost } from '../../src/net/SyncHost.js'

export const LOOPBACK = '127.0.0.1'

type UpdateListener = (doc: DocName, update: Uint8Array, origin: PeerId | null) => void

export class MemoryHost implements SyncHost {
  readonly spaceId: SpaceId
  readonly self: PeerInfo
  readonly docs = new Map<DocName, Y.Doc>()
  /** `${doc} ${peer}` → the state vector last reported through noteRemoteState. */
  readonly remoteStates = new Map<string, Uint8Array>()
  /** Every call that reads or writes document data, for "never touched" assertions. */
  readonly dataCalls: string[] = []
  applyDelayMs = 0
  readonly #listeners = new Set<UpdateListener>()

  constructor(spaceId: SpaceId, name = 'peer', id: PeerId = newPeerId()) {
    this.spaceId = spaceId
    this.self = { id, name, kind: 'human', host: 'localhost' }
  }

  doc(name: string): Y.Doc {
    const key = name as DocName
    let d = this.docs.get(key)
    if (!d) {
      d = new Y.Doc()
      d.on('update', (update: Uint8Array, origin: unknown) => {
        const from = typeof origin === 'string' ? (origin as PeerId) : null
        for (const l of this.#listeners) l(key, update, from)
      })
      this.docs.set(key, d)
    }
    return d
  }

  set(doc: string, key: string, value: unknown): void {
    this.doc(doc).getMap('root').set(key, value)
  }

  get(doc: string, key: string): unknown {
    return this.docs.get(doc as DocName)?.getMap('root').get(key)
  }

  snapshot(): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    for (const [name, d] of [...this.docs].sort(([a], [b]) => a.localeCompare(b))) out[name] = d.getMap('root').toJSON()
    return out
  }

  docNames(): Iterable<DocName> {
    this.dataCalls.push('docNames')
    return [...this.docs.keys()]
  }

  stateVector(doc: DocName): Uint8Array {
    this.dataCalls.push(`stateVector ${doc}`)
    const d = this.docs.get(doc)
    return d ? Y.encodeStateVector(d) : Uint8Array.of(0)
  }

  encodeDiff(doc: DocName, remoteStateVector: Uint8Array): Uint8Array | null {
    this.dataCalls.push(`encodeDiff ${doc}`)
    const d = this.docs.get(doc)
    if (!d) return null
    const diff = Y.encodeStateAsUpdate(d, remoteStateVector)
    return diff.length === 2 && diff[0] === 0 && diff[1] === 0 ? null : diff
  }

  acceptDoc(name: string): name is DocName {
    return (
      typeof name === 'string' && name.length > 0 && !name.includes('..') && !name.startsWith('/') &&
      !name.includes('\\') && !name.includes('\0')
    )
  }

  async applyRemote(doc: DocName, update: Uint8Array, from: PeerId): Promise<void> {
    this.dataCalls.push(`applyRemote ${doc}`)
    try {
      Y.decodeUpdate(update)
    } catch {
      throw new Error('malformed update')
    }
    if (this.applyDelayMs > 0) await new Promise((r) => setTimeout(r, this.applyDelayMs))
    Y.applyUpdate(this.doc(doc), update, from)
  }

  onUpdate(listener: UpdateListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  noteRemoteState(doc: DocName, peer: PeerId, stateVector: Uint8Array): void {
    this.remoteStates.set(`${doc} ${peer}`, stateVector)
  }
}

/** Hosts of one space; `names` become their display names. */
export function hostsInSpace(...names: string[]): MemoryHost[] {
  const space = newSpaceId()
  return names.map((n) => new MemoryHost(space, n))
}

export const SECRET = 'test-secret-0123456789abcdefghijklmnopqrstuvwxyz'

export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** JSON with sorted keys: Y.Map iteration order depends on arrival order, content does not. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`
  }
  return JSON.stringify(v)
}

export function sameState(...hosts: MemoryHost[]): boolean {
  const first = canonical(hosts[0]!.snapshot())
  return hosts.every((h) => canonical(h.snapshot()) === first)
}

import { mulberry32 as seededRandom } from '../helpers/random.js'
export { seededRandom }

export interface CountingProxy {
  url: string
  /** Bytes from the dialler to the target, and back, as they crossed TCP (WebSocket framing included). */
  up: number
  down: number
  close(): Promise<void>
}

/** A TCP proxy on 127.0.0.1 in front of `targetPort`, counting every byte both ways. */
export async function countingProxy(targetPort: number): Promise<CountingProxy> {
  const sockets = new Set<net.Socket>()
  const proxy: CountingProxy = { url: '', up: 0, down: 0, close: async () => {} }
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, LOOPBACK)
    sockets.add(client).add(upstream)
    client.on('data', (d) => {
      proxy.up += d.length
      upstream.write(d)
    })
    upstream.on('data', (d) => {
      proxy.down += d.length
      client.write(d)
    })
    const end = (): void => {
      client.destroy()
      upstream.destroy()
    }
    client.on('close', end).on('error', end)
    upstream.on('close', end).on('error', end)
  })
  await new Promise<void>((r) => server.listen(0, LOOPBACK, r))
  const port = (server.address() as net.AddressInfo).port
  proxy.url = `ws://${LOOPBACK}:${port}`
  proxy.close = () =>
    new Promise<void>((r) => {
      for (const s of sockets) s.destroy()
      server.close(() => r())
    })
  return proxy
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((r) => server.listen(0, LOOPBACK, r))
  const port = (server.address() as net.AddressInfo).port
  await new Promise<void>((r) => server.close(() => r()))
  return port
}

export { newSpaceId }
