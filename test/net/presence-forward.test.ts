/**
 * Presence passed on peer to peer (`presence-forward.ts`): PeerManagers over in-memory transports, wired
 * with `peers:` lists into chains and rings, so that some peers reach each other only through others.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { MemoryNet } from '../../src/net/memory.js'
import { PeerManager, type PeerManagerConfig } from '../../src/net/peer-manager.js'
import { hostsInSpace, SECRET, waitFor, type MemoryHost } from './helpers.js'

const managers: PeerManager[] = []
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.stop()))
})

interface Peer {
  host: MemoryHost
  m: PeerManager
}

/** Starts one PeerManager per host; `dials[i]` names whom host i dials. */
async function network(hosts: MemoryHost[], dials: string[][], presence?: PeerManagerConfig['presence']): Promise<Map<string, Peer>> {
  const net = new MemoryNet()
  const out = new Map<string, Peer>()
  for (const [i, host] of hosts.entries()) out.set(host.self.name, await join(net, host, dials[i] ?? [], presence))
  return out
}

async function join(net: MemoryNet, host: MemoryHost, dials: string[], presence?: PeerManagerConfig['presence']): Promise<Peer> {
  const m = new PeerManager({
    host, secret: SECRET, peers: dials.map((n) => `memory://${n}`), listen: { host: 'memory', port: 0 },
    backoff: { baseMs: 20, maxMs: 200 }, dialer: net.dialer, listenerFactory: net.listenerFor(host.self.name), presence,
  })
  managers.push(m)
  await m.start()
  return { host, m }
}

/** Whom `p` sees online, by name, sorted. */
const sees = (p: Peer): string[] => p.m.presence().map((e) => e.peer.name)

describe('presence along a chain', () => {
  it('A–B–C: the ends see each other with their files, and lose each other when the link breaks', async () => {
    const hosts = hostsInSpace('ann', 'bob', 'cy')
    // The default refresh (a minute) never fires here: what is seen comes from passing on alone.
    const p = await network(hosts, [['bob'], [], ['bob']])
    const [a, b, c] = ['ann', 'bob', 'cy'].map((n) => p.get(n)!)
    a!.m.setPresence([{ path: 'a.yaml', at: Date.now() }])
    c!.m.setPresence([{ path: 'c.yaml', at: Date.now() }])
    await waitFor(() => sees(a!).join() === 'bob,cy' && sees(c!).join() === 'ann,bob' && sees(b!).join() === 'ann,cy', 5000, 'everyone')
    expect(a!.m.presence().find((e) => e.peer.name === 'cy')).toMatchObject({
      peer: { id: c!.host.self.id, kind: 'human' }, via: 'peer', hops: 1, files: [{ path: 'c.yaml' }],
    })
    expect(c!.m.presence().find((e) => e.peer.name === 'ann')).toMatchObject({ via: 'peer', files: [{ path: 'a.yaml' }] })
    expect(a!.m.presence().find((e) => e.peer.name === 'bob')).toMatchObject({ via: 'direct', hops: 0 })
    // A change of files travels the chain too.
    c!.m.setPresence([{ path: 'c2.yaml', at: Date.now() }])
    await waitFor(() => a!.m.presence().find((e) => e.peer.name === 'cy')?.files[0]?.path === 'c2.yaml', 5000, 'new files')
    await c!.m.stop()
    await waitFor(() => sees(a!).join() === 'bob' && sees(b!).join() === 'ann', 5000, 'cy gone')
  })

  it('a late joiner at one end learns who is already there, and they learn of it', async () => {
    const hosts = hostsInSpace('ann', 'bob', 'cy', 'dee')
    const net = new MemoryNet()
    const a = await join(net, hosts[0]!, [])
    const b = await join(net, hosts[1]!, ['ann'])
    const c = await join(net, hosts[2]!, ['bob'])
    a.m.setPresence([{ path: 'a.yaml', at: Date.now() }])
    await waitFor(() => sees(a).length === 2 && sees(c).length === 2, 5000, 'the chain')
    const d = await join(net, hosts[3]!, ['cy'])
    await waitFor(() => sees(d).join() === 'ann,bob,cy', 5000, 'dee learns the chain')
    expect(d.m.presence().find((e) => e.peer.name === 'ann')).toMatchObject({ hops: 2, files: [{ path: 'a.yaml' }] })
    await waitFor(() => sees(a).join() === 'bob,cy,dee', 5000, 'ann learns of dee')
  })
})

describe('presence around a ring', () => {
  it('a pendant peer that leaves is dropped by every ring peer within the expiry', async () => {
    const names = ['r0', 'r1', 'r2', 'r3', 'pen']
    const hosts = hostsInSpace(...names)
    const timing = { refreshMs: 50, expiryMs: 150 }
    const p = await network(hosts, [['r1'], ['r2'], ['r3'], ['r0'], ['r0']], timing)
    const ring = names.slice(0, 4).map((n) => p.get(n)!)
    await waitFor(() => [...p.values()].every((x) => sees(x).length === 4), 5000, 'everyone sees everyone')
    // Over a few refreshes, entries passed on stay (they are refreshed in time).
    await new Promise((r) => setTimeout(r, 4 * timing.expiryMs))
    expect([...p.values()].map((x) => sees(x).length)).toEqual([4, 4, 4, 4, 4])
    const left = Date.now()
    await p.get('pen')!.m.stop()
    await waitFor(() => ring.every((x) => !sees(x).includes('pen')), 5000, 'pen gone everywhere')
    // Expiry plus a sweep interval, with slack for a busy machine.
    expect(Date.now() - left).toBeLessThan(timing.expiryMs * 1.25 + 500)
    // And it stays gone: no copy comes back around the ring.
    await new Promise((r) => setTimeout(r, 2 * timing.expiryMs))
    expect(ring.map((x) => sees(x).includes('pen'))).toEqual([false, false, false, false])
    expect(ring.map((x) => sees(x).length)).toEqual([3, 3, 3, 3])
  })
})
