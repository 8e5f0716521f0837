/**
 * Strangers cannot starve members: `Admission` (connection bounds, handshake deadline), the relay's bounds
 * on spaces (sessions per space, registrations per address and in total, expiry), all over real sockets on
 * loopback. Floods come from 127.0.0.2 (still loopback) so that per-address limits tell them from the
 * members on 127.0.0.1; every flood is bounded in count and in time.
 */
import fs from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import tls from 'node:tls'
import { execa } from 'execa'
import { afterEach, describe, expect, it } from 'vitest'
import { memoryRelayStorage } from '../../src/fs/relayStorage.js'
import { Admission, addressKey, defaultLimits } from '../../src/net/admission.js'
import { syncOnce } from '../../src/net/peer-manager.js'
import { listen } from '../../src/net/ws.js'
import { expired } from '../../src/net/relay/registration.js'
import { hostsInSpace, MemoryHost, newSpaceId, sameState, SECRET, waitFor } from './helpers.js'
import { rig, startRelay, viaRelay } from './relay-helpers.js'

const r = rig()
const sockets: net.Socket[] = []
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy()
  await r.cleanup()
})

const FLOODER = '127.0.0.2'

/** Opens `n` plain TCP connections from `from` that never say a byte; resolves once each is connected or refused. */
async function tcpFlood(port: number, n: number, from = FLOODER): Promise<net.Socket[]> {
  const out: net.Socket[] = []
  await Promise.all(Array.from({ length: n }, () => new Promise<void>((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port, localAddress: from })
    s.on('error', () => resolve())
    s.on('connect', () => resolve())
    s.on('close', () => resolve())
    sockets.push(s)
    out.push(s)
  })))
  return out
}

const closed = (s: net.Socket) => s.destroyed || s.readyState === 'closed'

describe('admission', () => {
  it('defaults stay well under the descriptor limit', () => {
    for (const fds of [256, 1024, 20_000, 1_048_576]) {
      const l = defaultLimits(fds)
      expect(l.maxConnections).toBeLessThanOrEqual(Math.max(32, fds / 2))
      expect(l.maxPending).toBeLessThan(l.maxConnections)
      expect(l.maxPendingPerAddress).toBeLessThanOrEqual(Math.max(4, l.maxPending / 4))
    }
    expect(addressKey('::ffff:10.1.2.3')).toBe('10.1.2.3')
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe(addressKey('2001:db8:1:2::ffff'))
    expect(addressKey('2001:db8:1:2::1')).not.toBe(addressKey('2001:db8:1:3::1'))
  })

  it('bounds strangers per address and in all, evicts the biggest holder for a newcomer, closes the silent at the deadline', async () => {
    const admission = new Admission({ maxConnections: 40, maxPending: 10, maxPendingPerAddress: 6, maxPerAddress: 30, handshakeMs: 400 })
    const server = net.createServer((s) => void admission.accept(s))
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res))
    const port = (server.address() as net.AddressInfo).port
    try {
      await tcpFlood(port, 20, FLOODER)
      await waitFor(() => admission.stats().pending === 6 && admission.stats().refusedTotal === 14, 2000, 'six of the flood held, 14 refused')
      await tcpFlood(port, 4, '127.0.0.3')
      await waitFor(() => admission.stats().pending === 10, 2000, 'pool full')
      // The pool is full: a newcomer from a third address takes the oldest slot of the biggest holder.
      const [mine] = await tcpFlood(port, 1, '127.0.0.1')
      await waitFor(() => admission.stats().evictedTotal === 1, 2000, 'an eviction')
      expect(closed(mine!)).toBe(false)
      // Nobody authenticated: all are closed at the deadline.
      await waitFor(() => admission.stats().connections === 0, 3000, 'the deadline')
      expect(admission.stats().timedOutTotal).toBe(10)
    } finally {
      server.close()
    }
  })

  it('TLS: a TLS socket is trusted as the TCP connection under it (the relay with --tls-cert)', async (t) => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ctxsync-tls-'))
    const gen = await execa('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-days', '1',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { reject: false })
    if (gen.exitCode !== 0) return t.skip(`openssl cannot make a certificate here: ${gen.stderr}`)
    const admission = new Admission({ handshakeMs: 300 })
    const server = tls.createServer({ key: await fs.readFile(path.join(dir, 'key.pem')), cert: await fs.readFile(path.join(dir, 'cert.pem')) }, (s) => admission.trust(s))
    server.on('connection', (s) => void admission.accept(s))
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res))
    try {
      const c = tls.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, rejectUnauthorized: false })
      sockets.push(c)
      await new Promise<void>((res, rej) => c.once('secureConnect', res).once('error', rej))
      await waitFor(() => admission.stats().connections === 1 && admission.stats().pending === 0, 2000, 'the TLS connection trusted')
      await new Promise((res) => setTimeout(res, 500))
      expect(c.destroyed).toBe(false)
    } finally {
      server.close()
      await fs.rm(dir, { recursive: true, force: true })
    }
  })

  it('a trusted connection no longer counts as a stranger and outlives the deadline', async () => {
    const admission = new Admission({ maxPending: 2, maxPendingPerAddress: 2, handshakeMs: 300 })
    const server = net.createServer((s) => {
      if (admission.accept(s)) admission.trust(s)
    })
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res))
    const port = (server.address() as net.AddressInfo).port
    try {
      const socks = await tcpFlood(port, 5, '127.0.0.1')
      await waitFor(() => admission.stats().connections === 5, 2000, 'all five in')
      await new Promise((res) => setTimeout(res, 500))
      expect(socks.every((s) => !closed(s))).toBe(true)
      expect(admission.stats().pending).toBe(0)
    } finally {
      server.close()
    }
  })
})

