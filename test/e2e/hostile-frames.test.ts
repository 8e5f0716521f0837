/**
 * Hostile frames against the real processes, over real WebSockets on 127.0.0.1: a running `ctxsync watch`
 * and a running `ctxsync serve` each take a few thousand random and mutated frames from strangers (before
 * authentication) and from peers that know the secret (after it: the real handshake from dist/net, then
 * sealed, mutated messages; see bench/hostile-wire.mjs). Every frame sent is one a correct receiver must
 * refuse, so afterwards: the process is alive, no tracked file, sidecar or relay store changed by a byte,
 * every connection was closed with a documented code, frames over the limit got 1009, and a good peer still
 * syncs. The long run of the same (100 000 frames) is bench/fuzz-frames.mjs. FUZZ_SEED replays a run.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
// @ts-expect-error: a plain .mjs module shared with the benchmark (no types)
import * as wire from '../../bench/hostile-wire.mjs'
import {
  ctx, edit, expectOk, fileState, killAll, readFile, removeTmpDirs, setupSpace, SMALL_TODOS, startWatch, TODOS,
  waitFileEquals, waitFor, type Peer,
} from './helpers.js'
import { relayTree, secretOf, seedOf, spaceIdOf, spaceState, withSeed } from './hostile-helpers.js'
import { killRelayProcs, registrySpace, startServe } from './relay-helpers.js'

afterEach(async () => {
  await killRelayProcs()
  await killAll()
})
afterAll(removeTmpDirs)

const KNOWLEDGE = '.rhema/knowledge.yaml'
const files = { [TODOS]: SMALL_TODOS, [KNOWLEDGE]: 'entries:\n  - id: k1\n    text: "kept"\n' }

/** Sends one frame of `bytes` bytes (zeros) and returns the close code it earned. */
async function oversized(url: string, bytes: number, auth?: { spaceId: string; secret: string }): Promise<number> {
  const conn = await wire.openRaw(url)
  const s = auth ? await wire.authenticate(conn, auth) : null
  conn.send(s ? s.seal(new Uint8Array(bytes)) : new Uint8Array(bytes))
  return (await conn.whenClosed).code
}

/** lib0 varUints, as a Yjs state vector is written. */
function varUints(ns: number[]): Uint8Array {
  const out: number[] = []
  for (let n of ns) {
    while (n > 0x7f) {
      out.push((n & 0x7f) | 0x80)
      n = Math.floor(n / 128)
    }
    out.push(n)
  }
  return Uint8Array.from(out)
}

function expectDocumented(codes: Array<number | string>): void {
  const odd = codes.filter((c) => !wire.DOCUMENTED_CODES.includes(c))
  expect(odd, `close codes outside the documented set: ${wire.histogram(odd)}`).toEqual([])
}

