/**
 * Issue 12, findings 1–3 and 9, as an attacker would try them on loopback: a relay (genuine or hand-made)
 * at a peer URL, a man in the middle forwarding a real relay's handshake, a fake relay collecting tokens, a
 * read-token holder reusing a member's peer id. Each must be refused with nothing shown, stored or replayable.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import { deriveCredentials } from '../../src/net/auth.js'
import { hellosOf, NOT_A_PEER } from '../../src/net/handshake.js'
import { PeerManager, syncOnce } from '../../src/net/peer-manager.js'
import { decodeMessage, encodeMessage, PROTOCOL_VERSION, type Message, type RelayAuthMessage } from '../../src/net/protocol.js'
import { formatKey, newEphemeral, newSeed, RELAY_ID_LABEL, relayTranscript, signingKeyFromSeed } from '../../src/net/relay-auth.js'
import { signToken } from '../../src/net/tokens.js'
import { newPeerId } from '../../src/ids.js'
import { hostsInSpace, LOOPBACK, MemoryHost, SECRET, waitFor } from './helpers.js'
import { rig, startRelay, viaRelay } from './relay-helpers.js'
import { WireClient } from './wire-client.js'

const r = rig()
const servers: WebSocketServer[] = []
afterEach(async () => {
  await r.cleanup()
  for (const s of servers.splice(0)) await new Promise((res) => s.close(res))
})

async function wsServer(onConn: (ws: WebSocket) => void): Promise<string> {
  const wss = new WebSocketServer({ host: LOOPBACK, port: 0 })
  servers.push(wss)
  await new Promise((res) => wss.once('listening', res))
  wss.on('connection', (ws) => {
    // The peer or relay on the other end may reset the connection when it refuses: that is the expected
    // outcome here, not an error of the test (an unhandled 'error' event would fail the whole run).
    ws.on('error', () => ws.terminate())
    onConn(ws)
  })
  return `ws://${LOOPBACK}:${(wss.address() as { port: number }).port}`
}

/** A WebSocket to `url` whose resets (the far side refusing, a close during the handshake) are expected. */
function dial(url: string): WebSocket {
  const ws = new WebSocket(url)
  ws.on('error', () => ws.terminate())
  return ws
}

/** A relay impostor with its own key: answers Hello and RelayProof honestly for its key, records what it gets. */
async function fakeRelay(got: Message[]): Promise<{ url: string; key: Uint8Array }> {
  const identity = signingKeyFromSeed(newSeed())
  const self = { id: newPeerId(), name: 'relay', kind: 'relay' as const }
  const url = await wsServer((ws) => {
    ws.on('message', (d: Buffer) => {
      const m = decodeMessage(new Uint8Array(d))
      got.push(m)
      if (m.type !== 'Hello') return
      const nonce = new Uint8Array(32).fill(9)
      const mine = { ...m, peer: self, nonce, role: 'accept' as const }
      ws.send(encodeMessage(mine))
      const eph = newEphemeral()
      const t = { spaceId: m.spaceId, dialerNonce: m.nonce, relayNonce: nonce, dialerId: m.peer.id, relayId: self.id, relayKey: identity.publicKey, relayEphemeral: eph.publicKey, hellos: hellosOf('accept', mine, m) }
      ws.send(encodeMessage({ type: 'RelayProof', relayKey: identity.publicKey, ephemeral: eph.publicKey, signature: identity.sign(relayTranscript(RELAY_ID_LABEL, t)) }))
    })
  })
  return { url, key: identity.publicKey }
}

