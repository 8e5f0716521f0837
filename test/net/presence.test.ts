/**
 * Presence: the wire message (both ways, hostile input), the PresenceBook, and presence between real
 * PeerManagers over WebSocket on 127.0.0.1 — peer to peer and through a relay.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { newPeerId } from '../../src/ids.js'
import { PeerManager } from '../../src/net/peers.js'
import { PresenceBook, PRESENCE_WINDOW_MS } from '../../src/net/presence.js'
import {
  decodeMessage, encodeMessage, isPresence, Limits, MessageTag, ProtocolError, type PresenceMessage,
} from '../../src/net/protocol.js'
import { hostsInSpace, LOOPBACK, SECRET, waitFor, type MemoryHost } from './helpers.js'
import { rig, startRelay, viaRelay } from './relay-helpers.js'
import { rawPeer } from './session-helpers.js'

const ada = { id: newPeerId(), name: 'Ada', kind: 'human' as const, host: 'ada.local' }
const T = 1_700_000_000_000

describe('Presence message', () => {
  it('round-trips, with change times to the second', () => {
    const m: PresenceMessage = { type: 'Presence', peer: ada, online: true, files: [{ path: '.rhema/todos.yaml', at: T + 999 }, { path: 'b.yaml', at: T }] }
    const back = decodeMessage(encodeMessage(m))
    expect(isPresence(back)).toBe(true)
    expect(back).toEqual({ ...m, files: [{ path: '.rhema/todos.yaml', at: T }, { path: 'b.yaml', at: T }] })
    const gone = decodeMessage(encodeMessage({ type: 'Presence', peer: { id: ada.id, name: 'Ada', kind: 'agent' }, online: false, files: [] }))
    expect(gone).toMatchObject({ online: false, files: [], peer: { kind: 'agent' } })
  })

  it('sends at most the file limit and refuses more on the way in', () => {
    const files = Array.from({ length: Limits.presenceFiles + 10 }, (_, i) => ({ path: `f${i}.yaml`, at: T }))
    const sent = decodeMessage(encodeMessage({ type: 'Presence', peer: ada, online: true, files })) as PresenceMessage
    expect(sent.files).toHaveLength(Limits.presenceFiles)
    // Hand-made: a count beyond the limit.
    const ok = encodeMessage({ type: 'Presence', peer: ada, online: true, files: [] })
    const tooMany = Uint8Array.from([...ok.subarray(0, ok.length - 1), Limits.presenceFiles + 1])
    expect(() => decodeMessage(tooMany)).toThrow(ProtocolError)
    const badFlag = Uint8Array.from([...ok.subarray(0, ok.length - 2), 7, 0])
    expect(() => decodeMessage(badFlag)).toThrow(/online flag/)
    expect(() => decodeMessage(Uint8Array.of(MessageTag.Presence))).toThrow(ProtocolError)
  })
})

describe('PresenceBook', () => {
  it('keeps one entry per peer per source, drops a source as a whole, hides files outside the window', () => {
    let now = T
    const book = new PresenceBook(() => now)
    const direct = {}
    const relay = {}
    expect(book.apply({ type: 'Presence', peer: ada, online: true, files: [{ path: 'a.yaml', at: T - 1000 }] }, direct, 'direct')).toBe(true)
    now += 1000
    book.apply({ type: 'Presence', peer: ada, online: true, files: [{ path: 'b.yaml', at: T }] }, relay, 'relay')
    expect(book.list()).toHaveLength(1)
    expect(book.list()[0]).toMatchObject({ via: 'relay', files: [{ path: 'b.yaml' }] })
    expect(book.dropSource(relay)).toBe(true)
    expect(book.list()[0]).toMatchObject({ via: 'direct', files: [{ path: 'a.yaml' }], since: T })
    now = T + PRESENCE_WINDOW_MS + 1
    expect(book.list()[0]!.files).toEqual([])
    expect(book.apply({ type: 'Presence', peer: ada, online: false, files: [] }, direct, 'direct')).toBe(true)
    expect(book.list()).toEqual([])
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

describe('presence from a hostile peer', () => {
  it('a peer may not speak for another one (1002); its own presence is taken', async () => {
    const [a] = hostsInSpace('a')
    const raw = await rawPeer(a!, { authenticate: true })
    const heard: PresenceMessage[] = []
    raw.session.on('presence', (m) => heard.push(m))
    const self = raw.session.peer!
    raw.send(encodeMessage({ type: 'Presence', peer: self, online: true, files: [{ path: 'x.yaml', at: T }] }))
    await waitFor(() => heard.length === 1)
    raw.send(encodeMessage({ type: 'Presence', peer: ada, online: true, files: [] }))
    const closed = await raw.session.whenClosed
    expect(closed).toMatchObject({ code: 1002, reason: expect.stringMatching(/presence for another peer/) })
    expect(heard).toHaveLength(1)
  })
})
