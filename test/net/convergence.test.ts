/**
 * Seeded random convergence: several peers, each running a PeerManager over an in-memory network, make
 * random edits while the network is randomly partitioned and healed; once healed, every peer must hold the
 * same state. Set FUZZ_SEED to replay a failure.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { MemoryNet } from '../../src/net/memory.js'
import { PeerManager } from '../../src/net/peer-manager.js'
import { canonical, hostsInSpace, SECRET, seededRandom, sleep, waitFor, type MemoryHost } from './helpers.js'

const managers: PeerManager[] = []
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.stop()))
})

function randomEdit(rand: () => number, host: MemoryHost, step: number): void {
  const doc = host.doc(`doc-${Math.floor(rand() * 3)}.yaml`)
  const r = rand()
  if (r < 0.5) doc.getMap('root').set(`k${Math.floor(rand() * 6)}`, `${host.self.name}:${step}`)
  else if (r < 0.7) doc.getMap('root').delete(`k${Math.floor(rand() * 6)}`)
  else {
    const list = doc.getArray<string>('items')
    if (list.length > 0 && rand() < 0.3) list.delete(Math.floor(rand() * list.length))
    else list.insert(Math.floor(rand() * (list.length + 1)), [`${host.self.name}:${step}`])
  }
}

function fullState(host: MemoryHost): string {
  const out: Record<string, unknown> = {}
  for (const [name, d] of host.docs) out[name] = { root: d.getMap('root').toJSON(), items: d.getArray('items').toJSON() }
  return canonical(out)
}

describe('random edits, partitions and heals converge', () => {
  it('five peers, seeded', async () => {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000)
    const rand = seededRandom(seed)
    const names = ['p0', 'p1', 'p2', 'p3', 'p4']
    const hosts = hostsInSpace(...names)
    const net = new MemoryNet()
    try {
      for (const [i, host] of hosts.entries()) {
        // A line guarantees connectivity; extra random links make cycles and duplicate paths.
        // Some pairs dial each other both ways, which exercises deduplication.
        const peers = names
          .filter((_, j) => j === i + 1 || (j > i + 1 && rand() < 0.3) || (j < i && rand() < 0.2))
          .map((n) => `memory://${n}`)
        const m = new PeerManager({
          host, secret: SECRET, peers, listen: { host: 'memory', port: 0 }, backoff: { baseMs: 5, maxMs: 40 },
          dialer: net.dialerFor(names[i]!), listenerFactory: net.listenerFor(names[i]!),
          session: { ackDelayMs: 5 },
        })
        managers.push(m)
        await m.start()
      }
      for (let step = 0; step < 40; step++) {
        const r = rand()
        if (r < 0.1) {
          const cut = 1 + Math.floor(rand() * (names.length - 1))
          net.partition([names.slice(0, cut), names.slice(cut)])
        } else if (r < 0.2) net.heal()
        for (let e = 0; e < 3; e++) randomEdit(rand, hosts[Math.floor(rand() * hosts.length)]!, step)
        await sleep(Math.floor(rand() * 15))
      }
      net.heal()
      await waitFor(() => hosts.every((h) => fullState(h) === fullState(hosts[0]!)), 10_000, 'convergence after healing')
      expect(hosts[0]!.docs.size).toBeGreaterThan(0)
    } catch (err) {
      console.error(`convergence failed with FUZZ_SEED=${seed}`)
      for (const h of hosts) console.error(h.self.name, fullState(h))
      throw err
    }
  })
})
