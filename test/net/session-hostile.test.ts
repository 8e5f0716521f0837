/**
 * Hostile wires: a man in the middle replaying, reordering, dropping or altering sealed frames, and seeded
 * fuzzing of sessions before and after authentication. Set FUZZ_SEED to replay a failure.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { deriveCredentials } from '../../src/net/auth.js'
import { createConnectedPair } from '../../src/net/memory.js'
import { encodeMessage, MessageTag, PROTOCOL_VERSION, type Message } from '../../src/net/protocol.js'
import { PeerSession } from '../../src/net/session.js'
import { newPeerId } from '../../src/ids.js'
import { hostsInSpace, MemoryHost, SECRET, seededRandom } from './helpers.js'
import { rawPeer } from './session-helpers.js'

type Hook = (index: number, frame: Uint8Array, deliver: (f: Uint8Array) => void) => void

/** a ⇄ middleman ⇄ b; `hook` sees every frame a sends to b. */
function middleman(a: MemoryHost, b: MemoryHost, hook: Hook) {
  const [ta, ma] = createConnectedPair()
  const [mb, tb] = createConnectedPair()
  let i = 0
  ma.on('message', (f) => hook(i++, f, (x) => mb.send(x)))
  mb.on('message', (f) => ma.send(f))
  ma.on('close', (c, r) => mb.close(c, r))
  mb.on('close', (c, r) => ma.close(c, r))
  const mk = (host: MemoryHost, t: typeof ta, role: 'dial' | 'accept') =>
    new PeerSession({ host, transport: t, role, credentials: deriveCredentials(SECRET, host.spaceId) })
  const sa = mk(a, ta, 'dial')
  const sb = mk(b, tb, 'accept')
  sa.start()
  sb.start()
  return { sa, sb }
}

describe('a man in the middle (frames after authentication are sealed)', () => {
  // Frames 0 and 1 from the dialler are Hello and Auth; 2 (Manifest) is the first sealed one.
  const cases: Record<string, Hook> = {
    tampered: (i, f, deliver) => {
      if (i === 2) f[f.length - 20]! ^= 0x40
      deliver(f)
    },
    replayed: (i, f, deliver) => {
      deliver(f)
      if (i === 2) deliver(f)
    },
    dropped: (i, f, deliver) => {
      if (i !== 2) deliver(f)
    },
    'dropped then resent (reordered)': (() => {
      let held: Uint8Array | undefined
      return (i: number, f: Uint8Array, deliver: (f: Uint8Array) => void) => {
        if (i === 2) held = f
        else deliver(f)
        if (i === 3) deliver(held!)
      }
    })(),
  }
  for (const [name, hook] of Object.entries(cases)) {
    it(`${name} frame → 1002, nothing applied`, async () => {
      const [a, b] = hostsInSpace('a', 'b')
      a.set('doc.yaml', 'k', 'v')
      const { sb } = middleman(a, b, hook)
      const closed = await sb.whenClosed
      expect(closed.code).toBe(1002)
      expect(closed.reason).toMatch(/authentication/)
      expect(b.dataCalls.some((c) => c.startsWith('applyRemote'))).toBe(false)
    })
  }
})

function randomBytes(rand: () => number, max: number): Uint8Array {
  return new Uint8Array(Math.floor(rand() * max)).map(() => Math.floor(rand() * 256))
}

function mutate(rand: () => number, bytes: Uint8Array): Uint8Array {
  let out = bytes.slice()
  const n = 1 + Math.floor(rand() * 3)
  for (let e = 0; e < n && out.length > 0; e++) {
    const at = Math.floor(rand() * out.length)
    const op = rand()
    if (op < 0.6) out[at] = Math.floor(rand() * 256)
    else if (op < 0.8) out = out.subarray(0, at)
    else out = Uint8Array.from([...out.subarray(0, at), ...randomBytes(rand, 8), ...out.subarray(at)])
  }
  return out
}

function fuzzSeed(): number {
  return Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000)
}

async function withSeed(name: string, seed: number, body: () => Promise<void>): Promise<void> {
  try {
    await body()
  } catch (err) {
    console.error(`${name} failed with FUZZ_SEED=${seed}`)
    throw err
  }
}

