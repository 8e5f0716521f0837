/**
 * Handshakes: how a session gets from its first frame to "authenticated", apart from the session's own
 * state machine (timers, ciphers, closing). A `Handshake` reads only the pre-authentication messages and
 * answers with nothing yet, a refusal, or the session to open: the host it syncs, the verified peer, the
 * frame ciphers and what each side may send.
 *
 * `PeerHandshake` is every peer's side. Peer to peer, both ends send Hello, then each signs a transcript
 * with the space's key and checks the other's (see `auth.ts`); frames are sealed after that. When the
 * acceptor's Hello says it is a relay, the dialer instead sends RelayAuth — the space's public key and a
 * signature over a relay transcript (a distinct label, so it is never a valid peer proof), or a token —
 * and waits for Welcome; the relay's side is `relay/gate.ts`. One dialer therefore reaches peers and relays
 * alike through the same URL list. No document data (not even names) moves before this completes.
 */
import { signProof, verifyProof, RELAY_LABEL, type SpaceCredentials } from './auth.js'
import { plaintext, sessionCiphers, type Encryption, type SessionCiphers } from './channel.js'
import {
  ProtocolError, PROTOCOL_VERSION, type Access, type HelloFlags, type HelloMessage, type Message, type Role,
} from './protocol.js'
import type { PeerInfo, SyncHost } from './SyncHost.js'
import { CloseCode } from './TransportInterface.js'

export const ACCESS_REFUSED = "access refused: the other peer does not know this space's secret"

export type Refusal = { code: number; message: string }

/** What the session needs from itself while a handshake runs. */
export interface HandshakeIO {
  readonly role: Role
  readonly nonce: Uint8Array
  readonly maxFrameBytes: number
  readonly flags: HelloFlags
  send(m: Message): void
}

export interface Opened {
  host: SyncHost
  peer: PeerInfo
  /** The other side's Hello (its flags say whether it is one-shot or a peek). */
  hello: HelloMessage
  ciphers: SessionCiphers
  /** We may send document data. */
  canSend: boolean
  /** The other side may send document data. */
  acceptWrites: boolean
  /** With a relay: what it granted (our side) or what the peer holds (relay side). */
  access?: Access
}

export type Step = { open: Opened } | { refuse: Refusal } | null

export interface Handshake {
  /** The other side's Hello once received: who it claims to be, before it proved anything. */
  readonly remoteHello: HelloMessage | undefined
  /** Called once when the session starts (the place to send Hello). */
  start(io: HandshakeIO): void
  /** One pre-authentication message; may take time (a relay loads the space). Throws ProtocolError. */
  receive(msg: Message, io: HandshakeIO): Step | Promise<Step>
}

export function helloFrom(spaceId: HelloMessage['spaceId'], self: PeerInfo, io: HandshakeIO): HelloMessage {
  return {
    type: 'Hello', proto: PROTOCOL_VERSION, spaceId, peer: self, nonce: io.nonce, role: io.role,
    maxFrameBytes: io.maxFrameBytes, flags: io.flags,
  }
}

/** Null when the Hello may proceed, else why the connection is refused. */
export function checkHello(host: SyncHost, role: Role, hello: HelloMessage): Refusal | null {
  if (hello.role === role) throw new ProtocolError(`both ends claim the ${role} role`)
  if (hello.spaceId !== host.spaceId) {
    return { code: CloseCode.Forbidden, message: `other space: this peer syncs ${host.spaceId}, the other ${hello.spaceId}` }
  }
  if (hello.peer.id === host.self.id) return { code: CloseCode.Forbidden, message: 'connected to itself' }
  return null
}

/** The transcript fields both ends of a connection agree on, from the signer's point of view. */
function transcript(spaceId: HelloMessage['spaceId'], signer: { role: Role; nonce: Uint8Array; id: PeerInfo['id'] }, verifier: { nonce: Uint8Array; id: PeerInfo['id'] }) {
  return {
    spaceId, signerRole: signer.role, verifierNonce: verifier.nonce, signerNonce: signer.nonce,
    signerId: signer.id, verifierId: verifier.id,
  }
}

