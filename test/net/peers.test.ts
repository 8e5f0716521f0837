/**
 * PeerManager and syncOnce over real WebSocket servers on 127.0.0.1 (port 0).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import { type PeerId } from '../../src/ids.js'
import { deriveCredentials } from '../../src/net/auth.js'
import { decodeMessage, encodeMessage, PROTOCOL_VERSION, type Message } from '../../src/net/protocol.js'
import { backoffDelay, DEFAULT_BACKOFF, PeerManager, syncOnce, type PeerManagerConfig, type PeerState } from '../../src/net/peer-manager.js'
import { MemoryNet } from '../../src/net/memory.js'
import { ACCESS_REFUSED, PeerSession, type SessionClosed } from '../../src/net/session.js'
import { WsTransport } from '../../src/net/ws.js'
import {
  closedPort, countingProxy, hostsInSpace, LOOPBACK, MemoryHost, newSpaceId, sameState, SECRET, sleep, waitFor,
} from './helpers.js'

const managers: PeerManager[] = []
const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.stop()))
  for (const c of cleanups.splice(0)) await c()
})

type Opts = Partial<Omit<PeerManagerConfig, 'listen'>> & { listen?: boolean; port?: number }

async function manager(host: MemoryHost, o: Opts = {}): Promise<{ m: PeerManager; url: string }> {
  const { listen = true, port = 0, ...rest } = o
  const m = new PeerManager({
    host,
    secret: SECRET,
    peers: [],
    heartbeatMs: 60_000,
    backoff: { baseMs: 20, maxMs: 200 },
    ...rest,
    ...(listen ? { listen: { host: LOOPBACK, port } } : {}),
  })
  managers.push(m)
  const { url } = await m.start()
  return { m, url: url ?? '' }
}

function next<K extends 'peer-connected' | 'peer-synced' | 'peer-refused' | 'peer-disconnected'>(
  m: PeerManager,
  event: K,
): Promise<[PeerState, SessionClosed | undefined]> {
  return new Promise((resolve) => m.once(event, ((p: PeerState, info?: SessionClosed) => resolve([p, info])) as never))
}

describe('PeerManager over WebSocket', () => {
  it('two peers sync existing documents both ways, then live edits', async () => {
    const [a, b] = hostsInSpace('a', 'b')
    a.set('.rhema/todos.yaml', 'a', 'from a')
    b.set('.rhema/decisions.yaml', 'b', 'from b')
    b.set('.rhema/todos.yaml', 'b', 'also b')
    const { m: ma, url } = await manager(a)
    const syncedA = next(ma, 'peer-synced')
    const { m: mb } = await manager(b, { listen: false, peers: [url] })
    const [peerOfB] = await next(mb, 'peer-synced')
    const [peerOfA] = await syncedA
    expect(peerOfB).toMatchObject({ url, id: a.self.id, name: 'a', direction: 'out', state: 'connected' })
    expect(peerOfA).toMatchObject({ id: b.self.id, direction: 'in', state: 'connected' })
    expect(sameState(a, b)).toBe(true)
    expect(a.get('.rhema/todos.yaml', 'b')).toBe('also b')

    a.set('.rhema/todos.yaml', 'status', 'done')
    await waitFor(() => b.get('.rhema/todos.yaml', 'status') === 'done')
    b.set('.rhema/decisions.yaml', 'status', 'accepted')
    await waitFor(() => a.get('.rhema/decisions.yaml', 'status') === 'accepted')
    expect(mb.peers()).toEqual([expect.objectContaining({ url, state: 'connected', lastSeen: expect.any(Number) })])
    expect(ma.peers()).toEqual([expect.objectContaining({ id: b.self.id, direction: 'in', state: 'connected' })])
  })

  it('a three-peer line A–B–C converges: B forwards updates', async () => {
    const [a, b, c] = hostsInSpace('a', 'b', 'c')
    a.set('a.yaml', 'k', 1)
    c.set('c.yaml', 'k', 3)
    const { m: mb, url } = await manager(b)
    await manager(a, { listen: false, peers: [url] })
    await manager(c, { listen: false, peers: [url] })
    await waitFor(() => mb.peers().filter((p) => p.state === 'connected').length === 2)
    await waitFor(() => sameState(a, b, c), 5000, 'initial convergence')
    expect(Object.keys(a.snapshot())).toEqual(['a.yaml', 'c.yaml'])
    a.set('shared.yaml', 'from', 'a')
    c.set('shared.yaml', 'also', 'c')
    await waitFor(() => c.get('shared.yaml', 'from') === 'a' && a.get('shared.yaml', 'also') === 'c')
    await waitFor(() => sameState(a, b, c))
  })

  it('wrong secret: both sides report refused (4401); no document data is read or sent', async () => {
    const [a, b] = hostsInSpace('a', 'b')
    a.set('a.yaml', 'k', 1)
    b.set('b.yaml', 'k', 2)
    a.dataCalls.length = 0
    b.dataCalls.length = 0
    const { m: ma, url } = await manager(a)
    const refusedA = next(ma, 'peer-refused')
    const { m: mb } = await manager(b, { listen: false, peers: [url], secret: 'wrong secret' })
    const [stateB, infoB] = await next(mb, 'peer-refused')
    const [stateA, infoA] = await refusedA
    expect(infoA).toEqual({ code: 4401, reason: ACCESS_REFUSED, refused: true })
    expect(infoB).toEqual({ code: 4401, reason: ACCESS_REFUSED, refused: true })
    expect(stateB).toMatchObject({ url, state: 'refused' })
    expect(stateA).toMatchObject({ direction: 'in', state: 'refused', id: b.self.id })
    expect(mb.peers()[0]).toMatchObject({ url, state: 'refused', error: ACCESS_REFUSED })
    expect(ma.peers()).toEqual([expect.objectContaining({ state: 'refused', direction: 'in' })])
    expect(a.dataCalls).toEqual([])
    expect(b.dataCalls).toEqual([])
  })

  it('a refused peer backs off to the cap instead of retrying at once', async () => {
    const [a, b] = hostsInSpace('a', 'b')
    const { url } = await manager(a)
    const { m: mb } = await manager(b, {
      listen: false, peers: [url], secret: 'wrong secret', backoff: { baseMs: 1, maxMs: 60_000 },
    })
    let refusals = 0
    mb.on('peer-refused', () => refusals++)
    await waitFor(() => refusals === 1)
    await sleep(200) // with baseMs 1, an ordinary failure would have been retried many times by now
    expect(refusals).toBe(1)
    expect(mb.peers()[0]!.state).toBe('refused')
  })

  it('another space: refused with 4403', async () => {
    const a = new MemoryHost(newSpaceId(), 'a')
    const b = new MemoryHost(newSpaceId(), 'b')
    const { url } = await manager(a)
    const { m: mb } = await manager(b, { listen: false, peers: [url] })
    const [, info] = await next(mb, 'peer-refused')
    expect(info).toMatchObject({ code: 4403, refused: true })
    expect(info!.reason).toMatch(/other space/)
  })

  it('protocol version mismatch: the other end gets an Error naming both versions and 1002', async () => {
    const [a, x] = hostsInSpace('a', 'x')
    const { url } = await manager(a)
    const raw = new WebSocket(url)
    raw.on('error', () => undefined) // a reset after the refusal is expected
    const got: Message[] = []
    raw.on('message', (d: Buffer) => got.push(decodeMessage(new Uint8Array(d))))
    await new Promise((r) => raw.once('open', r))
    const closed = new Promise<[number, string]>((r) => raw.once('close', (c, why) => r([c, why.toString()])))
    raw.send(encodeMessage({
      type: 'Hello', proto: 1, spaceId: a.spaceId, peer: x.self, nonce: new Uint8Array(32), role: 'dial',
      maxFrameBytes: 1 << 20, flags: { oneShot: false, peek: false },
    }))
    const [code, reason] = await closed
    expect(code).toBe(1002)
    expect(reason).toMatch(/v5.*v1/)
    const err = got.find((m) => m.type === 'Error') as Extract<Message, { type: 'Error' }>
    expect(err.message).toMatch(/this peer speaks ctxsync protocol v5, the other v1; upgrade ctxsync/)
  })

  it('a frame over the limit is refused with 1009', async () => {
    const [a] = hostsInSpace('a')
    const { url } = await manager(a, { maxFrameBytes: 64 * 1024 })
    const raw = new WebSocket(url)
    raw.on('error', () => undefined) // a reset after the refusal is expected
    await new Promise((r) => raw.once('open', r))
    const closed = new Promise<number>((r) => raw.once('close', (c) => r(c)))
    raw.send(new Uint8Array(64 * 1024 + 1))
    expect(await closed).toBe(1009)
  })

  it('a document larger than a small maxFrameBytes travels in chunks', async () => {
    const [a, b] = hostsInSpace('a', 'b')
    const big = Array.from({ length: 3000 }, (_, i) => `line ${i}: ${'lorem ipsum '.repeat(8)}`).join('\n')
    a.set('big.yaml', 'text', big)
    const { url } = await manager(a, { maxFrameBytes: 16 * 1024 })
    const { m: mb } = await manager(b, { listen: false, peers: [url], maxFrameBytes: 16 * 1024 })
    await next(mb, 'peer-synced')
    expect(big.length).toBeGreaterThan(250_000)
    expect(b.get('big.yaml', 'text')).toBe(big)
  })

  it('reconnects with backoff after the listener restarts', async () => {
    const [a, b] = hostsInSpace('a', 'b')
    const first = await manager(a)
    const port = Number(new URL(first.url).port)
    const { m: mb } = await manager(b, { listen: false, peers: [first.url] })
    await next(mb, 'peer-synced')
    const gone = next(mb, 'peer-disconnected')
    await first.m.stop()
    const [, info] = await gone
    expect(info!.code).toBe(1001)
    await waitFor(() => mb.peers()[0]!.state !== 'connected')
    b.set('while-away.yaml', 'k', 'offline edit')
    await sleep(100) // a few failed dials
    expect(['unreachable', 'connecting']).toContain(mb.peers()[0]!.state)
    const again = next(mb, 'peer-synced')
    await manager(a, { port })
    await again
    expect(a.get('while-away.yaml', 'k')).toBe('offline edit')
  })

  it('heartbeats drop a peer that stops answering pings (4408)', async () => {
    const [a, b] = hostsInSpace('a', 'b')
    const { m: ma, url } = await manager(a, { heartbeatMs: 40 })
    // b speaks the real protocol but its socket never answers pings, like a suspended laptop.
    const mute = new WebSocket(url, { autoPong: false })
    mute.on('error', () => undefined) // a reset after the refusal is expected
    cleanups.push(() => mute.terminate())
    // Wrapped inside the open event, as wsDialer does, so no early frame can slip past.
    const transport = await new Promise<WsTransport>((r) => mute.once('open', () => r(new WsTransport(mute, url, 0))))
    const session = new PeerSession({
      host: b, transport, role: 'dial', credentials: deriveCredentials(SECRET, b.spaceId),
    })
    const connected = next(ma, 'peer-connected')
    const dropped = next(ma, 'peer-disconnected')
    session.start()
    await connected
    const [state, info] = await dropped
    expect(info!.code).toBe(4408)
    expect(state.id).toBe(b.self.id)
  })

  it('two peers dialling each other keep one connection, the one dialled by the smaller id', async () => {
    const space = newSpaceId()
    const a = new MemoryHost(space, 'a', 'p-aaaaaaaa' as PeerId)
    const b = new MemoryHost(space, 'b', 'p-bbbbbbbb' as PeerId)
    const { m: ma, url: urlA } = await manager(a)
    const { m: mb, url: urlB } = await manager(b)
    // Point them at each other only now that both ports are known.
    await ma.stop()
    await mb.stop()
    const portA = Number(new URL(urlA).port)
    const portB = Number(new URL(urlB).port)
    const { m: ma2 } = await manager(a, { port: portA, peers: [urlB] })
    const { m: mb2 } = await manager(b, { port: portB, peers: [urlA] })
    const connected = (m: PeerManager) => m.peers().filter((p) => p.state === 'connected')
    await waitFor(() => connected(ma2).length === 1 && connected(mb2).length === 1)
    await sleep(150) // let the duplicate close and the backoff pass: the choice must be stable
    expect(connected(ma2)).toEqual([expect.objectContaining({ id: b.self.id, direction: 'out', url: urlB })])
    expect(connected(mb2)).toEqual([expect.objectContaining({ id: a.self.id, direction: 'in', url: urlA })])
    a.set('x.yaml', 'k', 'still flows')
    await waitFor(() => b.get('x.yaml', 'k') === 'still flows')
  })

  it('stop() closes peers gracefully with 1001', async () => {
    const [a, b] = hostsInSpace('a', 'b')
    const { m: ma, url } = await manager(a)
    const { m: mb } = await manager(b, { listen: false, peers: [url] })
    await next(mb, 'peer-synced')
    const gone = next(ma, 'peer-disconnected')
    await mb.stop()
    const [, info] = await gone
    expect(info!.code).toBe(1001)
  })
})

describe('syncOnce', () => {
  it('reports synced, refused and unreachable peers without throwing', async () => {
    const [a, b, c, d] = hostsInSpace('a', 'b', 'c', 'd')
    a.set('a.yaml', 'k', 'from a')
    c.set('c.yaml', 'k', 'from c')
    d.set('d.yaml', 'k', 'from d')
    const { url: urlA } = await manager(a)
    const { url: urlB } = await manager(b, { secret: 'b has another secret' })
    const { url: urlC } = await manager(c)
    const dead = `ws://${LOOPBACK}:${await closedPort()}`
    const progress: number[] = []
    const res = await syncOnce({
      host: d, secret: SECRET, peers: [urlA, urlB, dead, urlC], timeoutMs: 5000,
      onProgress: (p) => progress.push(p.bytesReceived),
    })
    expect(res.peers.map((p) => [p.url, p.outcome])).toEqual([
      [urlA, 'synced'], [urlB, 'refused'], [dead, 'unreachable'], [urlC, 'synced'],
    ])
    expect(res.peers[0]!.peer?.id).toBe(a.self.id)
    expect(res.peers[1]!.error).toBe(ACCESS_REFUSED)
    expect(res.peers[2]!.error).toMatch(/cannot reach/)
    expect(res.bytesSent).toBe(res.peers.reduce((n, p) => n + p.bytesSent, 0))
    expect(res.bytesReceived).toBeGreaterThan(0)
    expect(progress.length).toBeGreaterThan(0)
    // d got everything, and forwarded what a brought to c and what c brought to a.
    expect(Object.keys(d.snapshot())).toEqual(['a.yaml', 'c.yaml', 'd.yaml'])
    await waitFor(() => sameState(a, c, d))
    expect(Object.keys(b.snapshot())).toEqual([])
  })

  it('nothing reachable: every peer unreachable, with the reason', async () => {
    const [d] = hostsInSpace('d')
    const res = await syncOnce({ host: d, secret: SECRET, peers: [`ws://${LOOPBACK}:${await closedPort()}`], timeoutMs: 3000 })
    expect(res.peers).toEqual([expect.objectContaining({ outcome: 'unreachable', error: expect.stringMatching(/ECONNREFUSED/) })])
    expect(res.bytesSent + res.bytesReceived).toBe(0)
  })

  it('a peer that accepts but never answers times out; one speaking another version is an error', async () => {
    const [d] = hostsInSpace('d')
    const servers = [0, 1].map(() => new WebSocketServer({ host: LOOPBACK, port: 0 }))
    const [silent, future] = servers as [WebSocketServer, WebSocketServer]
    await Promise.all(servers.map((server) => new Promise((r) => server.once('listening', r))))
    for (const server of servers) {
      cleanups.push(() => new Promise<void>((r) => {
        for (const c of server.clients) c.terminate()
        server.close(() => r())
      }))
    }
    const [x] = hostsInSpace('x')
    future.on('connection', (ws) => ws.send(encodeMessage({
      type: 'Hello', proto: PROTOCOL_VERSION + 1, spaceId: d.spaceId, peer: x!.self, nonce: new Uint8Array(32), role: 'accept', maxFrameBytes: 1 << 20,
      flags: { oneShot: false, peek: false },
    })))
    const url = (s: WebSocketServer) => `ws://${LOOPBACK}:${(s.address() as { port: number }).port}`
    const res = await syncOnce({ host: d, secret: SECRET, peers: [url(silent), url(future)], timeoutMs: 400 })
    expect(res.peers[0]).toMatchObject({ outcome: 'timeout' })
    expect(res.peers[1]).toMatchObject({ outcome: 'error', error: expect.stringMatching(/upgrade ctxsync/) })
  })
})

describe('wire size', () => {
  it('one single-field live edit costs ≤ 200 bytes on the wire, its ack included', async () => {
    const [a, b] = hostsInSpace('a', 'b')
    a.set('.rhema/todos.yaml', 'status', 'open')
    const { url } = await manager(b)
    const proxy = await countingProxy(Number(new URL(url).port))
    cleanups.push(() => proxy.close())
    const { m: ma } = await manager(a, { listen: false, peers: [proxy.url] })
    await next(ma, 'peer-synced')
    await sleep(100) // let acks and stragglers pass
    const up0 = proxy.up
    const down0 = proxy.down
    a.set('.rhema/todos.yaml', 'status', 'done')
    await waitFor(() => b.get('.rhema/todos.yaml', 'status') === 'done')
    await sleep(120) // the ack (throttled to 50 ms)
    const edit = proxy.up - up0
    const ack = proxy.down - down0
    console.log(`wire size of one live single-field edit: ${edit + ack} bytes (update ${edit} + ack back ${ack})`)
    expect(edit).toBeGreaterThan(0)
    expect(ack).toBeGreaterThan(0)
    expect(edit + ack).toBeLessThanOrEqual(200)
  })
})

describe('backoff', () => {
  it('is full jitter below a doubling, capped ceiling', () => {
    const b = { baseMs: 250, maxMs: 30_000 }
    expect(backoffDelay(0, b, () => 0.999999)).toBeLessThan(250)
    expect(backoffDelay(3, b, () => 0.999999)).toBeCloseTo(2000, -1)
    expect(backoffDelay(30, b, () => 0.999999)).toBeLessThanOrEqual(30_000)
    expect(backoffDelay(30, b, () => 0)).toBe(0)
    const samples = Array.from({ length: 200 }, () => backoffDelay(4, b))
    expect(Math.min(...samples)).toBeLessThan(1000)
    expect(Math.max(...samples)).toBeGreaterThan(3000)
    expect(Math.max(...samples)).toBeLessThan(4000)
  })

  it('by default, a peer that comes back is dialled again within 10 s, however long it was down', () => {
    // The worst case of the jitter (each delay at its ceiling), each failed dial taking `dialMs`: the first
    // dial after the peer is back comes at most maxMs (plus one failed dial) later (issue 17: a peer down
    // 16 s was retried after 34 s with a 30 s cap).
    for (const dialMs of [0, 50, 1000]) {
      for (let downMs = 0; downMs <= 180_000; downMs += 500) {
        let t = 0
        let attempt = 0
        while (t < downMs) t += dialMs + backoffDelay(attempt++, DEFAULT_BACKOFF, () => 1)
        expect(t - downMs, `down ${downMs} ms`).toBeLessThanOrEqual(10_000)
      }
    }
  })
})

describe('PeerManager with injected transports', () => {
  it('runs over any Dialer/Listener pair, and keeps retrying peers that are not there', async () => {
    const net = new MemoryNet()
    const [a, b, c] = hostsInSpace('a', 'b', 'c')
    a.set('a.yaml', 'k', 1)
    const { m: mb, url } = await manager(b, { dialer: net.dialer, listenerFactory: net.listenerFor() })
    const { m: ma } = await manager(a, { listen: false, peers: [url, 'memory://nowhere'], dialer: net.dialer })
    await manager(c, { listen: false, peers: [url], dialer: net.dialer })
    await waitFor(() => sameState(a, b, c) && Object.keys(c.snapshot()).length === 1)
    c.set('c.yaml', 'k', 3)
    await waitFor(() => a.get('c.yaml', 'k') === 3)
    await waitFor(() => net.dials.filter((u) => u === 'memory://nowhere').length >= 4, 5000, 'retries')
    expect(ma.peers()).toEqual([
      expect.objectContaining({ url, state: 'connected', id: b.self.id }),
      expect.objectContaining({ url: 'memory://nowhere', state: 'unreachable', error: 'nothing listens on memory://nowhere' }),
    ])
    expect(mb.peers().map((p) => p.direction)).toEqual(['in', 'in'])
  })
})
