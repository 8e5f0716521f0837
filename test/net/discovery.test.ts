/**
 * Discovery: the contract for the in-memory fake (and for bonjour-service when run inside a private
 * network namespace: CTXSYNC_NETNS=1, see test/e2e/mdns.test.ts — never outside one, multicast would leave
 * the machine), and PeerFinder driving real PeerManagers over WebSocket on 127.0.0.1.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { newPeerId } from '../../src/ids.js'
import { BonjourDiscovery, pickAddress } from '../../src/net/discovery/bonjour.js'
import { spaceHash } from '../../src/net/discovery/DiscoveryInterface.js'
import { PeerFinder } from '../../src/net/discovery/finder.js'
import { MemoryDiscovery, MemoryLan } from '../../src/net/discovery/memory.js'
import { PeerManager, type PeerState } from '../../src/net/peer-manager.js'
import { PROTOCOL_VERSION } from '../../src/net/protocol.js'
import { discoveryContract } from './discovery.contract.js'
import { hostsInSpace, LOOPBACK, sameState, SECRET, sleep, waitFor, type MemoryHost } from './helpers.js'

const lan = new MemoryLan()
discoveryContract('memory', () => new MemoryDiscovery(lan), { timeoutMs: 1000 })
if (process.env.CTXSYNC_NETNS === '1') discoveryContract('bonjour (mDNS, in a private network namespace)', () => new BonjourDiscovery(), { timeoutMs: 8000 })

describe('pickAddress', () => {
  it('prefers where the announcement came from, unless that is IPv6 link-local', () => {
    expect(pickAddress({ referer: { address: '192.168.1.7', family: 'IPv4', port: 5353, size: 1 }, addresses: ['10.0.0.1'] })).toBe('192.168.1.7')
    expect(pickAddress({ referer: { address: 'fe80::1%eth0', family: 'IPv6', port: 5353, size: 1 }, addresses: ['fe80::1', '10.0.0.1'] })).toBe('10.0.0.1')
    expect(pickAddress({ addresses: [] })).toBeUndefined()
  })
})

interface Member { host: MemoryHost; m: PeerManager; finder: PeerFinder; discovery: MemoryDiscovery }
const members: Member[] = []
afterEach(async () => {
  for (const x of members.splice(0)) {
    await x.finder.stop()
    await x.m.stop()
  }
})

async function member(l: MemoryLan, host: MemoryHost, o: { yieldMs?: number } = {}): Promise<Member> {
  const m = new PeerManager({ host, secret: SECRET, peers: [], heartbeatMs: 60_000, backoff: { baseMs: 20, maxMs: 200 }, listen: { host: LOOPBACK, port: 0 } })
  const { port } = await m.start()
  const discovery = new MemoryDiscovery(l)
  const finder = new PeerFinder({ discovery, peers: m, self: host.self.id, spaceId: host.spaceId, port: port!, yieldMs: o.yieldMs ?? 200 })
  await finder.start()
  const x = { host, m, finder, discovery }
  members.push(x)
  return x
}

const connected = (m: PeerManager): PeerState[] => m.peers().filter((p) => p.state === 'connected')

describe('PeerFinder', () => {
  it('peers of one space find each other, connect once and sync; other spaces and itself are ignored', async () => {
    const l = new MemoryLan()
    const [a, b] = hostsInSpace('a', 'b')
    const [stranger] = hostsInSpace('s')
    a!.set('todos.yaml', 'x', 1)
    b!.set('todos.yaml', 'y', 2)
    let duplicates = 0
    const ma = await member(l, a!)
    const mb = await member(l, b!)
    const ms = await member(l, stranger!)
    for (const x of [ma, mb]) x.m.on('peer-disconnected', () => duplicates++)
    await waitFor(() => sameState(a!, b!) && connected(ma.m).length === 1 && connected(mb.m).length === 1)
    expect(a!.get('todos.yaml', 'y')).toBe(2)
    // Give the peer with the larger id the time to have dialled too: still one connection, none closed.
    await sleep(400)
    expect(connected(ma.m)).toHaveLength(1)
    expect(duplicates).toBe(0)
    expect(ma.finder.found()).toEqual([expect.objectContaining({ id: b!.self.id, compatible: true, announced: true, connected: true })])
    expect(ms.finder.found()).toEqual([])
    expect(connected(ms.m)).toEqual([])
    // Live edits flow.
    a!.set('todos.yaml', 'z', 3)
    await waitFor(() => b!.get('todos.yaml', 'z') === 3)
  })

  it('a peer that is no longer announced stays connected until its connection ends; then it is not redialled', async () => {
    const l = new MemoryLan()
    const [a, b] = hostsInSpace('a', 'b')
    const ma = await member(l, a!)
    const mb = await member(l, b!)
    await waitFor(() => connected(ma.m).length === 1 && connected(mb.m).length === 1)
    await mb.discovery.stop()
    await waitFor(() => ma.finder.found()[0]?.announced === false)
    await sleep(100)
    expect(connected(ma.m)).toHaveLength(1)
    await mb.m.stop()
    await waitFor(() => connected(ma.m).length === 0)
    await sleep(300)
    expect(ma.m.peers().filter((p) => p.state === 'connecting' || p.state === 'connected')).toEqual([])
  })

  it('lists a peer speaking another protocol version without dialling it; ignores malformed ids', async () => {
    const l = new MemoryLan()
    const [a] = hostsInSpace('a')
    const ma = await member(l, a!)
    const other = newPeerId()
    l.announce({ key: 'old', peerId: other, spaceHash: spaceHash(a!.spaceId), proto: PROTOCOL_VERSION - 1, host: LOOPBACK, port: 9 })
    l.announce({ key: 'bad', peerId: 'not an id', spaceHash: spaceHash(a!.spaceId), proto: PROTOCOL_VERSION, host: LOOPBACK, port: 9 })
    await waitFor(() => ma.finder.found().length === 1)
    await sleep(50)
    expect(ma.finder.found()).toEqual([expect.objectContaining({ id: other, compatible: false })])
    expect(ma.m.peers()).toEqual([])
  })
})

