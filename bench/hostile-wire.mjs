/**
 * A hostile peer on a real WebSocket, shared by the e2e tests (test/e2e/hostile-*.test.ts, access.test.ts)
 * and the long run (bench/fuzz-frames.mjs), so both send exactly the same kinds of frames.
 *
 * It speaks the wire with the project's own built code (`dist/net`): `authenticate` runs the real dialer's
 * handshake with a secret (peer to peer: Hello, Auth, then sealed frames; to a relay: Hello, RelayProof,
 * RelayAuth, Welcome, then sealed frames) and returns the session ciphers, so what follows can be mutated *after* authentication — the
 * frames a compromised or buggy teammate could send, not only a stranger's.
 *
 * The generators only produce frames that a correct receiver must refuse: every update they carry fails
 * `Y.decodeUpdate` (checked here, with the same yjs), or names a document outside the tracked globs, or is
 * not the next authentic sealed frame. So "no sidecar, file or state vector changed" is the right check for
 * all of them. Messages that are valid but harmless (Manifest, Ack of nothing…) are mixed in.
 */
import WebSocket from 'ws'
import * as Y from 'yjs'
import { deriveCredentials, newNonce, signProof } from '../dist/net/auth.js'
import { sessionCiphers } from '../dist/net/channel.js'
import { channelRoot, newEphemeral, RELAY_AUTH_LABEL, relayTranscript, TOKEN_POP_LABEL } from '../dist/net/relay-auth.js'
import { holderOf } from '../dist/net/tokens.js'
import { FileModel } from '../dist/crdt/model.js'
import { hellosOf } from '../dist/net/handshake.js'
import { decodeMessage, encodeMessage, MessageTag, PROTOCOL_VERSION } from '../dist/net/protocol.js'
import { newPeerId, newSpaceId } from '../dist/ids.js'
import { mulberry32 } from './random.mjs'

export { decodeMessage, encodeMessage }

/** Close codes a refusal may carry (src/net/TransportInterface.ts, README "Close codes"). */
export const DOCUMENTED_CODES = [1002, 1008, 1009, 4401, 4403]

/**
 * Names every receiver refuses, peer and relay alike: escaping the repository, absolute, not canonical, with
 * NUL or control characters, or inside a directory ctxsync never tracks (`.git`, `.ctxsync`, `node_modules`).
 */
export const HOSTILE_NAMES = [
  '../../.bashrc', '../outside.yaml', '.rhema/../../escape.yaml', '/etc/passwd', '/tmp/abs.yaml', 'C:/win.yaml',
  '.rhema\\todos.yaml', '..\\..\\x.yaml', '.rhema/nul\0.yaml', '.git/config', '.git/hooks/post-commit',
  '.ctxsync/secret', '.ctxsync/docs/x.yaml', 'node_modules/.rhema/x.yaml',
  '.rhema/./todos.yaml', '.rhema//todos.yaml', './.rhema/todos.yaml', '.rhema/todos.yaml/', '', '.rhema/\u0007.yaml',
]
/** Plain relative names outside the default globs: a peer refuses them; a relay (which has no globs) cannot. */
export const UNTRACKED_NAMES = ['README.md', 'notes.txt', 'src/index.ts', '.rhema/todos.json']

export { mulberry32 }

/** A raw WebSocket client: every frame received is kept, with the close code the other side sent. */
export function openRaw(url, { timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 256 << 20 })
    const conn = {
      ws, frames: [], bytesIn: 0, sent: 0, closed: null, cursor: 0, waiters: [],
      send(f) {
        if (ws.readyState !== WebSocket.OPEN) return false
        ws.send(f)
        conn.sent++
        return true
      },
      get isOpen() { return ws.readyState === WebSocket.OPEN },
      close() { if (ws.readyState <= WebSocket.OPEN) ws.close(1000, 'done') },
      terminate() { ws.terminate() },
    }
    conn.whenClosed = new Promise((r) => ws.on('close', (code, reason) => {
      conn.closed = { code, reason: reason.toString() }
      for (const w of conn.waiters.splice(0)) w()
      r(conn.closed)
    }))
    ws.on('message', (data) => {
      const f = new Uint8Array(data)
      conn.frames.push(f)
      conn.bytesIn += f.length
      for (const w of conn.waiters.splice(0)) w()
    })
    const timer = setTimeout(() => { ws.terminate(); reject(new Error(`connecting to ${url} timed out`)) }, timeoutMs)
    ws.on('error', (e) => { clearTimeout(timer); if (ws.readyState !== WebSocket.OPEN) reject(e) })
    ws.once('open', () => { clearTimeout(timer); resolve(conn) })
  })
}

