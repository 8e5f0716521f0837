import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { newPeerId, type DocName } from '../../src/ids.js'
import { deriveCredentials } from '../../src/net/auth.js'
import { createConnectedPair } from '../../src/net/memory.js'
import { encodeMessage, type Message } from '../../src/net/protocol.js'
import { ACCESS_REFUSED, PeerSession, type SessionClosed } from '../../src/net/session.js'
import { hostsInSpace, MemoryHost, newSpaceId, sameState, SECRET, sleep, waitFor } from './helpers.js'
import { link, rawPeer } from './session-helpers.js'

const bothSynced = (l: { sa: PeerSession; sb: PeerSession }) => () => l.sa.isSynced && l.sb.isSynced

describe('PeerSession: sync', () => {
  it('syncs existing documents both ways and reports what the peer holds', async () => {
    const [a, b] = hostsInSpace('a', 'b')
    a.set('.rhema/todos.yaml', 'first', 'from a')
    a.set('shared.yaml', 'a', 1)
    b.set('.rhema/knowledge.yaml', 'k', 'from b')
    b.set('shared.yaml', 'b', 2)
    const l = link(a, b)
    const events: string[] = []
    l.sa.on('authenticated', (p) => events.push(`auth ${p.name}`))
    l.sa.on('synced', () => events.push('synced'))
    await waitFor(bothSynced(l))
    expect(events).toEqual(['auth b', 'synced'])
    expect(sameState(a, b)).toBe(true)
    expect(a.snapshot()['shared.yaml']).toEqual({ a: 1, b: 2 })
    expect(Object.keys(a.snapshot()).sort()).toEqual(['.rhema/knowledge.yaml', '.rhema/todos.yaml', 'shared.yaml'])
    // Each side was told the other holds everything after Synced.
    const sv = a.remoteStates.get(`.rhema/todos.yaml ${b.self.id}`)!
    expect(Y.decodeStateVector(sv)).toEqual(Y.decodeStateVector(Y.encodeStateVector(a.doc('.rhema/todos.yaml'))))
    expect(l.sa.bytesSent).toBe(l.sb.bytesReceived)
    expect(l.sb.bytesSent).toBe(l.sa.bytesReceived)
    l.sa.close()
  })

  it('sends live updates after sync and settles once they are acknowledged', async () => {
    const [a, b] = hostsInSpace('a', 'b')
    const l = link(a, b, { tuning: { ackDelayMs: 5 } })
    await waitFor(bothSynced(l))
    let settled = 0
    l.sa.on('settled', () => settled++)
    a.set('todos.yaml', 'status', 'done')
    expect(l.sa.unsettled).toBe(true)
    await waitFor(() => b.get('todos.yaml', 'status') === 'done')
    await waitFor(() => !l.sa.unsettled)
    expect(settled).toBe(1)
    b.set('todos.yaml', 'status', 'reopened')
    await waitFor(() => a.get('todos.yaml', 'status') === 'reopened')
    expect(sameState(a, b)).toBe(true)
    l.sa.close()
  })

  it('transfers a document larger than the frame limit in chunks', async () => {
    const [a, b] = hostsInSpace('a', 'b')
    const big = 'x'.repeat(200_000)
    a.set('big.yaml', 'blob', big)
    const frames: number[] = []
    const l = link(a, b, { maxFrameBytes: 4096, tuning: { maxFrameBytes: 4096 } })
    l.tb.on('message', (f) => frames.push(f.length))
    await waitFor(bothSynced(l))
    expect(b.get('big.yaml', 'blob')).toBe(big)
    expect(Math.max(...frames)).toBeLessThanOrEqual(4096)
    expect(frames.length).toBeGreaterThan(40)
    l.sa.close()
  })

  it('a single document larger than the send queue limit still goes through', async () => {
    const [a, b] = hostsInSpace('a', 'b')
    const big = 'q'.repeat(300_000)
    a.set('huge.yaml', 'blob', big)
    const tuning = { maxFrameBytes: 16 * 1024, highWaterBytes: 8 * 1024, maxQueuedBytes: 64 * 1024 }
    const l = link(a, b, { maxFrameBytes: 16 * 1024, tuning })
    await waitFor(bothSynced(l))
    expect(b.get('huge.yaml', 'blob')).toBe(big)
    l.sa.close()
  })

  it('produces initial-sync data lazily: a stalled peer does not make us buffer everything', async () => {
    const [a, b] = hostsInSpace('a', 'b')
    for (let i = 0; i < 100; i++) a.set(`doc-${i}.yaml`, 'v', 'y'.repeat(10_000))
    const l = link(a, b, { tuning: { highWaterBytes: 32 * 1024 } })
    await waitFor(() => l.sa.authenticated && l.sb.authenticated)
    l.tb.pause() // b stops reading
    await sleep(100)
    // Without back-pressure all 1 MB of diffs would be queued now.
    expect(l.ta.bufferedAmount).toBeLessThan(32 * 1024 + 20_000)
    l.tb.resume()
    await waitFor(bothSynced(l))
    expect(sameState(a, b)).toBe(true)
    l.sa.close()
  })

  it('cuts off a consumer that stays too slow with 1008 instead of queueing without limit', async () => {
    const [a, b] = hostsInSpace('a', 'b')
    const l = link(a, b, { tuning: { highWaterBytes: 8 * 1024, maxQueuedBytes: 64 * 1024 } })
    await waitFor(bothSynced(l))
    l.tb.pause()
    for (let i = 0; i < 200; i++) a.set('log.yaml', `k${i}`, 'z'.repeat(1000))
    const closed = await l.sa.whenClosed
    expect(closed.code).toBe(1008)
    expect(closed.reason).toMatch(/too slow/)
    l.tb.resume()
  })

  it("encryption 'none' (the future relay mode) syncs the same way, in the clear", async () => {
    const [a, b] = hostsInSpace('a', 'b')
    a.set('plain.yaml', 'visible', 'yes')
    const l = link(a, b, { tuning: { encryption: 'none' } })
    const seen: Uint8Array[] = []
    l.tb.on('message', (f) => seen.push(f))
    await waitFor(bothSynced(l))
    expect(b.get('plain.yaml', 'visible')).toBe('yes')
    expect(seen.some((f) => Buffer.from(f).includes(Buffer.from('plain.yaml')))).toBe(true)
    l.sa.close()
  })

  it("with encryption 'secret' no document name or content is visible on the wire", async () => {
    const [a, b] = hostsInSpace('a', 'b')
    a.set('hidden.yaml', 'content', 'classified')
    const l = link(a, b)
    const seen: Uint8Array[] = []
    l.tb.on('message', (f) => seen.push(f))
    await waitFor(bothSynced(l))
    expect(b.get('hidden.yaml', 'content')).toBe('classified')
    for (const needle of ['hidden.yaml', 'classified']) {
      expect(seen.some((f) => Buffer.from(f).includes(Buffer.from(needle)))).toBe(false)
    }
    l.sa.close()
  })

  it('sendUpdate before authentication sends nothing (the later diff carries it)', async () => {
    const [a] = hostsInSpace('a')
    const [t] = createConnectedPair()
    const s = new PeerSession({ host: a, transport: t, role: 'dial', credentials: deriveCredentials(SECRET, a.spaceId) })
    expect(s.sendUpdate('x.yaml' as DocName, Uint8Array.of(0, 0))).toBe(false)
    s.close()
  })
})

