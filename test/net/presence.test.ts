/**
 * Presence: the wire message (both ways, hostile input), the PresenceBook, and presence between real
 * PeerManagers over WebSocket on 127.0.0.1 — peer to peer and through a relay. Presence passed on along
 * chains and rings: `presence-forward.test.ts`.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { newPeerId } from '../../src/ids.js'
import { PeerManager } from '../../src/net/peer-manager.js'
import { PresenceBook, PRESENCE_WINDOW_MS } from '../../src/net/presence.js'
import {
  decodeMessage, encodeMessage, isPresence, Limits, MAX_PRESENCE_HOPS, MessageTag, ProtocolError, type PresenceMessage,
} from '../../src/net/protocol.js'
import { hostsInSpace, LOOPBACK, SECRET, waitFor, type MemoryHost } from './helpers.js'
import { rig, startRelay, viaRelay } from './relay-helpers.js'
import { rawPeer } from './session-helpers.js'

const ada = { id: newPeerId(), name: 'Ada', kind: 'human' as const, host: 'ada.local' }
const T = 1_700_000_000_000
/** A Presence as its peer announces it (hops 0), issued at `at`. */
const own = (peer: PresenceMessage['peer'], files: PresenceMessage['files'] = [], at = T, online = true): PresenceMessage =>
  ({ type: 'Presence', peer, online, files, hops: 0, at })

describe('Presence message', () => {
  it('round-trips, with change times to the second and hops and issue time exact', () => {
    const m: PresenceMessage = {
      type: 'Presence', peer: ada, online: true, files: [{ path: '.rhema/todos.yaml', at: T + 999 }, { path: 'b.yaml', at: T }], hops: 3, at: T + 123,
    }
    const back = decodeMessage(encodeMessage(m))
    expect(isPresence(back)).toBe(true)
    expect(back).toEqual({ ...m, files: [{ path: '.rhema/todos.yaml', at: T }, { path: 'b.yaml', at: T }] })
    const gone = decodeMessage(encodeMessage({ ...own({ id: ada.id, name: 'Ada', kind: 'agent' }, [], T + 1, false), hops: MAX_PRESENCE_HOPS }))
    expect(gone).toMatchObject({ online: false, files: [], peer: { kind: 'agent' }, hops: MAX_PRESENCE_HOPS, at: T + 1 })
  })

  it('sends at most the file limit and refuses more on the way in', () => {
    const files = Array.from({ length: Limits.presenceFiles + 10 }, (_, i) => ({ path: `f${i}.yaml`, at: T }))
    const sent = decodeMessage(encodeMessage(own(ada, files))) as PresenceMessage
    expect(sent.files).toHaveLength(Limits.presenceFiles)
    // Hand-made from one that ends in: online flag, file count 0, hops 0, issue time 0.
    const ok = encodeMessage(own(ada, [], 0))
    const head = ok.subarray(0, ok.length - 4)
    expect(decodeMessage(Uint8Array.from([...head, 1, 0, 0, 0]))).toMatchObject({ hops: 0, at: 0 })
    expect(() => decodeMessage(Uint8Array.from([...head, 1, Limits.presenceFiles + 1, 0, 0]))).toThrow(ProtocolError)
    expect(() => decodeMessage(Uint8Array.from([...head, 7, 0, 0, 0]))).toThrow(/online flag/)
    expect(() => decodeMessage(Uint8Array.from([...head, 1, 0, MAX_PRESENCE_HOPS + 1, 0]))).toThrow(/presence hops out of range/)
    expect(() => decodeMessage(Uint8Array.from([...head, 1, 0, 0]))).toThrow(ProtocolError)
    expect(() => decodeMessage(Uint8Array.of(MessageTag.Presence))).toThrow(ProtocolError)
  })
})