describe('peers are peers: a relay found at a peer URL is refused before it is shown anything', () => {
  it('a genuine `ctxsync serve` given as --peer / peers: gets no registration, no name, no data', async () => {
    const relay = await startRelay(r)
    const [a] = hostsInSpace('a')
    a.set('plans.yaml', 'k', 'secret plans')
    const res = await syncOnce({ host: a, secret: SECRET, peers: [relay.url], timeoutMs: 5000 })
    expect(res.peers[0]).toMatchObject({ outcome: 'refused', error: NOT_A_PEER })
    expect(a.dataCalls.filter((c) => c !== 'docNames')).toEqual([])
    // Nothing registered: the relay never saw a credential.
    expect(relay.metrics.refusedTotal).toBe(0)
    const m = new PeerManager({ host: a, secret: SECRET, peers: [relay.url], heartbeatMs: 60_000, backoff: { baseMs: 20, maxMs: 200 } })
    r.managers.push(m)
    const refused = new Promise((res) => m.once('peer-refused', (_p, info) => res(info.reason)))
    await m.start()
    expect(await refused).toBe(NOT_A_PEER)
  })

  it('a hand-made endpoint that answers as a relay (as an mDNS copycat would) gets no RelayAuth', async () => {
    const got: Message[] = []
    const fake = await fakeRelay(got)
    const [a] = hostsInSpace('a')
    const res = await syncOnce({ host: a, secret: SECRET, peers: [fake.url], timeoutMs: 3000 })
    expect(res.peers[0]).toMatchObject({ outcome: 'refused', error: NOT_A_PEER })
    // Our Hello, then the refusal: never a credential.
    expect(got.map((m) => m.type)).toEqual(['Hello', 'Error'])
  })

  it('the registry URL must answer as a relay: a peer there is refused', async () => {
    const [a, b] = hostsInSpace('a', 'b')
    const mb = new PeerManager({ host: b, secret: SECRET, peers: [], listen: { host: LOOPBACK, port: 0 }, heartbeatMs: 60_000 })
    r.managers.push(mb)
    const { url } = await mb.start()
    const res = await syncOnce({ host: a, secret: SECRET, peers: [url!], relay: { url: url! }, timeoutMs: 3000 })
    expect(res.peers[0]).toMatchObject({ outcome: 'refused', error: expect.stringMatching(/answered as a peer, not as a relay/) })
  })
})