describe('PeerSession: access', () => {
  const expectRefused = (c: SessionClosed, code: number) => {
    expect(c.code).toBe(code)
    expect(c.refused).toBe(true)
  }

  it('wrong secret: both sides refuse with 4401 and no document data moves', async () => {
    const [a, b] = hostsInSpace('a', 'b')
    a.set('secret-plans.yaml', 'x', 1)
    b.set('other.yaml', 'y', 2)
    a.dataCalls.length = 0
    b.dataCalls.length = 0
    const l = link(a, b, { secretB: 'not the secret' })
    const [ca, cb] = await Promise.all([l.sa.whenClosed, l.sb.whenClosed])
    expectRefused(ca, 4401)
    expectRefused(cb, 4401)
    expect(ca.reason).toBe(ACCESS_REFUSED)
    expect(cb.reason).toBe(ACCESS_REFUSED)
    expect(a.dataCalls).toEqual([])
    expect(b.dataCalls).toEqual([])
    expect(l.sa.authenticated || l.sb.authenticated).toBe(false)
  })

  it('another space: 4403 on both sides', async () => {
    const a = new MemoryHost(newSpaceId(), 'a')
    const b = new MemoryHost(newSpaceId(), 'b')
    const l = link(a, b)
    const [ca, cb] = await Promise.all([l.sa.whenClosed, l.sb.whenClosed])
    expectRefused(ca, 4403)
    expectRefused(cb, 4403)
    expect(ca.reason).toMatch(/other space/)
    expect(a.dataCalls.concat(b.dataCalls)).toEqual([])
  })

  it('a connection to itself (same peer id) is refused with 4403', async () => {
    const space = newSpaceId()
    const id = newPeerId()
    const l = link(new MemoryHost(space, 'a', id), new MemoryHost(space, 'a', id))
    const ca = await l.sa.whenClosed
    expectRefused(ca, 4403)
    expect(ca.reason).toMatch(/itself/)
  })

  it('protocol version mismatch: Error naming both versions, then 1002', async () => {
    const [a] = hostsInSpace('a')
    const raw = await rawPeer(a)
    // The acceptor says nothing before a Hello for its space: a stranger learns nothing by connecting.
    expect(raw.received).toEqual([])
    raw.sendRaw(encodeMessage({
      type: 'Hello', proto: 1, spaceId: a.spaceId, peer: { id: newPeerId(), name: 'old', kind: 'human' }, nonce: new Uint8Array(32),
      role: 'dial', maxFrameBytes: 1 << 20, flags: { oneShot: false, peek: false },
    }))
    const closed = await raw.session.whenClosed
    expect(closed.code).toBe(1002)
    expect(closed.refused).toBe(false)
    expect(closed.reason).toMatch(/v5.*v1.*upgrade ctxsync/)
    await waitFor(() => raw.received.some((m) => m.type === 'Error'))
    const err = raw.received.find((m) => m.type === 'Error') as Extract<Message, { type: 'Error' }>
    expect(err.code).toBe(1002)
    expect(err.message).toMatch(/upgrade ctxsync/)
  })

  it('accepts nothing but Hello/Auth before authentication', async () => {
    const [a] = hostsInSpace('a')
    a.set('x.yaml', 'k', 1)
    a.dataCalls.length = 0
    for (const m of [
      { type: 'Update', doc: { name: 'x.yaml' }, update: Uint8Array.of(0, 0) },
      { type: 'Manifest', entries: [] },
      { type: 'Step2End' },
      { type: 'Chunk', id: 1, index: 0, total: 2, bytes: Uint8Array.of(1) },
    ] as Message[]) {
      const raw = await rawPeer(a)
      raw.sendRaw(encodeMessage(m))
      const closed = await raw.session.whenClosed
      expect(closed.code, m.type).toBe(1002)
    }
    expect(a.dataCalls).toEqual([])
  })

  it('a silent peer is dropped when the handshake times out', async () => {
    const [a] = hostsInSpace('a')
    const raw = await rawPeer(a, { tuning: { handshakeTimeoutMs: 30 } })
    const closed = await raw.session.whenClosed
    expect(closed.code).toBe(1008)
    expect(closed.reason).toMatch(/handshake timed out/)
  })

  it('shows the other side’s Error reason when it hangs up', async () => {
    const [a] = hostsInSpace('a')
    const raw = await rawPeer(a)
    raw.sendRaw(encodeMessage({ type: 'Error', code: 4403, message: 'read-only token' }))
    expect(await raw.session.whenClosed).toEqual({ code: 4403, reason: 'read-only token', refused: true })
  })
})