describe('PresenceBook', () => {
  it('keeps one entry per peer per source, drops a source as a whole, hides files outside the window', () => {
    let now = T
    const book = new PresenceBook(() => now)
    const relay = {}
    const direct = {}
    expect(book.apply(own(ada, [{ path: 'a.yaml', at: T - 1000 }], T), relay, 'relay')).toBe(true)
    now += 1000
    book.apply(own(ada, [{ path: 'b.yaml', at: T }], T + 1000), relay, 'relay')
    expect(book.list()).toHaveLength(1)
    expect(book.list()[0]).toMatchObject({ via: 'relay', files: [{ path: 'b.yaml' }], since: T })
    // Its own session is shown first: it authenticated the name, and it hears every announcement at once.
    book.apply(own({ ...ada, name: 'Ada (hello)' }, [{ path: 'a.yaml', at: T - 1000 }], T), direct, 'direct')
    expect(book.list()[0]).toMatchObject({ via: 'direct', peer: { name: 'Ada (hello)' }, since: T })
    expect(book.dropSource(relay).map((e) => e.peer.id)).toEqual([ada.id])
    expect(book.list()[0]).toMatchObject({ via: 'direct', files: [{ path: 'a.yaml' }], since: T + 1000 })
    now = T + PRESENCE_WINDOW_MS + 1
    expect(book.list()[0]!.files).toEqual([])
    expect(book.apply(own(ada, [], T, false), direct, 'direct')).toBe(true)
    expect(book.list()).toEqual([])
  })

  it('shows the newest of what was passed on, and lets it expire unless refreshed; direct entries stay', () => {
    let now = T
    const book = new PresenceBook(() => now, 300)
    const [viaB, viaC, direct] = [{}, {}, {}]
    const bob = { id: newPeerId(), name: 'Bob', kind: 'agent' as const }
    book.apply({ ...own(ada, [], T), hops: 2 }, viaB, 'peer')
    book.apply({ ...own(ada, [{ path: 'new.yaml', at: T }], T + 5), hops: 3 }, viaC, 'peer')
    book.apply(own(bob, [], T), direct, 'direct')
    expect(book.best(ada.id)).toMatchObject({ at: T + 5, hops: 3 })
    expect(book.best(ada.id, (src) => src !== viaC)).toMatchObject({ at: T, hops: 2 })
    expect(book.list().map((e) => [e.peer.name, e.via, e.files.length])).toEqual([['Ada', 'peer', 1], ['Bob', 'direct', 0]])
    now += 200
    book.apply({ ...own(ada, [], T + 9), hops: 2 }, viaB, 'peer')
    now += 200
    // viaC's copy is stale (hidden at once, removed by expire()); viaB's was refreshed.
    expect(book.list().find((e) => e.peer.id === ada.id)).toMatchObject({ at: T + 9 })
    expect(book.expire().map((e) => e.at)).toEqual([T + 5])
    now += 301
    expect(book.list().map((e) => e.peer.name)).toEqual(['Bob'])
    expect(book.peerIds()).toEqual(new Set([bob.id]))
  })
})

const managers: PeerManager[] = []
const r = rig()
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.stop()))
  await r.cleanup()
})

async function manager(host: MemoryHost, peers: string[] = []): Promise<{ m: PeerManager; url: string }> {
  const m = new PeerManager({ host, secret: SECRET, peers, heartbeatMs: 60_000, backoff: { baseMs: 20, maxMs: 200 }, listen: { host: LOOPBACK, port: 0 } })
  managers.push(m)
  const { url } = await m.start()
  return { m, url: url! }
}

describe('presence between peers', () => {
  it('each side learns who the other is and what it touches; a closed session takes it away', async () => {
    const [a, b] = hostsInSpace('ann', 'bob')
    const { m: ma, url } = await manager(a!)
    ma.setPresence([{ path: '.rhema/todos.yaml', at: Date.now() }])
    const { m: mb } = await manager(b!, [url])
    await waitFor(() => mb.presence().length === 1 && ma.presence().length === 1)
    expect(mb.presence()[0]).toMatchObject({ peer: { id: a!.self.id, name: 'ann', kind: 'human', host: 'localhost' }, via: 'direct', files: [{ path: '.rhema/todos.yaml' }] })
    expect(ma.presence()[0]).toMatchObject({ peer: { id: b!.self.id }, files: [] })
    // A change is announced again.
    mb.setPresence([{ path: '.rhema/decisions.yaml', at: Date.now() }])
    await waitFor(() => ma.presence()[0]?.files[0]?.path === '.rhema/decisions.yaml')
    await mb.stop()
    await waitFor(() => ma.presence().length === 0)
  })

  it('two peers that dial each other at once keep one connection and still hear each other', async () => {
    for (let round = 0; round < 3; round++) {
      const [a, b] = hostsInSpace('ann', 'bob')
      const { m: ma, url: ua } = await manager(a!)
      const { m: mb, url: ub } = await manager(b!)
      ma.setPresence([{ path: 'a.yaml', at: Date.now() }])
      mb.setPresence([{ path: 'b.yaml', at: Date.now() }])
      ma.addPeer(ub)
      mb.addPeer(ua)
      await waitFor(() => ma.presence()[0]?.files[0]?.path === 'b.yaml' && mb.presence()[0]?.files[0]?.path === 'a.yaml')
      await waitFor(() => ma.peers().filter((p) => p.state === 'connected').length === 1)
    }
  })

  it('through a relay: a peer sees the others with the names they authenticated with, and sees them leave', async () => {
    const relay = await startRelay(r)
    const [a, b, c] = hostsInSpace('ann', 'bob', 'cy')
    const ma = await viaRelay(r, a!, relay.url)
    ma.setPresence([{ path: 'todos.yaml', at: Date.now() }])
    const mb = await viaRelay(r, b!, relay.url)
    await waitFor(() => mb.presence().some((p) => p.peer.id === a!.self.id && p.files.length === 1))
    expect(mb.presence().find((p) => p.peer.id === a!.self.id)).toMatchObject({ via: 'relay', peer: { name: 'ann' } })
    // A newcomer gets everyone's presence at once.
    const mc = await viaRelay(r, c!, relay.url)
    await waitFor(() => mc.presence().length === 2)
    expect(mc.presence().map((p) => p.peer.name)).toEqual(['ann', 'bob'])
    await ma.stop()
    await waitFor(() => mb.presence().every((p) => p.peer.id !== a!.self.id) && mc.presence().length === 1)
  })
})