/** The next frame not read yet (undefined once closed), opened with `open` when given. */
export async function nextFrame(conn, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs
  while (conn.cursor >= conn.frames.length) {
    if (conn.closed) return undefined
    if (Date.now() > deadline) throw new Error('no frame within the deadline')
    await new Promise((r) => { conn.waiters.push(r); setTimeout(r, 50) })
  }
  return conn.frames[conn.cursor++]
}

/**
 * Runs the real dialer's handshake with `secret` (or a token, relays only). Resolves with the ciphers and
 * the frames we sent (for replay tests); rejects with the close code when refused.
 */
export async function authenticate(conn, { spaceId, secret, token, name = 'mallory', peerId = newPeerId(), flags = { oneShot: false, peek: false } }) {
  const creds = secret ? deriveCredentials(secret, spaceId) : null
  const nonce = newNonce()
  const me = { id: peerId, name, kind: 'agent' }
  const hello = { type: 'Hello', proto: PROTOCOL_VERSION, spaceId, peer: me, nonce, role: 'dial', maxFrameBytes: 8 << 20, flags }
  const sent = []
  const send = (m) => { const f = encodeMessage(m); sent.push(f); conn.send(f) }
  const expect = async (type) => {
    const f = await nextFrame(conn)
    if (!f) throw Object.assign(new Error(`refused before ${type}: ${conn.closed?.code} ${conn.closed?.reason}`), { closed: conn.closed })
    const m = decodeMessage(f)
    if (m.type === 'Error') {
      await conn.whenClosed
      throw Object.assign(new Error(`refused: ${m.code} ${m.message}`), { closed: conn.closed, error: m })
    }
    if (m.type !== type) throw new Error(`expected ${type}, got ${m.type}`)
    return m
  }
  send(hello)
  const theirs = await expect('Hello')
  // Without a secret the token is all we have: shown to a peer too (which must refuse it).
  if (theirs.peer.kind !== 'relay' && !creds) {
    // A token shown to a peer, which expects Auth: it must refuse.
    const h = holderOf(token)
    send({ type: 'RelayAuth', ephemeral: newEphemeral().publicKey, credential: { kind: 'token', token: h.presented, signature: new Uint8Array(64) } })
    await expect('Welcome')
  }
  if (theirs.peer.kind === 'relay') {
    const proof = await expect('RelayProof')
    const eph = newEphemeral()
    const t = {
      spaceId, dialerNonce: nonce, relayNonce: theirs.nonce, dialerId: me.id, relayId: theirs.peer.id,
      relayKey: proof.relayKey, relayEphemeral: proof.ephemeral, hellos: hellosOf('dial', hello, theirs), dialerEphemeral: eph.publicKey,
    }
    let credential
    if (token) {
      let h
      try {
        h = holderOf(token)
      } catch {
        // Not a whole token (garbage, tampered in its form): shown as it is, with no proof.
        h = { presented: token, key: { sign: () => new Uint8Array(64) } }
      }
      credential = { kind: 'token', token: h.presented, signature: h.key.sign(relayTranscript(TOKEN_POP_LABEL, t)) }
    } else credential = { kind: 'key', publicKey: creds.publicKey, signature: creds.sign(relayTranscript(RELAY_AUTH_LABEL, t)) }
    send({ type: 'RelayAuth', ephemeral: eph.publicKey, credential })
    const welcome = await expect('Welcome')
    const c = sessionCiphers('secret', channelRoot(eph.agree(proof.ephemeral), t), 'dial', nonce, theirs.nonce)
    return { relay: true, access: welcome.access, hello: theirs, sent, seal: (x) => c.tx.seal(x), open: (x) => c.rx.open(x) }
  }
  send({
    type: 'Auth',
    signature: signProof(creds, { spaceId, signerRole: 'dial', verifierNonce: theirs.nonce, signerNonce: nonce, signerId: me.id, verifierId: theirs.peer.id, hellos: hellosOf('dial', hello, theirs) }),
  })
  await expect('Auth')
  const c = sessionCiphers('secret', creds.sessionRoot, 'dial', nonce, theirs.nonce)
  // Their Auth goes out before ours is checked: only their first sealed frame (a Manifest) says we are in.
  const first = await nextFrame(conn)
  if (!first) throw Object.assign(new Error(`refused: ${conn.closed?.code} ${conn.closed?.reason}`), { closed: conn.closed })
  let m
  try {
    m = decodeMessage(c.rx.open(first))
  } catch {
    await conn.whenClosed
    throw Object.assign(new Error(`refused: ${conn.closed?.code} ${conn.closed?.reason}`), { closed: conn.closed })
  }
  return { relay: false, hello: theirs, first: m, sent, seal: (x) => c.tx.seal(x), open: (x) => c.rx.open(x) }
}