describe('fuzzing sessions', () => {
  it('before authentication: thousands of hostile frames, no crash, host never touched', async () => {
    const seed = fuzzSeed()
    await withSeed('unauthenticated fuzz', seed, async () => {
      const rand = seededRandom(seed)
      const [a] = hostsInSpace('a')
      a.set('private.yaml', 'k', 'v')
      a.dataCalls.length = 0
      const hello = encodeMessage({
        type: 'Hello', proto: PROTOCOL_VERSION, spaceId: a.spaceId, nonce: new Uint8Array(32), role: 'dial',
        maxFrameBytes: 1 << 20, peer: { id: newPeerId(), name: 'fuzz', kind: 'agent' }, flags: { oneShot: false, peek: false },
      })
      const raws = await Promise.all(
        Array.from({ length: 500 }, () => rawPeer(a, { tuning: { handshakeTimeoutMs: 300 } })),
      )
      let frames = 0
      for (const raw of raws) {
        const n = 1 + Math.floor(rand() * 8)
        for (let k = 0; k < n; k++) {
          const pick = rand()
          let f: Uint8Array
          if (pick < 0.3) f = randomBytes(rand, 80)
          else if (pick < 0.6) f = mutate(rand, hello)
          else if (pick < 0.75) f = k === 0 ? hello : Uint8Array.from([MessageTag.Auth, 64, ...randomBytes(rand, 64)])
          else f = Uint8Array.from([1 + Math.floor(rand() * 11), ...randomBytes(rand, 40)])
          if (f.length > 0 && rand() < 0.3) f[0] = 1 + Math.floor(rand() * 11)
          raw.sendRaw(f)
          frames++
        }
      }
      const closed = await Promise.all(raws.map((r) => r.session.whenClosed))
      expect(frames).toBeGreaterThan(2000)
      for (const c of closed) expect([1002, 1008, 1009, 4401, 4403]).toContain(c.code)
      expect(raws.some((r) => r.session.authenticated)).toBe(false)
      expect(a.dataCalls).toEqual([])
      expect(Object.keys(a.snapshot())).toEqual(['private.yaml'])
    })
  })

  it('after authentication: malformed and mutated messages never crash and never get past acceptDoc', async () => {
    const seed = fuzzSeed()
    await withSeed('authenticated fuzz', seed, async () => {
      const rand = seededRandom(seed)
      const [a] = hostsInSpace('a')
      const src = new Y.Doc()
      src.getMap('root').set('status', 'done')
      const goodUpdate = Y.encodeStateAsUpdate(src)
      const goodSv = Y.encodeStateVector(src)
      const names = ['ok.yaml', '.rhema/todos.yaml', '../up.yaml', '/abs.yaml', 'a\\b.yaml', 'nul\0.yaml', '']
      const samples: Message[] = [
        { type: 'Update', doc: { name: 'ok.yaml' }, update: goodUpdate },
        { type: 'Update', doc: { id: 1 }, update: goodUpdate },
        { type: 'SyncStep2', doc: { name: '.rhema/todos.yaml' }, update: goodUpdate },
        { type: 'Ack', seq: 1 },
        { type: 'Manifest', entries: [{ doc: { name: 'ok.yaml' }, stateVector: goodSv }] },
        { type: 'Peers', peers: [] },
        { type: 'Welcome', access: 'write', mac: new Uint8Array(32) },
        { type: 'ManifestEnd' },
        { type: 'Step2End' },
        { type: 'Synced' },
        { type: 'Chunk', id: 1, index: 0, total: 2, bytes: Uint8Array.of(8, 1) },
      ]
      const raws = await Promise.all(Array.from({ length: 40 }, () => rawPeer(a, { authenticate: true })))
      for (const raw of raws) {
        for (let k = 0; k < 60; k++) {
          const base = samples[Math.floor(rand() * samples.length)]!
          let m: Message = base
          if ('doc' in base && rand() < 0.4) m = { ...base, doc: rand() < 0.2 ? { id: 1 + Math.floor(rand() * 4) } : { name: names[Math.floor(rand() * names.length)]! } }
          if ('update' in m && rand() < 0.5) m = { ...m, update: mutate(rand, goodUpdate) }
          if ('stateVector' in m && rand() < 0.5) m = { ...m, stateVector: mutate(rand, goodSv) }
          let f = encodeMessage(m)
          if (rand() < 0.25) f = mutate(rand, f)
          raw.send(f)
        }
      }
      await new Promise((r) => setTimeout(r, 300))
      for (const raw of raws) {
        if (raw.session.closedInfo) expect([1002, 1008, 1009]).toContain(raw.session.closedInfo.code)
        else raw.session.close()
      }
      for (const call of a.dataCalls.filter((c) => c.startsWith('applyRemote'))) {
        expect(a.acceptDoc(call.slice('applyRemote '.length))).toBe(true)
      }
      for (const name of a.docs.keys()) expect(a.acceptDoc(name)).toBe(true)
    })
  })
})