describe('presence through a relay and peer to peer at once', () => {
  it('what a relay brings is not passed on peer to peer, nor the other way round, and nobody hangs up', async () => {
    const relay = await startRelay(r)
    const [a, b, c] = hostsInSpace('ann', 'bob', 'cy')
    const { m: ma, url: ua } = await manager(a!)
    const mb = await viaRelay(r, b!, relay.url, { peers: [relay.url, ua] })
    const mc = await viaRelay(r, c!, relay.url)
    const names = (m: PeerManager): string => m.presence().map((p) => `${p.peer.name}:${p.via}`).join()
    await waitFor(() => names(mb) === 'ann:direct,cy:relay' && names(mc) === 'bob:relay' && names(ma) === 'bob:direct')
    mb.setPresence([{ path: 'b.yaml', at: Date.now() }])
    await waitFor(() => mc.presence()[0]?.files.length === 1 && ma.presence()[0]?.files.length === 1)
    expect([names(ma), names(mb), names(mc)]).toEqual(['bob:direct', 'ann:direct,cy:relay', 'bob:relay'])
    expect(mb.peers().map((p) => p.state)).toEqual(['connected', 'connected'])
  })
})

describe('presence from a hostile peer', () => {
  async function authenticated(): Promise<{ raw: Awaited<ReturnType<typeof rawPeer>>; heard: PresenceMessage[]; a: MemoryHost }> {
    const [a] = hostsInSpace('a')
    const raw = await rawPeer(a!, { authenticate: true })
    const heard: PresenceMessage[] = []
    raw.session.on('presence', (m) => heard.push(m))
    return { raw, heard, a: a! }
  }

  it('a peer may not pose as another one\'s own session (hops 0 for another peer: 1002); its own presence is taken', async () => {
    const { raw, heard } = await authenticated()
    raw.send(encodeMessage(own(raw.session.peer!, [{ path: 'x.yaml', at: T }])))
    await waitFor(() => heard.length === 1)
    raw.send(encodeMessage(own(ada)))
    const closed = await raw.session.whenClosed
    expect(closed).toMatchObject({ code: 1002, reason: expect.stringMatching(/presence for another peer/) })
    expect(heard).toHaveLength(1)
  })

  it('passes on what it says of others (hops ≥ 1), drops one naming us, refuses its own said to be passed on', async () => {
    const { raw, heard, a } = await authenticated()
    raw.send(encodeMessage({ ...own(ada), hops: 2 }))
    raw.send(encodeMessage({ ...own(a.self), hops: 3 }))
    raw.send(encodeMessage({ ...own(ada, [], T, false), hops: 1 }))
    await waitFor(() => heard.length === 2)
    expect(heard.map((m) => [m.peer.id, m.online, m.hops])).toEqual([[ada.id, true, 2], [ada.id, false, 1]])
    raw.send(encodeMessage({ ...own(raw.session.peer!), hops: 1 }))
    expect(await raw.session.whenClosed).toMatchObject({ code: 1002, reason: expect.stringMatching(/its own presence/) })
  })

  it('hops above the maximum, or a presence for a relay: 1002', async () => {
    const { raw } = await authenticated()
    const frame = encodeMessage({ ...own(ada, [], 0), hops: MAX_PRESENCE_HOPS })
    frame[frame.length - 2] = MAX_PRESENCE_HOPS + 1
    raw.send(frame)
    expect(await raw.session.whenClosed).toMatchObject({ code: 1002, reason: expect.stringMatching(/presence hops out of range/) })
    const second = await authenticated()
    second.raw.send(encodeMessage({ ...own({ ...ada, kind: 'relay' }), hops: 1 }))
    expect(await second.raw.session.whenClosed).toMatchObject({ code: 1002, reason: expect.stringMatching(/presence for a relay/) })
  })
})