/** Every message received after authentication, opened in order (stops at the first that does not open). */
export function readSealed(conn, session) {
  const out = []
  while (conn.cursor < conn.frames.length) {
    try {
      out.push(decodeMessage(session.open(conn.frames[conn.cursor++])))
    } catch {
      break
    }
  }
  return out
}

const randomBytes32 = (rand) => new Uint8Array(32).map(() => Math.floor(rand() * 256))

export function randomBytes(rand, max) {
  return new Uint8Array(Math.floor(rand() * max)).map(() => Math.floor(rand() * 256))
}

export function mutate(rand, bytes) {
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

const decodes = (u) => {
  try {
    Y.decodeUpdate(u)
    return true
  } catch {
    return false
  }
}

/** A realistic update (a todo edit) and bytes that look like it but that yjs cannot decode. */
export function updates() {
  // A real model's document: receivers refuse updates outside the model's schema (crdt/guard.ts) with 1008.
  const m = new FileModel({ name: 'x.yaml', author: { id: 'p-wire', name: 'wire', kind: 'agent' } })
  m.enroll(`todos: ${'x'.repeat(40)}\n`)
  return { good: Y.encodeStateAsUpdate(m.doc), sv: Y.encodeStateVector(m.doc) }
}

/** A mutation of `good` that yjs refuses (retries until one is found; falls back to a truncated header). */
export function badUpdate(rand, good) {
  for (let i = 0; i < 20; i++) {
    const u = rand() < 0.2 ? randomBytes(rand, 64) : mutate(rand, good)
    if (!decodes(u)) return u
  }
  return Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f)
}

/** One frame a stranger might send before authentication (`spaceId`: the real space, sometimes). */
export function preAuthFrame(rand, spaceId, k) {
  const hello = encodeMessage({
    type: 'Hello', proto: PROTOCOL_VERSION, spaceId: rand() < 0.5 ? spaceId : newSpaceId(), nonce: newNonce(), role: rand() < 0.8 ? 'dial' : 'accept',
    maxFrameBytes: 1 << 20, peer: { id: newPeerId(), name: 'fuzz', kind: rand() < 0.9 ? 'agent' : 'relay' }, flags: { oneShot: rand() < 0.3, peek: rand() < 0.2 },
  })
  const pick = rand()
  let f
  if (pick < 0.2) f = randomBytes(rand, 120)
  else if (pick < 0.45) f = mutate(rand, hello)
  else if (pick < 0.6) f = k === 0 ? hello : Uint8Array.from([MessageTag.Auth, 64, ...new Uint8Array(64).map(() => Math.floor(rand() * 256))])
  else if (pick < 0.7) f = encodeMessage({ type: 'RelayAuth', ephemeral: randomBytes32(rand), credential: { kind: 'key', publicKey: randomBytes32(rand), signature: new Uint8Array(64).map(() => Math.floor(rand() * 256)) } })
  else if (pick < 0.78) f = encodeMessage({ type: 'RelayAuth', ephemeral: randomBytes32(rand), credential: { kind: 'token', token: `ctxsync-token2.${Buffer.from(randomBytes(rand, 60)).toString('base64url')}.${Buffer.from(randomBytes(rand, 64)).toString('base64url')}`, signature: new Uint8Array(64).map(() => Math.floor(rand() * 256)) } })
  else f = Uint8Array.from([Math.floor(rand() * 16), ...randomBytes(rand, 60)])
  if (f.length > 0 && rand() < 0.2) f[0] = Math.floor(rand() * 16)
  return f
}

/**
 * One plaintext message frame an authenticated but hostile (or broken) peer might send; every document
 * write in it is invalid. `names`: tracked names the receiver holds (valid-looking targets).
 */