describe('relays prove the pinned key; proofs and tokens are bound to the endpoint', () => {
  it('pins the key at first contact, then refuses a relay with another key before showing a credential or token', async () => {
    const relay = await startRelay(r)
    const [a, b] = hostsInSpace('a', 'b')
    let pinned: Uint8Array | undefined
    const first = await syncOnce({ host: a, secret: SECRET, peers: [relay.url], relay: { url: relay.url, onPin: (k) => (pinned = k) }, timeoutMs: 5000 })
    expect(first.peers[0]!.outcome).toBe('synced')
    expect(Buffer.from(pinned!).equals(Buffer.from(relay.publicKey))).toBe(true)

    const got: Message[] = []
    const fake = await fakeRelay(got)
    const token = signToken(deriveCredentials(SECRET, a.spaceId), { role: 'write', exp: null })
    for (const cred of [{ secret: SECRET }, { token }]) {
      const res = await syncOnce({ host: b, ...cred, peers: [fake.url], relay: { url: fake.url, pinned }, timeoutMs: 3000 })
      expect(res.peers[0]).toMatchObject({ outcome: 'refused', error: expect.stringMatching(/presented key .* but this space pins/) })
    }
    expect(got.filter((m) => m.type === 'RelayAuth')).toEqual([])
  })

  it('what a fake relay collects (no pin yet) cannot be replayed at the real relay: not the proof, not the token', async () => {
    const relay = await startRelay(r)
    const [owner, victim] = hostsInSpace('owner', 'victim')
    await syncOnce({ host: owner, secret: SECRET, peers: [relay.url], relay: { url: relay.url }, timeoutMs: 5000 })
    const got: Message[] = []
    const fake = await fakeRelay(got)
    const token = signToken(deriveCredentials(SECRET, owner.spaceId), { role: 'write', exp: null })
    for (const cred of [{ secret: SECRET }, { token }]) await syncOnce({ host: victim, ...cred, peers: [fake.url], relay: { url: fake.url }, timeoutMs: 1500 })
    const stolen = got.filter((m): m is RelayAuthMessage => m.type === 'RelayAuth')
    expect(stolen.map((m) => m.credential.kind)).toEqual(['key', 'token'])
    for (const m of stolen) {
      const c = await WireClient.open(relay.url, victim.self.id)
      c.hello(owner.spaceId)
      await c.relayProof()
      c.send(m)
      const [code] = await c.closed
      expect(code).toBe(4401)
      expect(c.got.map((x) => x.type)).toEqual(['Hello', 'RelayProof', 'Error'])
    }
  })

  it('a man in the middle forwarding every frame learns nothing, and what it injects ends the session, nothing stored', async () => {
    const relay = await startRelay(r)
    const [a, check] = hostsInSpace('a', 'check')
    a.set('plans.yaml', 'k', 'secret plans')
    const seen: Buffer[] = []
    let inject: ((frame: Uint8Array) => void) | undefined
    const mitm = await wsServer((down) => {
      const up = dial(relay.url)
      const queue: Buffer[] = []
      up.on('open', () => {
        for (const f of queue.splice(0)) up.send(f)
        inject = (f) => up.send(f)
      })
      down.on('message', (d: Buffer) => {
        seen.push(d)
        if (up.readyState === WebSocket.OPEN) up.send(d)
        else queue.push(d)
      })
      up.on('message', (d: Buffer) => {
        seen.push(d)
        down.send(d)
      })
      up.on('close', () => down.close())
      down.on('close', () => up.close())
    })
    const res = await syncOnce({ host: a, secret: SECRET, peers: [mitm], relay: { url: mitm, pinned: relay.publicKey }, timeoutMs: 5000 })
    expect(res.peers[0]!.outcome).toBe('synced')
    // The forwarder carried a working session, sealed: no document name or content in any frame.
    expect(seen.some((f) => f.includes('secret plans') || f.includes('plans.yaml'))).toBe(false)

    // Now it keeps the relay side of a live session and injects an Update of its own.
    const m = new PeerManager({ host: check, secret: SECRET, peers: [mitm], relay: { url: mitm, pinned: relay.publicKey }, heartbeatMs: 60_000, backoff: { baseMs: 50, maxMs: 500 } })
    r.managers.push(m)
    await m.start()
    await waitFor(() => m.peers()[0]?.state === 'connected')
    const disconnected = new Promise((res) => m.once('peer-disconnected', res))
    inject!(encodeMessage({ type: 'Update', doc: { name: 'evil.yaml' }, update: Uint8Array.of(0, 0) }))
    await disconnected
    const after = new MemoryHost(a.spaceId, 'after')
    await syncOnce({ host: after, secret: SECRET, peers: [relay.url], relay: { url: relay.url }, timeoutMs: 5000 })
    expect(Object.keys(after.snapshot())).toEqual(['plans.yaml'])
  })

  it('a Welcome altered on its way (read → admin) is refused', async () => {
    const relay = await startRelay(r)
    const [owner, reader] = hostsInSpace('owner', 'reader')
    await syncOnce({ host: owner, secret: SECRET, peers: [relay.url], relay: { url: relay.url }, timeoutMs: 5000 })
    const mitm = await wsServer((down) => {
      const up = dial(relay.url)
      const queue: Buffer[] = []
      up.on('open', () => queue.splice(0).forEach((f) => up.send(f)))
      down.on('message', (d: Buffer) => (up.readyState === WebSocket.OPEN ? up.send(d) : queue.push(d)))
      up.on('message', (d: Buffer) => {
        let m: Message | undefined
        try {
          m = decodeMessage(new Uint8Array(d))
        } catch {
          m = undefined
        }
        down.send(m?.type === 'Welcome' ? encodeMessage({ ...m, access: 'admin' }) : d)
      })
      up.on('close', () => down.close())
      down.on('close', () => up.close())
    })
    const token = signToken(deriveCredentials(SECRET, owner.spaceId), { role: 'read', exp: null })
    const res = await syncOnce({ host: reader, token, peers: [mitm], relay: { url: mitm, pinned: relay.publicKey }, timeoutMs: 3000 })
    expect(res.peers[0]).toMatchObject({ outcome: 'error', error: expect.stringMatching(/Welcome was altered/) })
  })
})

