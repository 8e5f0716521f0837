/**
 * Protocol v2's three changes, through real sessions: documents named in full once per direction then by
 * number, acks that carry a count (so their size does not grow with the Yjs clients a document has seen,
 * and what they teach waits for Synced), and one-shot connections that never displace a live session.
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { DocName } from '../../src/ids.js'
import { decodeMessage, encodeMessage, type Message } from '../../src/net/protocol.js'
import { PeerManager, syncOnce, type PeerState } from '../../src/net/peer-manager.js'
import { hostsInSpace, LOOPBACK, SECRET, sleep, waitFor, type MemoryHost } from './helpers.js'
import { link, rawPeer } from './session-helpers.js'

const plain = { encryption: 'none' as const, ackDelayMs: 5 }

function captured(t: { on(e: 'message', l: (f: Uint8Array) => void): unknown }): Message[] {
  const out: Message[] = []
  t.on('message', (f) => out.push(decodeMessage(f)))
  return out
}

describe('document ids on the wire', () => {
  it('names a document in full the first time each direction mentions it, by number after', async () => {
    const [a, b] = hostsInSpace('a', 'b')
    a.set('.rhema/decisions.yaml', 'k', 0)
    const l = link(a, b, { tuning: plain })
    const aToB = captured(l.tb)
    const raw: Uint8Array[] = []
    l.tb.on('message', (f) => raw.push(f))
    await waitFor(() => l.sa.isSynced && l.sb.isSynced)
    for (let i = 1; i <= 3; i++) a.set('.rhema/todos.yaml', 'status', `s${i}`)
    a.set('.rhema/decisions.yaml', 'k', 1)
    await waitFor(() => b.get('.rhema/todos.yaml', 'status') === 's3' && b.get('.rhema/decisions.yaml', 'k') === 1)
    const docs = aToB.flatMap((m) => (m.type === 'Update' || m.type === 'SyncStep2' ? [m.doc] : m.type === 'Manifest' ? m.entries.map((e) => e.doc) : []))
    // decisions: named in the manifest (id 1); todos: named by its first update (id 2), numbers after.
    expect(docs).toEqual([
      { name: '.rhema/decisions.yaml' }, { id: 1 },
      { name: '.rhema/todos.yaml' }, { id: 2 }, { id: 2 }, { id: 1 },
    ])
    const lastThree = raw.slice(-3).map((f) => Buffer.from(f))
    for (const f of lastThree) expect(f.includes(Buffer.from('.rhema/'))).toBe(false)
    l.sa.close()
  })

  it('an id the other side never introduced closes with 1002 and applies nothing', async () => {
    const [a] = hostsInSpace('a')
    const raw = await rawPeer(a, { authenticate: true })
    const src = new Y.Doc()
    src.getMap('root').set('x', 1)
    raw.send(encodeMessage({ type: 'Update', doc: { id: 1 }, update: Y.encodeStateAsUpdate(src) }))
    const closed = await raw.session.whenClosed
    expect(closed.code).toBe(1002)
    expect(closed.reason).toMatch(/unknown document id 1/)
    expect(a.dataCalls.some((c) => c.startsWith('applyRemote'))).toBe(false)
  })
})

describe('acks carry a count', () => {
  it('stay tiny however many Yjs clients the document has seen, and tell the sender what arrived', async () => {
    const [a, b] = hostsInSpace('a', 'b')
    // 300 clients wrote to the document before (each daemon start is a new one): a 1.5 KB state vector.
    for (let i = 0; i < 300; i++) {
      const other = new Y.Doc()
      other.getMap('root').set(`k${i}`, i)
      Y.applyUpdate(a.doc('big-history.yaml'), Y.encodeStateAsUpdate(other))
    }
    expect(Y.encodeStateVector(a.doc('big-history.yaml')).length).toBeGreaterThan(1000)
    const l = link(a, b, { tuning: plain })
    await waitFor(() => l.sa.isSynced && l.sb.isSynced)
    const bToA = captured(l.ta)
    const sizes: number[] = []
    l.ta.on('message', (f) => sizes.push(f.length))
    a.set('big-history.yaml', 'status', 'done')
    await waitFor(() => !l.sa.unsettled, 2000, 'the ack')
    const acks = bToA.filter((m) => m.type === 'Ack')
    expect(acks).toEqual([{ type: 'Ack', seq: 1 }])
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4)
    const told = a.remoteStates.get(`big-history.yaml ${b.self.id}`)!
    expect(covers(told, Y.encodeStateVector(a.doc('big-history.yaml')))).toBe(true)
    l.sa.close()
  })

  it('an ack that arrives before Synced teaches nothing until Synced confirms the diffs too', async () => {
    const [a] = hostsInSpace('a')
    a.set('early.yaml', 'before', 1)
    const raw = await rawPeer(a, { authenticate: true, tuning: { ackDelayMs: 5 } })
    const peerId = raw.session.peer!.id
    a.set('early.yaml', 'live', 2)
    expect(raw.session.sendUpdate('early.yaml' as DocName, Y.encodeStateAsUpdate(a.doc('early.yaml')))).toBe(true)
    raw.send(encodeMessage({ type: 'Ack', seq: 1 }))
    await sleep(30)
    expect(raw.session.unsettled).toBe(false)
    expect(a.remoteStates.has(`early.yaml ${peerId}`)).toBe(false)
    raw.send(encodeMessage({ type: 'ManifestEnd' }))
    await waitFor(() => raw.received.some((m) => m.type === 'Step2End'))
    raw.send(encodeMessage({ type: 'Synced' }))
    await waitFor(() => a.remoteStates.has(`early.yaml ${peerId}`))
    expect(covers(a.remoteStates.get(`early.yaml ${peerId}`)!, Y.encodeStateVector(a.doc('early.yaml')))).toBe(true)
    raw.session.close()
  })

  it('an ack for an update never sent, or going backwards, closes with 1002', async () => {
    const [a] = hostsInSpace('a')
    const raw = await rawPeer(a, { authenticate: true })
    raw.send(encodeMessage({ type: 'Ack', seq: 5 }))
    const closed = await raw.session.whenClosed
    expect(closed.code).toBe(1002)
    expect(closed.reason).toMatch(/ack of update 5 out of order/)
  })
})

function covers(have: Uint8Array, need: Uint8Array): boolean {
  const h = Y.decodeStateVector(have)
  for (const [client, clock] of Y.decodeStateVector(need)) if ((h.get(client) ?? 0) < clock) return false
  return true
}

describe('one-shot connections', () => {
  const managers: PeerManager[] = []
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((m) => m.stop()))
  })

  async function manager(host: MemoryHost, peers: string[], listen: boolean): Promise<{ m: PeerManager; url: string }> {
    const m = new PeerManager({
      host, secret: SECRET, peers, heartbeatMs: 60_000, backoff: { baseMs: 20, maxMs: 200 },
      ...(listen ? { listen: { host: LOOPBACK, port: 0 } } : {}),
    })
    managers.push(m)
    const { url } = await m.start()
    return { m, url: url ?? '' }
  }

  it('a one-shot sync from a peer with a live session neither displaces it nor is closed for it', async () => {
    const [a, b] = hostsInSpace('a', 'b')
    const { m: ma, url } = await manager(a, [], true)
    const { m: mb } = await manager(b, [url], false)
    await waitFor(() => mb.peers()[0]?.state === 'connected' && ma.peers()[0]?.state === 'connected')
    const events: string[] = []
    const onceSeen: PeerState[] = []
    ma.on('peer-disconnected', (p) => events.push(`a lost ${p.name}`))
    mb.on('peer-disconnected', (p) => events.push(`b lost ${p.name}`))
    ma.on('peer-sync-once', (p) => onceSeen.push(p))
    // b's own `ctxsync sync`, same peer id, while its daemon's session is up.
    b.set('from-sync.yaml', 'k', 'one-shot')
    const res = await syncOnce({ host: b, secret: SECRET, peers: [url], timeoutMs: 5000 })
    expect(res.peers[0]).toMatchObject({ outcome: 'synced' })
    expect(onceSeen).toEqual([expect.objectContaining({ id: b.self.id, state: 'connected' })])
    await sleep(100)
    expect(events).toEqual([])
    expect(ma.peers()).toEqual([expect.objectContaining({ id: b.self.id, state: 'connected', direction: 'in' })])
    expect(a.get('from-sync.yaml', 'k')).toBe('one-shot')
    a.set('after.yaml', 'k', 'still live')
    await waitFor(() => b.get('after.yaml', 'k') === 'still live')
  })
})
