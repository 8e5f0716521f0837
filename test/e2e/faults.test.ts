/**
 * Network faults, end to end: five `ctxsync watch` daemons keep editing one todos file while every link
 * between them goes through a FaultProxy (test/helpers/faultProxy.ts) that adds latency, drops, duplicates
 * and reorders whole WebSocket frames, cuts connections and partitions them (refusing, or stalling like a
 * blackhole). Then the network heals and every peer must hold byte-identical files that parse, with every
 * peer's own edits present, nothing doubled (no id twice) and nothing deleted that its owner kept.
 *
 * Two shapes: through a relay (`ctxsync serve`; each peer in registry mode dials the relay through its own
 * proxy), and peer to peer (a ring: peer i dials peer i+1 through the proxy in front of i+1).
 *
 * Healing cuts every connection once: a frame dropped at the very end of a stream is otherwise never
 * noticed on a plaintext relay link (nothing follows it to fail) — after a real outage TCP resets those
 * connections anyway, and the peers must then resync from state vectors.
 *
 * Seeded: the seed is printed and named on failure (replay with CTXSYNC_FAULT_SEED). Knobs for long runs:
 * CTXSYNC_FAULT_RUNS (seeds per scenario, default 1), CTXSYNC_FAULT_SECONDS (editing time, default 15).
 */
import { parse } from 'yaml'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { FaultProxy, rng } from '../helpers/faultProxy.js'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { chaos, Editor, expectNoDuplicateIds, FAULT_TODOS, faultTotals, seeds, withSeed } from './faultRig.js'
import {
  clone, ctx, expectOk, explained, freePort, git, killAll, lastLine, makeRepo, readFile, removeTmpDirs, startWatch, stopWatch,
  TODOS, waitSame, type Daemon, type Peer,
} from './helpers.js'
import { killRelayProcs, startRegistryWatch, startServe } from './relay-helpers.js'

const N = 5
const EDIT_MS = (Number(process.env.CTXSYNC_FAULT_SECONDS) || 15) * 1000
const HEAL_MS = 90_000
const proxies: FaultProxy[] = []

afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()))
  await killRelayProcs()
  await killAll()
})
afterAll(removeTmpDirs)

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Five clones of one commit in one space, every init with `--discovery none` (links come from the test). */
async function fivePeers(): Promise<Peer[]> {
  const origin = await makeRepo({ [TODOS]: FAULT_TODOS(N) })
  const ports = await Promise.all(Array.from({ length: N }, () => freePort()))
  const peers: Peer[] = ports.map((port, i) => ({ name: `p${i}`, dir: '', port, url: `ws://127.0.0.1:${port}` }))
  const init = (p: Peer, more: string[]) => expectOk(ctx(p.dir, ['init', '--name', p.name, '--port', String(p.port), '--discovery', 'none', ...more]))
  peers[0]!.dir = await clone(origin, 'p0')
  await init(peers[0]!, [])
  await git(peers[0]!.dir, ['add', 'ctxsync.yaml', '.gitignore'])
  await git(peers[0]!.dir, ['commit', '-qm', 'ctxsync'])
  const code = lastLine((await expectOk(ctx(peers[0]!.dir, ['invite']))).stdout)
  await Promise.all(peers.slice(1).map(async (p) => {
    p.dir = await clone(peers[0]!.dir, p.name)
    await init(p, ['--join', code])
  }))
  return peers
}