describe('relay: a stranger cannot starve another space', () => {
  it('a TCP flood over the connection limit: members keep syncing, a new member still gets in, the flood is closed', async () => {
    const relay = await startRelay(r, { limits: { maxConnections: 60, maxPending: 20, maxPendingPerAddress: 10, maxPerAddress: 40, handshakeMs: 1000 } })
    const [a, b, late] = hostsInSpace('a', 'b', 'late')
    await viaRelay(r, a, relay.url)
    await viaRelay(r, b, relay.url)
    a.set('t.yaml', 'k', 0)
    await waitFor(() => sameState(a, b), 5000, 'a and b in sync')
    const flood = await tcpFlood(relay.port, 200)
    const before = await (await fetch(`http://127.0.0.1:${relay.port}/healthz`)).json()
    expect(before.refused.connections).toBeGreaterThanOrEqual(150)
    const metrics = await (await fetch(`http://127.0.0.1:${relay.port}/metrics`)).text()
    expect(Number(/^ctxsync_relay_admission_refused_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(150)
    expect(metrics).toMatch(/^ctxsync_relay_pending_connections \d+$/m)
    for (let i = 1; i <= 5; i++) {
      a.set('t.yaml', 'k', i)
      await waitFor(() => b.get('t.yaml', 'k') === i, 5000, `edit ${i} to reach b during the flood`)
    }
    const res = await syncOnce({ host: late, secret: SECRET, peers: [relay.url], relay: { url: relay.url }, timeoutMs: 5000 })
    expect(res.peers[0]!.outcome).toBe('synced')
    expect(late.get('t.yaml', 'k')).toBe(5)
    await waitFor(() => flood.every(closed), 4000, 'the flood to be closed at the handshake deadline')
  })

  it('sessions of one space are bounded (1013): another space still gets in', async () => {
    const relay = await startRelay(r, { maxSessionsPerSpace: 3 })
    const crowd = hostsInSpace('c1', 'c2', 'c3', 'c4', 'c5')
    for (const h of crowd.slice(0, 3)) await viaRelay(r, h, relay.url)
    const extra = await syncOnce({ host: crowd[3]!, secret: SECRET, peers: [relay.url], relay: { url: relay.url }, timeoutMs: 3000 })
    expect(extra.peers[0]!.outcome).not.toBe('synced')
    expect(extra.peers[0]!.error).toMatch(/most sessions/)
    const [other] = hostsInSpace('other')
    other!.set('x.yaml', 'k', 1)
    expect((await syncOnce({ host: other!, secret: SECRET, peers: [relay.url], relay: { url: relay.url }, timeoutMs: 3000 })).peers[0]!.outcome).toBe('synced')
  })

  it('registrations are bounded per address and in all; registered spaces keep working', async () => {
    const relay = await startRelay(r, { registration: { burst: 5, perHour: 5, maxSpaces: 8 } })
    const [member] = hostsInSpace('member')
    member!.set('m.yaml', 'k', 'kept')
    expect((await syncOnce({ host: member!, secret: SECRET, peers: [relay.url], relay: { url: relay.url }, timeoutMs: 3000 })).peers[0]!.outcome).toBe('synced')
    const outcomes: string[] = []
    for (let i = 0; i < 12; i++) {
      const h = new MemoryHost(newSpaceId(), `s${i}`)
      const res = await syncOnce({ host: h, secret: `${SECRET}-${i}`, peers: [relay.url], relay: { url: relay.url }, timeoutMs: 3000 })
      outcomes.push(res.peers[0]!.outcome === 'synced' ? 'ok' : res.peers[0]!.error ?? 'failed')
    }
    // The member's space took one of this address's five: four more, then refusals naming the rate.
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(4)
    expect(outcomes.slice(4).every((o) => /new spaces from/.test(o))).toBe(true)
    const health = await (await fetch(`http://127.0.0.1:${relay.port}/healthz`)).json()
    expect(health).toMatchObject({ registered: 5, refused: expect.objectContaining({ registrations: 8 }) })
    expect((await syncOnce({ host: member!, secret: SECRET, peers: [relay.url], relay: { url: relay.url }, timeoutMs: 3000 })).peers[0]!.outcome).toBe('synced')
  })

  it('the total cap refuses new spaces whatever their address', async () => {
    const relay = await startRelay(r, { registration: { burst: 100, perHour: 100, maxSpaces: 3 } })
    const results: string[] = []
    for (let i = 0; i < 5; i++) {
      const h = new MemoryHost(newSpaceId(), `s${i}`)
      const res = await syncOnce({ host: h, secret: `${SECRET}-${i}`, peers: [relay.url], relay: { url: relay.url }, timeoutMs: 3000 })
      results.push(res.peers[0]!.outcome === 'synced' ? 'ok' : res.peers[0]!.error ?? 'failed')
    }
    expect(results.slice(0, 3)).toEqual(['ok', 'ok', 'ok'])
    expect(results.slice(3).every((e) => /most spaces it allows/.test(e))).toBe(true)
  })

  it('expiry: a space used only by its registering session goes after the unconfirmed TTL, a used one after the idle TTL', async () => {
    const DAY = 24 * 3600_000
    const limits = { burst: 1, perHour: 1, maxSpaces: 1, unconfirmedTtlMs: 7 * DAY, idleTtlMs: 180 * DAY }
    const now = Date.parse('2026-06-01T00:00:00Z')
    const at = (days: number) => new Date(now - days * DAY).toISOString()
    expect(expired({ space: newSpaceId(), registeredAt: at(8) }, limits, now)).toBe(true)
    expect(expired({ space: newSpaceId(), registeredAt: at(6) }, limits, now)).toBe(false)
    expect(expired({ space: newSpaceId(), registeredAt: at(100), lastSeenAt: at(8), confirmed: true }, limits, now)).toBe(false)
    expect(expired({ space: newSpaceId(), registeredAt: at(400), lastSeenAt: at(181), confirmed: true }, limits, now)).toBe(true)

    const storage = memoryRelayStorage()
    const relay = await startRelay(r, { storage, idleUnloadMs: 20, registration: { unconfirmedTtlMs: 7 * DAY } })
    const [once] = hostsInSpace('once')
    const [used, used2] = hostsInSpace('used', 'used2')
    once!.set('a.yaml', 'k', 1)
    used!.set('b.yaml', 'k', 2)
    for (const h of [once!, used!, used2!]) await syncOnce({ host: h, secret: SECRET, peers: [relay.url], relay: { url: relay.url }, timeoutMs: 3000 })
    await waitFor(() => storage.seen.get(used!.spaceId)?.confirmed === true, 2000, 'the second session noted')
    // Unloaded (idle), then a sweep eight days on: only the space used once is forgotten.
    const loaded = async () => (await (await fetch(`http://127.0.0.1:${relay.port}/healthz`)).json()).spaces as number
    for (let t = Date.now(); (await loaded()) > 0; ) {
      if (Date.now() - t > 3000) throw new Error('spaces stayed loaded')
      await new Promise((res) => setTimeout(res, 20))
    }
    expect(await relay.sweep(Date.now() + 8 * DAY)).toBe(1)
    expect(storage.registrations.has(once!.spaceId)).toBe(false)
    expect(storage.registrations.has(used!.spaceId)).toBe(true)
    // Forgotten means free again: another key may register that id now.
    const squatter = new MemoryHost(once!.spaceId, 'new-owner')
    expect((await syncOnce({ host: squatter, secret: `${SECRET}-other`, peers: [relay.url], relay: { url: relay.url }, timeoutMs: 3000 })).peers[0]!.outcome).toBe('synced')
  })
})

describe('watch listener: strangers bounded', () => {
  it('a TCP flood of a peer listener leaves room for a member; the silent are closed at the deadline', async () => {
    const listener = await listen({ host: '127.0.0.1', port: 0, limits: { maxConnections: 40, maxPending: 10, maxPendingPerAddress: 5, handshakeMs: 500 } })
    const accepted: unknown[] = []
    listener.onConnection((t) => accepted.push(t))
    try {
      const flood = await tcpFlood(listener.port, 100)
      // A WebSocket from a member's address still gets through the upgrade.
      const { WebSocket } = await import('ws')
      const ws = new WebSocket(listener.url)
      await new Promise<void>((res, rej) => {
        ws.once('open', () => res())
        ws.once('error', rej)
      })
      expect(accepted).toHaveLength(1)
      ws.close()
      await waitFor(() => flood.every(closed), 3000, 'the flood closed at the deadline')
    } finally {
      await listener.close()
    }
  })
})

describe('relay: /healthz tells of spaces that fail', () => {
  it('a space whose store cannot be loaded: its peers are refused, /healthz says degraded and names it; other spaces sync', async () => {
    const storage = memoryRelayStorage()
    const [broken] = hostsInSpace('broken')
    const docs = storage.docs.bind(storage)
    storage.docs = (space) => {
      const store = docs(space)
      if (space !== broken!.spaceId) return store
      return Object.assign(Object.create(store) as typeof store, {
        list: async () => ['x.yaml'],
        load: async () => {
          throw new Error('x.yaml: log damaged at byte 120')
        },
      })
    }
    const relay = await startRelay(r, { storage })
    broken!.set('x.yaml', 'k', 1)
    const res = await syncOnce({ host: broken!, secret: SECRET, peers: [relay.url], relay: { url: relay.url }, timeoutMs: 3000 })
    expect(res.peers[0]!.outcome).not.toBe('synced')
    const h = await (await fetch(`http://127.0.0.1:${relay.port}/healthz`)).json()
    expect(h).toMatchObject({ status: 'degraded', failedSpaces: 1, failed: [expect.objectContaining({ space: broken!.spaceId, error: expect.stringMatching(/cannot load: .*log damaged/) })] })
    const [fine] = hostsInSpace('fine')
    fine!.set('y.yaml', 'k', 2)
    expect((await syncOnce({ host: fine!, secret: SECRET, peers: [relay.url], relay: { url: relay.url }, timeoutMs: 3000 })).peers[0]!.outcome).toBe('synced')
  })
})