describe('PeerSession: hostile but authenticated peers', () => {
  it('a refused document name closes with 1002 and applies nothing', async () => {
    const [a] = hostsInSpace('a')
    const raw = await rawPeer(a, { authenticate: true })
    const before = a.dataCalls.filter((c) => c.startsWith('applyRemote')).length
    raw.send(encodeMessage({ type: 'Update', doc: { name: '../../etc/passwd' }, update: Uint8Array.of(0, 0) }))
    const closed = await raw.session.whenClosed
    expect(closed.code).toBe(1002)
    expect(closed.reason).toMatch(/refused document name/)
    expect(a.dataCalls.filter((c) => c.startsWith('applyRemote')).length).toBe(before)
  })

  it('a manifest with one bad name is refused as a whole', async () => {
    const [a] = hostsInSpace('a')
    const raw = await rawPeer(a, { authenticate: true })
    raw.send(encodeMessage({
      type: 'Manifest',
      entries: [{ doc: { name: 'ok.yaml' }, stateVector: Uint8Array.of(0) }, { doc: { name: '/abs.yaml' }, stateVector: Uint8Array.of(0) }],
    }))
    expect((await raw.session.whenClosed).code).toBe(1002)
    expect(a.remoteStates.size).toBe(0)
  })

  it('an update the host rejects closes with 1002', async () => {
    const [a] = hostsInSpace('a')
    const raw = await rawPeer(a, { authenticate: true })
    raw.send(encodeMessage({ type: 'Update', doc: { name: 'x.yaml' }, update: Uint8Array.of(5, 1, 2, 3, 200) }))
    const closed = await raw.session.whenClosed
    expect(closed.code).toBe(1002)
    expect(closed.reason).toMatch(/update for x.yaml rejected/)
    expect(a.docs.has('x.yaml' as DocName)).toBe(false)
  })

  it('applies updates strictly in order, each before the next is read', async () => {
    const [a] = hostsInSpace('a')
    a.applyDelayMs = 5
    const raw = await rawPeer(a, { authenticate: true })
    const src = new Y.Doc()
    const updates: Uint8Array[] = []
    src.on('update', (u: Uint8Array) => updates.push(u))
    for (let i = 0; i < 10; i++) src.getArray('list').push([i])
    updates.forEach((u, i) => raw.send(encodeMessage({ type: 'Update', doc: i === 0 ? { name: 'list.yaml' } : { id: 1 }, update: u })))
    await waitFor(() => a.doc('list.yaml').getArray('list').length === 10)
    expect(a.doc('list.yaml').getArray('list').toArray()).toEqual([...Array(10).keys()])
    await waitFor(() => raw.received.some((m) => m.type === 'Ack'))
    raw.session.close()
  })

  it('a peer flooding updates faster than the host applies them is cut off with 1008', async () => {
    const [a] = hostsInSpace('a')
    a.applyDelayMs = 50
    const raw = await rawPeer(a, { authenticate: true, tuning: { maxQueuedBytes: 16 * 1024 } })
    const src = new Y.Doc()
    for (let i = 0; i < 100; i++) {
      src.getMap('root').set(`k${i}`, 'w'.repeat(500))
      raw.send(encodeMessage({ type: 'Update', doc: i === 0 ? { name: 'flood.yaml' } : { id: 1 }, update: Y.encodeStateAsUpdate(src) }))
    }
    const closed = await raw.session.whenClosed
    expect(closed.code).toBe(1008)
    expect(closed.reason).toMatch(/faster than updates can be applied/)
  })

  it('a backlog beyond the high-water mark pauses reading (back-pressure) instead of cutting the peer off', async () => {
    const [a] = hostsInSpace('a')
    a.applyDelayMs = 2
    const raw = await rawPeer(a, { authenticate: true, tuning: { highWaterBytes: 8 * 1024, maxQueuedBytes: 64 * 1024 } })
    const transport = raw.end.peer
    let paused = 0
    const pause = transport.pause.bind(transport)
    transport.pause = () => {
      paused++
      pause()
    }
    const src = new Y.Doc()
    let named = false
    src.on('update', (u: Uint8Array) => {
      raw.send(encodeMessage({ type: 'Update', doc: named ? { id: 1 } : { name: 'bulk.yaml' }, update: u }))
      named = true
    })
    // 200 × 1 KB: far beyond maxQueuedBytes if it all waited in the session.
    for (let i = 0; i < 200; i++) src.getMap('root').set(`k${i}`, 'v'.repeat(1000))
    await waitFor(() => a.docs.get('bulk.yaml' as DocName)?.getMap('root').size === 200, 10_000, 'every update applied')
    expect(paused).toBeGreaterThan(0)
    expect(raw.session.closedInfo).toBeUndefined()
    raw.session.close()
  })

  it('Synced before our Step2End, or a second Step2End, is a protocol error', async () => {
    const [a] = hostsInSpace('a')
    const raw = await rawPeer(a, { authenticate: true })
    raw.send(encodeMessage({ type: 'Step2End' }))
    raw.send(encodeMessage({ type: 'Step2End' }))
    const closed = await raw.session.whenClosed
    expect(closed.code).toBe(1002)
    expect(closed.reason).toMatch(/duplicate Step2End/)
  })
})