/** Edits under chaos, heal, and the verdict. */
async function scenario(name: string, seed: number, peers: Peer[], daemons: Daemon[]): Promise<void> {
  const editors = peers.map((p, i) => new Editor(i, p, () => daemons[i]!, rng(seed * 31 + i)))
  let running = true
  const t0 = Date.now()
  const chaosDone = chaos(proxies, seed, () => running)
  await Promise.all(editors.map(async (e) => {
    while (Date.now() - t0 < EDIT_MS) {
      await e.step()
      await sleep(80 + Math.floor(e.random() * 320))
    }
  }))
  running = false
  const chaosLog = await chaosDone
  const injected = faultTotals(proxies)
  const healedAt = Date.now()
  for (const p of proxies) p.heal({ cut: true })

  const complete = (t: string) => {
    try {
      for (const e of editors) e.check(t)
      return true
    } catch {
      return false
    }
  }
  // CTXSYNC_FAULT_DEBUG: every daemon's log kept for reading (with CTXSYNC_E2E_DEBUG=ctxsync:* for details).
  const keepLogs = () => process.env.CTXSYNC_FAULT_DEBUG && fs.writeFileSync(path.join(os.tmpdir(), `ctxsync-faults-${name}-${seed}.log`), daemons.map((d) => `=== ${d.peer.name}\n${d.log()}`).join('\n'))
  const text = await explained(waitSame(peers, TODOS, complete, HEAL_MS), peers, daemons).catch((e: Error) => {
    keepLogs()
    e.message += `\nfaults injected: ${chaosLog.join('\n')}`
    throw e
  })
  keepLogs()
  const healMs = Date.now() - healedAt
  for (const e of editors) e.check(text)
  expectNoDuplicateIds(text)
  expect(() => parse(text)).not.toThrow()
  const edits = editors.reduce((n, e) => n + e.edits, 0)
  const reapplied = editors.reduce((n, e) => n + e.reapplied, 0)
  const keptOnce = editors.reduce((n, e) => n + e.keptOnce, 0)
  console.log(`[${name}] seed ${seed}: ${edits} edits by ${N} peers in ${EDIT_MS / 1000} s, converged ${healMs} ms after healing; ` +
    `faults ${JSON.stringify(injected)}; ${chaosLog.length} chaos steps; own edits re-applied ${reapplied}, deletions kept once ${keptOnce}`)
  expect(injected.frames).toBeGreaterThan(100)
  expect(injected.cuts + injected.refused).toBeGreaterThan(0)
  // A peer's own write is never undone behind its back: re-applying happens only after a lost write. The
  // failure names what was undone and carries every daemon's log, conflicts and status.
  if (reapplied > 0) {
    await explained(Promise.reject(new Error(`own edits found undone at the next edit:\n${editors.flatMap((e) => e.reapplies).join('\n')}`)), peers, daemons)
  }

  // A clean stop keeps everything; the files stay identical.
  for (const d of daemons) expect(await stopWatch(d), `${d.peer.name} exit code`).toBe(0)
  for (const p of peers) expect(readFile(p), p.name).toBe(text)
}

describe('e2e: network faults', { timeout: 600_000 }, () => {
  it('five peers and a relay, each peer on its own faulty link: healed, identical, nothing lost or doubled', async () => {
    for (const seed of seeds()) {
      await withSeed('relay', seed, async () => {
        console.log(`[relay] seed ${seed}`)
        const relay = await startServe()
        const peers = await fivePeers()
        for (let i = 0; i < N; i++) proxies.push(await FaultProxy.start(relay.port, { seed: seed + i }))
        const daemons = await Promise.all(peers.map((p, i) => startRegistryWatch(p, {}, ['--registry', proxies[i]!.url])))
        await scenario('relay', seed, peers, daemons)
        await Promise.all(proxies.splice(0).map((p) => p.close()))
        await killRelayProcs()
      })
    }
  })

  it('five peers in a ring, every link through a faulty proxy: healed, identical, nothing lost or doubled', async () => {
    for (const seed of seeds()) {
      await withSeed('ring', seed, async () => {
        console.log(`[ring] seed ${seed}`)
        const peers = await fivePeers()
        for (let i = 0; i < N; i++) proxies.push(await FaultProxy.start(peers[i]!.port, { seed: seed + i }))
        const daemons: Daemon[] = []
        for (let i = 0; i < N; i++) daemons.push(await startWatch(peers[i]!, ['--peer', proxies[(i + 1) % N]!.url]))
        await scenario('ring', seed, peers, daemons)
        await Promise.all(proxies.splice(0).map((p) => p.close()))
      })
    }
  })
})