describe('identities are bound to credentials', () => {
  it("a read-token session reusing a member's peer id is refused; the member stays, listed once as admin", async () => {
    const relay = await startRelay(r)
    const [writer, other] = hostsInSpace('writer', 'other')
    const mw = await viaRelay(r, writer, relay.url)
    await viaRelay(r, other, relay.url)
    await waitFor(() => mw.peers()[0]?.state === 'connected')
    const token = signToken(deriveCredentials(SECRET, writer.spaceId), { role: 'read', exp: null })
    for (let i = 0; i < 5; i++) {
      const c = await WireClient.open(relay.url, writer.self.id)
      await c.admit(writer.spaceId, { token })
      const [code, why] = await c.closed
      expect(code).toBe(4403)
      expect(why).toMatch(/in use by another session with a different credential/)
    }
    expect(mw.peers()[0]?.state).toBe('connected')
    writer.set('todos.yaml', 'k', 'still heard')
    await waitFor(() => other.get('todos.yaml', 'k') === 'still heard')
    const peek = await (await import('../../src/net/peer-manager.js')).peekRegistry({ host: new MemoryHost(writer.spaceId, 'p'), secret: SECRET, url: relay.url, relay: { url: relay.url }, timeoutMs: 3000 })
    const listed = (peek.peers ?? []).filter((p) => p.id === writer.self.id)
    expect(listed).toEqual([expect.objectContaining({ access: 'admin', name: 'writer' })])
  })
})

it('wire: PROTOCOL_VERSION is 5', () => expect(PROTOCOL_VERSION).toBe(5))