export function postAuthFrame(rand, names, { good, sv }) {
  const hostile = () => HOSTILE_NAMES[Math.floor(rand() * HOSTILE_NAMES.length)]
  const name = () => (rand() < 0.5 ? hostile() : names[Math.floor(rand() * names.length)])
  const doc = () => (rand() < 0.25 ? { id: 1 + Math.floor(rand() * 40) } : { name: name() })
  const pick = rand()
  let m
  if (pick < 0.35) m = { type: 'Update', doc: doc(), update: badUpdate(rand, good) }
  else if (pick < 0.5) m = { type: 'SyncStep2', doc: doc(), update: badUpdate(rand, good) }
  else if (pick < 0.6) m = { type: 'Update', doc: { name: hostile() }, update: good }
  else if (pick < 0.68) m = { type: 'Manifest', entries: [{ doc: doc(), stateVector: rand() < 0.5 ? sv : mutate(rand, sv) }] }
  else if (pick < 0.72) m = { type: 'Ack', seq: 1 + Math.floor(rand() * 1000) }
  else if (pick < 0.76) m = { type: 'Chunk', id: Math.floor(rand() * 4), index: Math.floor(rand() * 3), total: 2 + Math.floor(rand() * 3), bytes: encodeMessage({ type: 'Update', doc: doc(), update: badUpdate(rand, good) }).subarray(0, 8) }
  else if (pick < 0.8) m = [{ type: 'Welcome', access: 'admin', mac: new Uint8Array(32) }, { type: 'Peers', peers: [] }, { type: 'Synced' }, { type: 'Step2End' }, { type: 'ManifestEnd' }][Math.floor(rand() * 5)]
  else if (pick < 0.84) m = { type: 'Hello', proto: PROTOCOL_VERSION, spaceId: newSpaceId(), nonce: newNonce(), role: 'dial', maxFrameBytes: 1 << 20, peer: { id: newPeerId(), name: 'x', kind: 'agent' }, flags: { oneShot: false, peek: false } }
  else m = null
  let f = m ? encodeMessage(m) : randomBytes(rand, 200)
  // A mutated Update can only stay an update to a valid name by keeping its (undecodable) bytes.
  if (m && m.type !== 'Update' && m.type !== 'SyncStep2' && rand() < 0.3) f = mutate(rand, f)
  return mayWrite(f) ? randomBytes(rand, 200).fill(0xff, 0, 1) : f
}

/** True when `f` decodes to a document write yjs would accept (a mutation can turn anything into one). */
function mayWrite(f) {
  try {
    const m = decodeMessage(f)
    return (m.type === 'Update' || m.type === 'SyncStep2') && decodes(m.update)
  } catch {
    return false
  }
}

/** How many of each close code, as "1002×12 4401×3". */
export function histogram(codes) {
  const h = new Map()
  for (const c of codes) h.set(c, (h.get(c) ?? 0) + 1)
  return [...h.entries()].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c}×${n}`).join(' ')
}

/** Runs `fn(i)` for i in [0, n) with at most `limit` at once. */
export async function pool(n, limit, fn) {
  let next = 0
  const worker = async () => {
    while (next < n) await fn(next++)
  }
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker))
}

/** Waits for the other side to close; after `ms` we close ourselves and the code is recorded as 'open'. */
async function closeCode(conn, ms) {
  const t = await Promise.race([conn.whenClosed, new Promise((r) => setTimeout(() => r(null), ms))])
  if (t) return t.code
  conn.terminate()
  return 'open'
}

/**
 * `connections` strangers, each sending 1–8 pre-authentication frames and then one frame no handshake
 * accepts (so the receiver closes at once instead of waiting for its handshake timeout).
 */
export async function fuzzPreAuth(url, { rand, spaceId, connections, concurrency = 16, waitMs = 3000 }) {
  let frames = 0
  const codes = []
  await pool(connections, concurrency, async () => {
    const conn = await openRaw(url)
    const n = 1 + Math.floor(rand() * 8)
    for (let k = 0; k < n; k++) if (conn.send(preAuthFrame(rand, spaceId, k))) frames++
    if (conn.send(Uint8Array.of(0))) frames++
    codes.push(await closeCode(conn, waitMs))
  })
  return { frames, codes }
}

/**
 * `connections` peers that authenticate with the real secret, then send 1–`perConnection` hostile messages,
 * sealed as the session expects (a few sealed frames are then tampered with).
 */
export async function fuzzPostAuth(url, { rand, spaceId, secret, token, names, connections, perConnection = 12, concurrency = 8, waitMs = 2000 }) {
  const ups = updates()
  let frames = 0
  let authenticated = 0
  const codes = []
  await pool(connections, concurrency, async () => {
    const conn = await openRaw(url)
    let s
    try {
      s = await authenticate(conn, { spaceId, secret, token })
    } catch (err) {
      codes.push(err.closed?.code ?? 'handshake-failed')
      conn.terminate()
      return
    }
    authenticated++
    const n = 1 + Math.floor(rand() * perConnection)
    for (let k = 0; k < n && conn.isOpen; k++) {
      let f = s.seal(postAuthFrame(rand, names, ups))
      if (rand() < 0.05) f[Math.floor(rand() * f.length)] ^= 1 + Math.floor(rand() * 255)
      if (conn.send(f)) frames++
    }
    // Tag 0 is no message: a prompt close when everything before was merely harmless.
    if (conn.send(s.seal(Uint8Array.of(0)))) frames++
    codes.push(await closeCode(conn, waitMs))
  })
  return { frames, codes, authenticated }
}
