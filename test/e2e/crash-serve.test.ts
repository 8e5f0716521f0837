/**
 * kill -9 of the relay (`ctxsync serve`, the built CLI) at random moments while writers keep pushing to it,
 * then a restart on the same --data dir: nothing the relay acknowledged is lost, and its store always loads
 * (a relay that cannot start again, or a lost update, fails the test).
 *
 * The writers are in-process hosts (a Y.Doc each) using the real one-shot sync (`syncOnce`, what `ctxsync
 * sync` runs) over real WebSockets: a run whose outcome is `synced` had the relay confirm it applied — and
 * made durable — everything the writer held, which is exactly "acknowledged". Spawning a CLI per push would
 * only make the cycles slower, not the relay's side any more real.
 *
 * Kill count: CTXSYNC_CRASH_KILLS (default 30: CI's 15 minutes; the bench does thousands); seed: CTXSYNC_CRASH_SEED.
 */
import * as Y from 'yjs'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { FileModel } from '../../src/crdt/model.js'
import { asDocName, newPeerId, newSpaceId, type DocName, type PeerId, type SpaceId } from '../../src/ids.js'
import { syncOnce } from '../../src/net/sync-once.js'
import type { PeerInfo, SyncHost } from '../../src/net/SyncHost.js'
import { rng } from '../helpers/faultProxy.js'
import { removeTmpDirs } from './helpers.js'
import { killRelayProcs, startServe, type Relay } from './relay-helpers.js'

afterEach(killRelayProcs)
afterAll(removeTmpDirs)

const KILLS = Number(process.env.CTXSYNC_CRASH_KILLS) || 30
const SEED = Number(process.env.CTXSYNC_CRASH_SEED) || Date.now() % 1_000_000
const SECRET = 'crash-serve-secret-0123456789abcdefghijklmnopq'
const DOC = asDocName('.rhema/todos.yaml')
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * One document in memory, a real model's (the relay refuses updates outside the model's schema); what
 * arrives from the relay is applied to it. A writer adds `key: value` lines to what it renders.
 */
class MemHost implements SyncHost {
  readonly self: PeerInfo
  readonly model: FileModel
  readonly doc: Y.Doc
  readonly #listeners = new Set<(doc: DocName, u: Uint8Array, origin: PeerId | null) => void>()
  constructor(readonly spaceId: SpaceId, name: string) {
    this.self = { id: newPeerId(), name, kind: 'agent' }
    this.model = new FileModel({ name: DOC, author: { id: this.self.id, name, kind: 'agent' } })
    this.doc = this.model.doc
    this.doc.on('update', (u: Uint8Array, origin: unknown) => {
      if (origin !== 'remote') for (const l of this.#listeners) l(DOC, u, null)
    })
  }
  docNames(): DocName[] { return this.doc.store.clients.size ? [DOC] : [] }
  stateVector(): Uint8Array { return Y.encodeStateVector(this.doc) }
  encodeDiff(_d: DocName, sv: Uint8Array): Uint8Array | null {
    const u = Y.encodeStateAsUpdate(this.doc, sv)
    return u.length <= 2 ? null : u
  }
  acceptDoc(name: string): name is DocName { return name === DOC }
  async applyRemote(_d: DocName, u: Uint8Array): Promise<void> { this.model.applyRemote(u, 'remote') }
  onUpdate(l: (doc: DocName, u: Uint8Array, origin: PeerId | null) => void): () => void {
    this.#listeners.add(l)
    return () => this.#listeners.delete(l)
  }
  write(key: string, value: number): void {
    const r = this.model.render()
    const line = `${key}: ${value}\n`
    if (!r.text) return void this.model.enroll(line)
    this.model.setBase(r)
    this.model.ingest(r.text + line)
  }
  keys(): string[] { return [...(this.model.render().text ?? '').matchAll(/^(w\d+-\d+):/gm)].map((m) => m[1]!) }
}

const push = async (host: MemHost, url: string, timeoutMs = 1500) =>
  (await syncOnce({ host, secret: SECRET, peers: [url], relay: { url }, timeoutMs })).peers[0]!

describe('e2e: kill -9 of the relay', { timeout: 300_000 }, () => {
  it(`serve: killed ${KILLS} times while writers push; every acknowledged update survives each restart`, async () => {
    const random = rng(SEED)
    console.log(`[crash serve] seed ${SEED}, ${KILLS} kills`)
    let relay: Relay = await startServe()
    const spaceId = newSpaceId()
    const acked = new Set<string>()
    const writers = [0, 1, 2].map((i) => new MemHost(spaceId, `w${i}`))
    let on = true
    let pushes = 0
    let ackedPushes = 0
    const loops = writers.map(async (w, i) => {
      for (let k = 0; on; k++) {
        w.write(`w${i}-${k}`, k)
        const held = w.keys()
        const r = await push(w, relay.url).catch(() => undefined)
        pushes++
        if (r?.outcome === 'synced') {
          ackedPushes++
          for (const key of held) acked.add(key)
        } else await sleep(20)
      }
    })
    const warnings: string[] = []
    try {
      for (let k = 0; k < KILLS; k++) {
        await sleep(50 + Math.floor(random() * 650))
        const before = new Set(acked)
        relay.proc.kill('SIGKILL')
        await relay.proc.catch(() => undefined)
        relay = await startServe({ port: relay.port, data: relay.data }).catch((e: Error) => {
          throw new Error(`kill ${k + 1}: the relay does not start again on its data: ${e.message}`)
        })
        warnings.push(...relay.log().split('\n').filter((l) => /warn|recover|corrupt/i.test(l)))
        const check = new MemHost(spaceId, 'checker')
        const r = await push(check, relay.url, 10_000)
        expect(r.outcome, `kill ${k + 1}: checker sync: ${r.error}`).toBe('synced')
        const have = new Set(check.keys())
        const lost = [...before].filter((key) => !have.has(key))
        expect(lost, `kill ${k + 1}: acknowledged updates missing after the restart`).toEqual([])
      }
    } catch (e) {
      ;(e as Error).message = `[crash serve] seed ${SEED}: ${(e as Error).message}\nrelay log:\n${relay.log()}`
      throw e
    } finally {
      on = false
      await Promise.all(loops)
    }
    console.log(`[crash serve] ${KILLS} kills; ${pushes} pushes, ${ackedPushes} acknowledged, ${acked.size} values acknowledged; relay warnings: ${warnings.length}`)
    expect(ackedPushes).toBeGreaterThan(KILLS)
    // Everything every writer holds, pushed once more after the last restart, is there — once each.
    for (const w of writers) expect((await push(w, relay.url, 10_000)).outcome).toBe('synced')
    const final = new MemHost(spaceId, 'final')
    expect((await push(final, relay.url, 10_000)).outcome).toBe('synced')
    const all = writers.flatMap((w) => w.keys())
    expect(final.keys().sort()).toEqual([...new Set(all)].sort())
  })
})
