/**
 * Wiring for session tests over in-memory transports: two hosts joined by a pair of PeerSessions, and a
 * hand-rolled peer that knows the secret but speaks raw frames (for hostile and fuzz tests).
 */
import { hellosOf } from '../../src/net/handshake.js'
import { newPeerId } from '../../src/ids.js'
import { deriveCredentials, newNonce, signProof } from '../../src/net/auth.js'
import { sessionCiphers, type Encryption } from '../../src/net/channel.js'
import { createConnectedPair, type MemoryTransport } from '../../src/net/memory.js'
import { decodeMessage, encodeMessage, PROTOCOL_VERSION, type Message } from '../../src/net/protocol.js'
import { PeerSession, type SessionTuning } from '../../src/net/session.js'
import type { PeerInfo } from '../../src/net/SyncHost.js'
import { SECRET, waitFor, type MemoryHost } from './helpers.js'

export interface Linked {
  sa: PeerSession
  sb: PeerSession
  ta: MemoryTransport
  tb: MemoryTransport
}

/** Joins two hosts like the peer manager would, including forwarding of live updates. */
export function link(
  a: MemoryHost,
  b: MemoryHost,
  o: { secretA?: string; secretB?: string; tuning?: Partial<SessionTuning>; maxFrameBytes?: number } = {},
): Linked {
  const [ta, tb] = createConnectedPair(o.maxFrameBytes ? { maxFrameBytes: o.maxFrameBytes } : {})
  const mk = (host: MemoryHost, t: MemoryTransport, role: 'dial' | 'accept', secret: string) =>
    new PeerSession({ ...o.tuning, host, transport: t, role, credentials: deriveCredentials(secret, host.spaceId) })
  const sa = mk(a, ta, 'dial', o.secretA ?? SECRET)
  const sb = mk(b, tb, 'accept', o.secretB ?? SECRET)
  a.onUpdate((doc, u, origin) => void (origin !== b.self.id && sa.sendUpdate(doc, u)))
  b.onUpdate((doc, u, origin) => void (origin !== a.self.id && sb.sendUpdate(doc, u)))
  sa.start()
  sb.start()
  return { sa, sb, ta, tb }
}

export interface RawPeer {
  end: MemoryTransport
  session: PeerSession
  /** Frames received, opened with our rx cipher once authenticated. */
  received: Message[]
  sendRaw(frame: Uint8Array): void
  /** Seals (after auth) and sends one plaintext message frame. */
  send(plain: Uint8Array): void
}

/**
 * An accepting PeerSession on `host`, facing a raw peer we drive by hand. With `authenticate`, the raw peer
 * completes the real handshake (it knows the secret) and from then on seals what it sends.
 */
export async function rawPeer(
  host: MemoryHost,
  o: { authenticate?: boolean; encryption?: Encryption; tuning?: Partial<SessionTuning> } = {},
): Promise<RawPeer> {
  const encryption = o.encryption ?? 'secret'
  const creds = deriveCredentials(SECRET, host.spaceId)
  const [end, theirs] = createConnectedPair()
  const session = new PeerSession({
    ...o.tuning, encryption, host, transport: theirs, role: 'accept', credentials: creds,
  })
  const raw: RawPeer = {
    end,
    session,
    received: [],
    sendRaw: (f) => end.send(f),
    send: (f) => end.send(f),
  }
  const me: PeerInfo = { id: newPeerId(), name: 'mallory', kind: 'agent' }
  const nonce = newNonce()
  let rx: ((f: Uint8Array) => Uint8Array) | undefined
  let tx: ((f: Uint8Array) => Uint8Array) | undefined
  end.on('message', (f) => {
    try {
      const m = decodeMessage(rx ? rx(f) : f)
      raw.received.push(m)
      // The session's Auth is its last plaintext frame; everything after it is sealed.
      const hello = raw.received[0]
      if (m.type === 'Auth' && hello?.type === 'Hello') {
        const c = sessionCiphers(encryption, creds.sessionRoot, 'dial', nonce, hello.nonce)
        rx = (x) => c.rx.open(x)
        tx = (x) => c.tx.seal(x)
      }
    } catch {
      // hostile tests do not care about what they cannot read
    }
  })
  session.start()
  if (!o.authenticate) return raw
  const mine = {
    type: 'Hello', proto: PROTOCOL_VERSION, spaceId: host.spaceId, peer: me, nonce, role: 'dial', maxFrameBytes: 8 << 20,
    flags: { oneShot: false, peek: false },
  } as const
  end.send(encodeMessage(mine))
  await waitFor(() => raw.received.length > 0, 2000, 'Hello')
  const hello = raw.received[0]!
  if (hello.type !== 'Hello') throw new Error(`expected Hello, got ${hello.type}`)
  const signature = signProof(creds, {
    spaceId: host.spaceId, signerRole: 'dial', verifierNonce: hello.nonce, signerNonce: nonce,
    signerId: me.id, verifierId: hello.peer.id, hellos: hellosOf('dial', mine, hello),
  })
  end.send(encodeMessage({ type: 'Auth', signature }))
  await waitFor(() => tx !== undefined, 2000, 'Auth')
  raw.send = (f) => end.send(tx!(f))
  await waitFor(() => session.authenticated, 2000, 'authentication')
  return raw
}