describe('a stranger who tried the built CLI found these; each is now refused', () => {
  it('a token that expires while its session is open ends the session (4401)', async () => {
    const relay = await startRelay(r)
    const [owner, reader] = hostsInSpace('owner', 'reader')
    await syncOnce({ host: owner, secret: SECRET, peers: [relay.url], relay: { url: relay.url }, timeoutMs: 5000 })
    const token = signToken(deriveCredentials(SECRET, owner.spaceId), { role: 'read', exp: Math.floor(Date.now() / 1000) + 2 })
    const m = await viaRelay(r, reader, relay.url, { secret: undefined, token })
    await waitFor(() => m.peers()[0]?.state === 'connected')
    const ended = await new Promise<string>((res) => m.once('peer-refused', (_p, info) => res(`${info.code} ${info.reason}`)))
    expect(ended).toMatch(/^4401 token expired at/)
  })

  it('the pin a token carries wins over the checkout\'s registry-key (a branch cannot point a CI token elsewhere)', async () => {
    const { relayDial } = await import('../../src/space/remotes.js')
    const tokenKey = signingKeyFromSeed(newSeed()).publicKey
    const branchKey = signingKeyFromSeed(newSeed()).publicKey
    const [a] = hostsInSpace('a')
    const token = signToken(deriveCredentials(SECRET, a.spaceId), { role: 'write', exp: null, relay: tokenKey })
    const config = { version: 1, space: a.spaceId, track: [], discovery: 'registry', registry: 'ws://127.0.0.1:1', registryKey: formatKey(branchKey), rules: [] } as const
    const dial = relayDial(config as never, '/nonexistent/ctxsync.yaml', 'ws://127.0.0.1:1', token)!
    expect(Buffer.from(dial.pinned!).equals(Buffer.from(tokenKey))).toBe(true)
    expect(dial.pinnedBy).toBe('token')
    expect(relayDial(config as never, '/x', 'ws://127.0.0.1:1')!.pinnedBy).toBe('config')
  })

  it("a read token that copied a write agent's id while it was away cannot lock it out; token holders are named as such", async () => {
    const relay = await startRelay(r)
    const [owner, agent, other] = hostsInSpace('owner', 'agent', 'other')
    await syncOnce({ host: owner, secret: SECRET, peers: [relay.url], relay: { url: relay.url }, timeoutMs: 5000 })
    const creds = deriveCredentials(SECRET, owner.spaceId)
    await viaRelay(r, other, relay.url)
    const squatter = await WireClient.open(relay.url, agent.self.id)
    await squatter.admit(agent.spaceId, { token: signToken(creds, { role: 'read', exp: null }) })
    await waitFor(() => squatter.got.some((x) => x.type === 'Welcome'))
    const ma = await viaRelay(r, agent, relay.url, { secret: undefined, token: signToken(creds, { role: 'write', exp: null }) })
    await waitFor(() => ma.peers()[0]?.state === 'connected')
    const [code] = await squatter.closed
    expect(code).toBe(4403)
    const peek = await (await import('../../src/net/peer-manager.js')).peekRegistry({ host: new MemoryHost(owner.spaceId, 'p'), secret: SECRET, url: relay.url, relay: { url: relay.url }, timeoutMs: 3000 })
    expect(peek.peers!.find((p) => p.id === agent.self.id)).toMatchObject({ name: '(write token) agent', access: 'write' })
    expect(peek.peers!.find((p) => p.id === other.self.id)).toMatchObject({ name: 'other', access: 'admin' })
  })

  it('a man in the middle that renames the dialer in its Hello gets it refused (names are in the transcript)', async () => {
    const relay = await startRelay(r)
    const [a, b] = hostsInSpace('a', 'b')
    const rename = (d: Buffer): Buffer | Uint8Array => {
      try {
        const m = decodeMessage(new Uint8Array(d))
        if (m.type === 'Hello') return encodeMessage({ ...m, peer: { ...m.peer, name: 'CEO-approved-bot' } })
      } catch {
        // sealed frames pass as they are
      }
      return d
    }
    const proxy = (target: string) => wsServer((down) => {
      const up = dial(target)
      const queue: Array<Buffer | Uint8Array> = []
      up.on('open', () => queue.splice(0).forEach((f) => up.send(f)))
      down.on('message', (d: Buffer) => (up.readyState === WebSocket.OPEN ? up.send(rename(d)) : queue.push(rename(d))))
      up.on('message', (d: Buffer) => down.send(d))
      up.on('close', () => down.close())
      down.on('close', () => up.close())
    })
    const toRelay = await proxy(relay.url)
    const res = await syncOnce({ host: a, secret: SECRET, peers: [toRelay], relay: { url: toRelay, pinned: relay.publicKey }, timeoutMs: 3000 })
    expect(res.peers[0]!.outcome).not.toBe('synced')
    const mb = new PeerManager({ host: b, secret: SECRET, peers: [], listen: { host: LOOPBACK, port: 0 }, heartbeatMs: 60_000 })
    r.managers.push(mb)
    const { url } = await mb.start()
    const toPeer = await proxy(url!)
    const p2p = await syncOnce({ host: a, secret: SECRET, peers: [toPeer], timeoutMs: 3000 })
    expect(p2p.peers[0]).toMatchObject({ outcome: 'refused', error: expect.stringMatching(/access refused/) })
  })

  it('a listening peer tells a stranger nothing: no Hello, no space id, for a Hello of another space', async () => {
    const [b] = hostsInSpace('b')
    const mb = new PeerManager({ host: b, secret: SECRET, peers: [], listen: { host: LOOPBACK, port: 0 }, heartbeatMs: 60_000 })
    r.managers.push(mb)
    const { url } = await mb.start()
    const c = await WireClient.open(url!)
    c.hello(hostsInSpace('x')[0]!.spaceId)
    const [code] = await c.closed
    expect(code).toBe(4403)
    expect(c.got.map((m) => m.type)).toEqual(['Error'])
    expect(JSON.stringify(c.got)).not.toContain(b.spaceId)
  })
})
