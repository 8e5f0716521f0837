/**
 * Access, proven against the real processes: a running `ctxsync watch` (peer to peer) and a running
 * `ctxsync serve` (relay). A wrong secret, a handshake replayed byte for byte (captured from a real
 * `ctxsync sync` by a recording TCP proxy, and from the handshake code), a proof for another space, a
 * token shown to a peer, tampered, expired and foreign tokens, and writes under a read-only token are each
 * refused with their close code — and the attacker received nothing but the other side's Hello (and, peer
 * to peer, its Auth: a signature) and the Error: no Manifest, no update, no document name.
 */
import fs from 'node:fs'
import net from 'node:net'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
// @ts-expect-error: a plain .mjs module shared with the benchmark (no types)
import * as wire from '../../bench/hostile-wire.mjs'
import {
  ctx, expectOk, freePort, killAll, removeTmpDirs, setupSpace, SMALL_TODOS, startWatch, TODOS, waitFor, type Peer,
} from './helpers.js'
import { relayTree, secretOf, spaceIdOf, spaceState } from './hostile-helpers.js'
import { killRelayProcs, registrySpace, startServe } from './relay-helpers.js'
import { deriveCredentials } from '../../dist/net/auth.js'
import { signToken } from '../../dist/net/tokens.js'
import { newSpaceId } from '../../dist/ids.js'

afterEach(async () => {
  await killRelayProcs()
  await killAll()
})
afterAll(removeTmpDirs)

const WRONG = 'w'.repeat(43)
const files = { [TODOS]: SMALL_TODOS }
const PRE_AUTH = ['Hello', 'Auth', 'Error']

/** What the attacker got: message types (plaintext frames only: nothing after the refusal is readable). */
function received(frames: Uint8Array[]): { types: string[]; bytes: number; text: string } {
  const types = frames.map((f) => {
    try {
      return wire.decodeMessage(f).type as string
    } catch {
      return 'unreadable'
    }
  })
  return { types, bytes: frames.reduce((n, f) => n + f.length, 0), text: Buffer.concat(frames).toString('latin1') }
}

/** Nothing but the handshake's own messages, and no trace of a document. */
function expectNothingLeaked(frames: Uint8Array[], allowed = PRE_AUTH): void {
  const r = received(frames)
  for (const t of r.types) expect(allowed, `received ${r.types.join(', ')}`).toContain(t)
  expect(r.text).not.toMatch(/\.rhema|todos|First task/)
}

/** Runs the real handshake and returns how it was refused (or 'open'). */
async function attempt(url: string, o: Record<string, unknown>): Promise<{ code: number | string; reason: string; frames: Uint8Array[] }> {
  const conn = await wire.openRaw(url)
  try {
    await wire.authenticate(conn, o)
  } catch {
    const c = await conn.whenClosed
    return { code: c.code, reason: c.reason, frames: conn.frames }
  }
  conn.close()
  return { code: 'open', reason: '', frames: conn.frames }
}

/** A loopback TCP proxy that records every byte the client sends. */
async function recordingProxy(target: number): Promise<{ url: string; recorded: Buffer[]; close: () => void }> {
  const port = await freePort()
  const recorded: Buffer[] = []
  const server = net.createServer((c) => {
    const up = net.connect(target, '127.0.0.1')
    c.on('data', (d) => recorded.push(Buffer.from(d)))
    c.pipe(up).pipe(c)
    c.on('error', () => up.destroy())
    up.on('error', () => c.destroy())
  })
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()))
  return { url: `ws://127.0.0.1:${port}`, recorded, close: () => server.close() }
}