describe('e2e: hostile frames', { timeout: 180_000 }, () => {
  it('watch: thousands of hostile frames before and after authentication change nothing; it still syncs', async () => {
    const seed = seedOf()
    await withSeed('watch fuzz', seed, async () => {
      const rand = wire.mulberry32(seed)
      const { peers } = await setupSpace(['a', 'b'], { files })
      const [a, b] = peers as [Peer, Peer]
      const da = await startWatch(a)
      const before = spaceState(a)
      const spaceId = spaceIdOf(a)
      const secret = secretOf(a)
      const t0 = Date.now()
      const pre = await wire.fuzzPreAuth(a.url, { rand, spaceId, connections: 500 })
      const post = await wire.fuzzPostAuth(a.url, { rand, spaceId, secret, names: [TODOS, KNOWLEDGE], connections: 250 })
      const tooBig = [await oversized(a.url, 9 << 20), await oversized(a.url, 9 << 20, { spaceId, secret })]
      console.log(`watch fuzz (FUZZ_SEED=${seed}): ${pre.frames} frames before auth, ${post.frames} after (${post.authenticated} sessions), ` +
        `${Date.now() - t0} ms; closes ${wire.histogram([...pre.codes, ...post.codes])}`)

      expect(pre.frames + post.frames).toBeGreaterThan(3500)
      expect(post.authenticated).toBe(250)
      expectDocumented([...pre.codes, ...post.codes])
      expect(tooBig).toEqual([1009, 1009])
      expect(da.proc.exitCode, da.log()).toBeNull()
      expect(spaceState(a)).toEqual(before)
      expect(da.log()).not.toMatch(/internal error|TypeError|RangeError|Unhandled/)

      // A good peer still syncs, both ways.
      await startWatch(b)
      const fromB = await edit(b, 'title: "Second task"', 'title: "Second task, after the storm"')
      await waitFileEquals(a, fromB)
      const fromA = await edit(a, 'status: open\n  - id: t3', 'status: done\n  - id: t3')
      await waitFileEquals(b, fromA)
    })
  })

  it('serve: thousands of hostile frames before and after authentication change nothing; peers still sync', async () => {
    const seed = seedOf()
    await withSeed('serve fuzz', seed, async () => {
      const rand = wire.mulberry32(seed)
      const relay = await startServe()
      const { peers } = await registrySpace(['a', 'b'], relay.url, files)
      const [a, b] = peers as [Peer, Peer]
      await expectOk(ctx(a.dir, ['sync']))
      const before = relayTree(relay.data)
      const spaceId = spaceIdOf(a)
      const secret = secretOf(a)
      const t0 = Date.now()
      const pre = await wire.fuzzPreAuth(relay.url, { rand, spaceId, connections: 500 })
      const post = await wire.fuzzPostAuth(relay.url, { rand, spaceId, secret, names: [TODOS, KNOWLEDGE], connections: 250 })
      // The relay's default limit is 1 MiB (`serve --max-frame`).
      const tooBig = [await oversized(relay.url, 2 << 20), await oversized(relay.url, 2 << 20, { spaceId, secret })]
      console.log(`serve fuzz (FUZZ_SEED=${seed}): ${pre.frames} frames before auth, ${post.frames} after (${post.authenticated} sessions), ` +
        `${Date.now() - t0} ms; closes ${wire.histogram([...pre.codes, ...post.codes])}`)

      expect(pre.frames + post.frames).toBeGreaterThan(3500)
      expect(post.authenticated).toBe(250)
      expectDocumented([...pre.codes, ...post.codes])
      expect(tooBig).toEqual([1009, 1009])
      expect(relay.proc.exitCode, relay.log()).toBeNull()
      expect(relayTree(relay.data)).toEqual(before)
      const health = await fetch(`http://127.0.0.1:${relay.port}/healthz`)
      expect(health.status).toBe(200)

      const fromA = await edit(a, 'title: "First task"', 'title: "First task, after the storm"')
      await expectOk(ctx(a.dir, ['sync']))
      await expectOk(ctx(b.dir, ['sync']))
      expect(readFile(b)).toBe(fromA)
    })
  })

  it('watch: a manifest claiming clocks nobody wrote does not mark later local edits as sent', async () => {
    const { peers } = await setupSpace(['a'], { files })
    const [a] = peers as [Peer]
    await startWatch(a)
    // a's own edit: its manifest now lists a's writing client, which a liar can then claim far ahead.
    await edit(a, 'title: "First task"', 'title: "First task, edited"')
    await waitFor(async () => (await fileState(a))?.state === 'pending', 10_000, 'the first edit to show as pending')
    const conn = await wire.openRaw(a.url)
    const s = await wire.authenticate(conn, { spaceId: spaceIdOf(a), secret: secretOf(a) })
    await waitFor(() => conn.frames.length >= 4, 5000, "a's manifest")
    const manifest = [s.first, ...wire.readSealed(conn, s)].find((m) => m.type === 'Manifest')
    const entries = manifest.entries.map((e: { doc: { name: string }; stateVector: Uint8Array }) => {
      const sv = Y.decodeStateVector(e.stateVector)
      return { doc: e.doc, stateVector: varUints([sv.size, ...[...sv].flatMap(([client, clock]) => [client, clock + 1_000_000])]) }
    })
    conn.send(s.seal(wire.encodeMessage({ type: 'Manifest', entries })))
    conn.send(s.seal(wire.encodeMessage({ type: 'ManifestEnd' })))
    await waitFor(async () => (await fileState(a))?.state === 'synced', 10_000, 'the claim to be taken for what a holds')
    conn.close()
    // What a writes next, nobody has: it must show as pending, whatever was claimed.
    await edit(a, 'title: "Second task"', 'title: "Second task, never sent"')
    await waitFor(async () => (await fileState(a))?.state === 'pending', 10_000, 'the second edit to show as pending')
  })
})