/** The relay transcript a dialer signs for `relayHello`; the relay verifies it with `relayProofInput`. */
export function relayProofInput(dialer: HelloMessage, relayNonce: Uint8Array, relayId: PeerInfo['id']) {
  return transcript(dialer.spaceId, { role: 'dial', nonce: dialer.nonce, id: dialer.peer.id }, { nonce: relayNonce, id: relayId })
}

export interface PeerHandshakeOptions {
  host: SyncHost
  /** The space secret's credentials; without them only a relay (with a token) can be reached. */
  credentials?: SpaceCredentials
  /** A relay token (`ctxsync token create`), used with relays when there is no secret or it is preferred. */
  token?: string
  encryption: Encryption
}

export class PeerHandshake implements Handshake {
  readonly #o: PeerHandshakeOptions
  #phase: 'hello' | 'auth' | 'welcome' = 'hello'
  #hello: HelloMessage | undefined

  constructor(o: PeerHandshakeOptions) {
    this.#o = o
  }

  get remoteHello(): HelloMessage | undefined {
    return this.#hello
  }

  start(io: HandshakeIO): void {
    io.send(helloFrom(this.#o.host.spaceId, this.#o.host.self, io))
  }

  receive(msg: Message, io: HandshakeIO): Step {
    const { host, credentials } = this.#o
    if (this.#phase === 'hello') {
      if (msg.type !== 'Hello') throw new ProtocolError(`expected Hello, got ${msg.type}`)
      const refusal = checkHello(host, io.role, msg)
      if (refusal) return { refuse: refusal }
      this.#hello = msg
      if (msg.peer.kind === 'relay') return this.#toRelay(msg, io)
      if (!credentials) {
        return { refuse: { code: CloseCode.Unauthenticated, message: `${msg.peer.name || 'the other peer'} is not a relay: a token works only with \`ctxsync serve\`; peers need the space secret` } }
      }
      this.#phase = 'auth'
      io.send({ type: 'Auth', signature: signProof(credentials, transcript(host.spaceId, { role: io.role, nonce: io.nonce, id: host.self.id }, { nonce: msg.nonce, id: msg.peer.id })) })
      return null
    }
    const hello = this.#hello!
    if (this.#phase === 'welcome') {
      if (msg.type !== 'Welcome') throw new ProtocolError(`expected Welcome, got ${msg.type}`)
      return { open: { host, peer: hello.peer, hello, ciphers: { tx: plaintext, rx: plaintext }, canSend: msg.access !== 'read', acceptWrites: true, access: msg.access } }
    }
    if (msg.type !== 'Auth') throw new ProtocolError(`expected Auth, got ${msg.type}`)
    const ok = verifyProof(credentials!, transcript(host.spaceId, { role: hello.role, nonce: hello.nonce, id: hello.peer.id }, { nonce: io.nonce, id: host.self.id }), msg.signature)
    if (!ok) return { refuse: { code: CloseCode.Unauthenticated, message: ACCESS_REFUSED } }
    // Their Auth was their last plaintext frame, and nothing of ours has been sent since our Auth.
    const [dialNonce, acceptNonce] = io.role === 'dial' ? [io.nonce, hello.nonce] : [hello.nonce, io.nonce]
    const ciphers = sessionCiphers(this.#o.encryption, credentials!.sessionRoot, io.role, dialNonce, acceptNonce)
    return { open: { host, peer: hello.peer, hello, ciphers, canSend: true, acceptWrites: true } }
  }

  #toRelay(relayHello: HelloMessage, io: HandshakeIO): Step {
    if (io.role !== 'dial') throw new ProtocolError('a relay does not dial peers')
    const { host, credentials, token } = this.#o
    this.#phase = 'welcome'
    if (token !== undefined) {
      io.send({ type: 'RelayAuth', credential: { kind: 'token', token } })
      return null
    }
    if (!credentials) {
      return { refuse: { code: CloseCode.Unauthenticated, message: 'no space secret and no token (CTXSYNC_TOKEN) to show the relay' } }
    }
    const mine = helloFrom(host.spaceId, host.self, io)
    const signature = signProof(credentials, relayProofInput(mine, relayHello.nonce, relayHello.peer.id), RELAY_LABEL)
    io.send({ type: 'RelayAuth', credential: { kind: 'key', publicKey: credentials.publicKey, signature } })
    return null
  }
}