/** Sends `bytes` on a fresh TCP connection; returns the server's WebSocket frames and its close code. */
async function replayRaw(port: number, bytes: Buffer): Promise<{ frames: Uint8Array[]; closeCode: number | null }> {
  const got: Buffer[] = []
  await new Promise<void>((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(bytes))
    s.on('data', (d) => got.push(Buffer.from(d)))
    s.on('close', () => resolve())
    s.on('error', () => resolve())
    setTimeout(() => s.destroy(), 10_000).unref()
  })
  const buf = Buffer.concat(got)
  let i = buf.indexOf('\r\n\r\n') + 4
  const frames: Uint8Array[] = []
  let closeCode: number | null = null
  while (i > 3 && i + 2 <= buf.length) {
    const op = buf[i]! & 0x0f
    let len = buf[i + 1]! & 0x7f
    let j = i + 2
    if (len === 126) (len = buf.readUInt16BE(j)), (j += 2)
    else if (len === 127) (len = Number(buf.readBigUInt64BE(j))), (j += 8)
    if (j + len > buf.length) break
    const payload = buf.subarray(j, j + len)
    if (op === 8) closeCode = payload.readUInt16BE(0)
    else frames.push(new Uint8Array(payload))
    i = j + len
  }
  return { frames, closeCode }
}

function kindOf(f: Uint8Array): string {
  try {
    return wire.decodeMessage(f).type
  } catch {
    return 'sealed'
  }
}

/** The client's WebSocket frames (masked) in a recorded stream, after its HTTP upgrade request. */
function clientFrames(buf: Buffer): Array<{ op: number; payload: Uint8Array; start: number; end: number }> {
  const out: Array<{ op: number; payload: Uint8Array; start: number; end: number }> = []
  let i = buf.indexOf('\r\n\r\n') + 4
  while (i > 3 && i + 2 <= buf.length) {
    const start = i
    const op = buf[i]! & 0x0f
    let len = buf[i + 1]! & 0x7f
    let j = i + 2
    if (len === 126) (len = buf.readUInt16BE(j)), (j += 2)
    else if (len === 127) (len = Number(buf.readBigUInt64BE(j))), (j += 8)
    const mask = buf.subarray(j, j + 4)
    j += 4
    const payload = new Uint8Array(buf.subarray(j, j + len)).map((b, k) => b ^ mask[k % 4]!)
    out.push({ op, payload, start, end: j + len })
    i = j + len
  }
  return out
}

describe('e2e: access', { timeout: 120_000 }, () => {
  it('watch: wrong secret, replayed handshakes, another space and a token are refused; nothing leaks', async () => {
    const { peers } = await setupSpace(['a', 'b'], { files })
    const [a, b] = peers as [Peer, Peer]
    let last = ''
    await startWatch(a)
    // A real `ctxsync sync` of b through a recording proxy (replayed below, once a holds b's state too).
    const proxy = await recordingProxy(a.port)
    await expectOk(ctx(b.dir, ['sync', '--peer', proxy.url]))
    proxy.close()
    await waitFor(() => { const s = JSON.stringify(spaceState(a)); const same = s === last; last = s; return same }, 10_000, 'a to settle')
    const before = spaceState(a)
    const spaceId = spaceIdOf(a)
    const secret = secretOf(a)

    const wrong = await attempt(a.url, { spaceId, secret: WRONG })
    expect([wrong.code, wrong.reason]).toEqual([4401, expect.stringMatching(/access refused/)])
    expectNothingLeaked(wrong.frames)

    const other = await attempt(a.url, { spaceId: newSpaceId(), secret })
    expect(other.code).toBe(4403)
    expectNothingLeaked(other.frames)

    // A peer takes no token: relays do (RelayAuth where the peer expects Auth is a protocol error).
    const token = signToken(deriveCredentials(secret, spaceId), { role: 'admin', exp: null })
    const shown = await attempt(a.url, { spaceId, token })
    expect(shown.code).toBe(1002)
    expectNothingLeaked(shown.frames)

    // The handshake code's own frames, replayed on a fresh connection: a's nonce is new, the proof is stale.
    const legit = await wire.openRaw(a.url)
    const s = await wire.authenticate(legit, { spaceId, secret })
    legit.close()
    const again = await wire.openRaw(a.url)
    for (const f of s.sent) again.send(f)
    expect((await again.whenClosed).code).toBe(4401)
    expectNothingLeaked(again.frames)
    const nonces = [s.hello, wire.decodeMessage(again.frames[0])].map((h: { nonce: Uint8Array }) => Buffer.from(h.nonce).toString('hex'))
    expect(nonces[0]).not.toBe(nonces[1])

    // The real `ctxsync sync`'s bytes, recorded above, replayed to a fresh connection.
    // Everything but its closing frame (which would end the replay before the server read the rest).
    const stream = Buffer.concat(proxy.recorded)
    const frames = clientFrames(stream)
    expect(frames.map((f) => (f.op === 2 ? kindOf(f.payload) : f.op))).toEqual(['Hello', 'Auth', ...frames.slice(2, -1).map(() => 'sealed'), 8])
    const replay = await replayRaw(a.port, stream.subarray(0, frames.at(-1)!.start))
    expect(replay.closeCode).toBe(4401)
    expectNothingLeaked(replay.frames)

    expect(spaceState(a)).toEqual(before)
  })

  it('serve: wrong secret, forged and replayed proofs, tampered, expired and foreign tokens get nothing; read-only writes are refused', async () => {
    const relay = await startServe()
    const { peers } = await registrySpace(['a'], relay.url, files)
    const [a] = peers as [Peer]
    await expectOk(ctx(a.dir, ['sync']))
    const before = relayTree(relay.data)
    const spaceId = spaceIdOf(a)
    const secret = secretOf(a)
    const creds = deriveCredentials(secret, spaceId)
    const now = Math.floor(Date.now() / 1000)
    const token = (role: string, exp: number | null, c = creds) => signToken(c, { role, exp })
    const good = token('write', now + 3600)
    const [head, claims, sig] = [good.slice(0, good.indexOf('.') + 1), ...good.slice(good.indexOf('.') + 1).split('.')] as [string, string, string]
    const raised = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(claims, 'base64url').toString()), role: 'admin' })).toString('base64url')

    const cases: Array<[string, Record<string, unknown>, number]> = [
      ['another key for the space', { spaceId, secret: WRONG }, 4403],
      ['an expired token', { spaceId, token: token('admin', now - 60) }, 4401],
      ['a tampered token', { spaceId, token: `${head}${raised}.${sig}` }, 4401],
      ['a token of another space', { spaceId, token: token('admin', null, deriveCredentials(secret, newSpaceId())) }, 4401],
      ['garbage as a token', { spaceId, token: 'ctxsync-token1.e30.AAAA' }, 4401],
    ]
    for (const [what, o, code] of cases) {
      const r = await attempt(relay.url, o)
      expect({ what, code: r.code }).toEqual({ what, code })
      expectNothingLeaked(r.frames, ['Hello', 'RelayProof', 'Error'])
    }

    // A relay proof replayed: the relay's nonce is fresh, so the old signature no longer verifies.
    const legit = await wire.openRaw(relay.url)
    const s = await wire.authenticate(legit, { spaceId, secret })
    legit.close()
    const again = await wire.openRaw(relay.url)
    for (const f of s.sent) again.send(f)
    expect((await again.whenClosed).code).toBe(4401)
    expectNothingLeaked(again.frames, ['Hello', 'RelayProof', 'Error'])

    // Read-only: it may receive, but the first change it sends closes the session with 4403.
    const reader = await wire.openRaw(relay.url)
    const r = await wire.authenticate(reader, { spaceId, token: token('read', now + 3600) })
    expect(r.access).toBe('read')
    const { good: update } = wire.updates()
    reader.send(r.seal(wire.encodeMessage({ type: 'Update', doc: { name: TODOS }, update })))
    expect((await reader.whenClosed).code).toBe(4403)

    expect(relayTree(relay.data)).toEqual(before)
    expect(fs.existsSync(relay.data)).toBe(true)
  })
})
