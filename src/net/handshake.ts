/**
 * Handshakes: how a session gets from its first frame to "authenticated", apart from the session's own
 * state machine (timers, ciphers, closing). A `Handshake` reads only the pre-authentication messages and
 * answers with nothing yet, a refusal, or the session to open: the host it syncs, the verified peer, the
 * frame ciphers and what each side may send.
 *
 * `PeerHandshake` is every peer's side. What an endpoint is depends on how we reached it, never on what it
 * says: an endpoint found by `--peer`, `peers:` or mDNS is a peer and must prove the space secret (both ends
 * send Hello, then each signs a transcript with the space's key and checks the other's, `auth.ts`; frames
 * are sealed after that) — one that answers as a relay is refused before anything is shown to it. Only the
 * registry URL is dialled as a relay (`relay` option): it must answer as one and prove the relay key pinned
 * for the space before we show it a credential (`relay-auth.ts`); the relay's side is `relay/gate.ts`.
 * No document data (not even names) moves before this completes.
 */
import { signProof, verifyProof, type SpaceCredentials } from './auth.js'
import { sessionCiphers, type Encryption, type SessionCiphers } from './channel.js'
import {
  encodeMessage, ProtocolError, PROTOCOL_VERSION, type Access, type HelloFlags, type HelloMessage, type Message, type RelayProofMessage, type Role,
} from './protocol.js'
import {
  channelRoot, formatKey, helloDigest, macEquals, newEphemeral, RELAY_AUTH_LABEL, RELAY_ID_LABEL, relayTranscript,
  TOKEN_POP_LABEL, verifyWith, welcomeMac, type RelayTranscript,
} from './relay-auth.js'
import { holderOf, TokenError } from './tokens.js'
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
  /** On a relay: what the peer authenticated with (`space-key`, `token:<jti>`); a peer id is bound to it. */
  credential?: string
  /** On a relay: when the token the peer showed expires (ms epoch); the session ends then. */
  expiresAt?: number
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

/**
 * Null when the Hello may proceed, else why the connection is refused. An acceptor answers a stranger's
 * Hello for another space without naming its own: its space id is not for whoever connects.
 */
export function checkHello(host: SyncHost, role: Role, hello: HelloMessage): Refusal | null {
  if (hello.role === role) throw new ProtocolError(`both ends claim the ${role} role`)
  if (hello.spaceId !== host.spaceId) {
    const message = role === 'accept'
      ? `other space: this peer does not sync ${hello.spaceId}`
      : `other space: this peer syncs ${host.spaceId}, the other ${hello.spaceId}`
    return { code: CloseCode.Forbidden, message }
  }
  if (hello.peer.id === host.self.id) return { code: CloseCode.Forbidden, message: 'connected to itself' }
  return null
}

/** The transcript fields both ends of a connection agree on, from the signer's point of view. */
function transcript(spaceId: HelloMessage['spaceId'], signer: { role: Role; nonce: Uint8Array; id: PeerInfo['id'] }, verifier: { nonce: Uint8Array; id: PeerInfo['id'] }, hellos: Uint8Array) {
  return {
    spaceId, signerRole: signer.role, verifierNonce: verifier.nonce, signerNonce: signer.nonce,
    signerId: signer.id, verifierId: verifier.id, hellos,
  }
}

/** Both Hellos of a connection, dialer's first, as a digest both ends compute alike. */
export function hellosOf(role: Role, mine: HelloMessage, theirs: HelloMessage): Uint8Array {
  const [d, a] = role === 'dial' ? [mine, theirs] : [theirs, mine]
  return helloDigest(encodeMessage(d), encodeMessage(a))
}

/** How the registry URL is dialled: as a relay, which must prove this key. */
export interface RelayTarget {
  /** The relay key pinned for the space (the token's, else ctxsync.yaml `registry-key`); none: trust on first use. */
  pinned?: Uint8Array
  /** Where the pin came from, for the refusal's advice. */
  pinnedBy?: 'config' | 'token'
  /** Called once a relay without a pinned key welcomed us, with the key it proved. */
  onPin?(key: Uint8Array): void
}

/** The registry URL and what its relay must prove. */
export interface RelayDial extends RelayTarget {
  url: string
}

export interface PeerHandshakeOptions {
  host: SyncHost
  /** The space secret's credentials; without them only a relay (with a token) can be reached. */
  credentials?: SpaceCredentials
  /** A relay token (`ctxsync token create`), used with relays when there is no secret or it is preferred. */
  token?: string
  encryption: Encryption
  /** Set when dialling the registry URL: the other end must be a relay. Unset: it must be a peer. */
  relay?: RelayTarget
}

export const NOT_A_PEER = 'the other side answered as a relay, but it was dialled as a peer (--peer, `peers:` or mDNS): relays are used only at the registry URL (`registry:` in ctxsync.yaml, or --registry); nothing was shown to it'

export class PeerHandshake implements Handshake {
  readonly #o: PeerHandshakeOptions
  #phase: 'hello' | 'auth' | 'proof' | 'welcome' = 'hello'
  #hello: HelloMessage | undefined
  #mine: HelloMessage | undefined
  #channel: { root: Uint8Array; relayKey: Uint8Array } | undefined

  constructor(o: PeerHandshakeOptions) {
    this.#o = o
  }

  get remoteHello(): HelloMessage | undefined {
    return this.#hello
  }

  /** A dialer speaks first; an acceptor only answers a Hello for its space (a stranger learns nothing). */
  start(io: HandshakeIO): void {
    if (io.role === 'dial') this.#sayHello(io)
  }

  #sayHello(io: HandshakeIO): void {
    this.#mine = helloFrom(this.#o.host.spaceId, this.#o.host.self, io)
    io.send(this.#mine)
  }

  receive(msg: Message, io: HandshakeIO): Step {
    const { host, credentials } = this.#o
    if (this.#phase === 'hello') {
      if (msg.type !== 'Hello') throw new ProtocolError(`expected Hello, got ${msg.type}`)
      const refusal = checkHello(host, io.role, msg)
      if (refusal) return { refuse: refusal }
      this.#hello = msg
      if (io.role === 'accept') this.#sayHello(io)
      if (msg.peer.kind === 'relay') {
        if (io.role !== 'dial') throw new ProtocolError('a relay does not dial peers')
        if (!this.#o.relay) return { refuse: { code: CloseCode.Forbidden, message: NOT_A_PEER } }
        this.#phase = 'proof'
        return null
      }
      if (this.#o.relay) {
        return { refuse: { code: CloseCode.Forbidden, message: 'the registry URL answered as a peer, not as a relay (`ctxsync serve`): nothing was shown to it' } }
      }
      if (!credentials) {
        return { refuse: { code: CloseCode.Unauthenticated, message: `${msg.peer.name || 'the other peer'} is not a relay: a token works only with \`ctxsync serve\`; peers need the space secret` } }
      }
      this.#phase = 'auth'
      const hellos = hellosOf(io.role, this.#mine!, msg)
      io.send({ type: 'Auth', signature: signProof(credentials, transcript(host.spaceId, { role: io.role, nonce: io.nonce, id: host.self.id }, { nonce: msg.nonce, id: msg.peer.id }, hellos)) })
      return null
    }
    const hello = this.#hello!
    if (this.#phase === 'proof') {
      if (msg.type !== 'RelayProof') throw new ProtocolError(`expected RelayProof, got ${msg.type}`)
      return this.#toRelay(hello, msg, io)
    }
    if (this.#phase === 'welcome') {
      if (msg.type !== 'Welcome') throw new ProtocolError(`expected Welcome, got ${msg.type}`)
      const { root, relayKey } = this.#channel!
      if (!macEquals(msg.mac, welcomeMac(root, msg.access))) throw new ProtocolError('the Welcome was altered on its way (bad MAC)')
      if (!this.#o.relay?.pinned) this.#o.relay?.onPin?.(relayKey)
      const ciphers = sessionCiphers('secret', root, 'dial', io.nonce, hello.nonce)
      return { open: { host, peer: hello.peer, hello, ciphers, canSend: msg.access !== 'read', acceptWrites: true, access: msg.access } }
    }
    if (msg.type !== 'Auth') throw new ProtocolError(`expected Auth, got ${msg.type}`)
    const hellos = hellosOf(io.role, this.#mine!, hello)
    const ok = verifyProof(credentials!, transcript(host.spaceId, { role: hello.role, nonce: hello.nonce, id: hello.peer.id }, { nonce: io.nonce, id: host.self.id }, hellos), msg.signature)
    if (!ok) return { refuse: { code: CloseCode.Unauthenticated, message: ACCESS_REFUSED } }
    // Their Auth was their last plaintext frame, and nothing of ours has been sent since our Auth.
    const [dialNonce, acceptNonce] = io.role === 'dial' ? [io.nonce, hello.nonce] : [hello.nonce, io.nonce]
    const ciphers = sessionCiphers(this.#o.encryption, credentials!.sessionRoot, io.role, dialNonce, acceptNonce)
    return { open: { host, peer: hello.peer, hello, ciphers, canSend: true, acceptWrites: true } }
  }

  /** The relay proved a key: check it against the pin, then show our credential, bound to this relay. */
  #toRelay(relayHello: HelloMessage, proof: RelayProofMessage, io: HandshakeIO): Step {
    const { host, credentials, token, relay } = this.#o
    const pinned = relay?.pinned
    if (pinned && !Buffer.from(pinned).equals(Buffer.from(proof.relayKey))) {
      return {
        refuse: {
          code: CloseCode.Forbidden,
          message: relay?.pinnedBy === 'token'
            ? `the relay presented key ${formatKey(proof.relayKey)}, but this token pins ${formatKey(pinned)}: it is not the relay the token was made for. Nothing was shown to it. If the relay really was replaced, create a new token (\`ctxsync token create\`) once ctxsync.yaml pins the new key`
            : `the relay presented key ${formatKey(proof.relayKey)}, but this space pins ${formatKey(pinned)} (\`registry-key\` in ctxsync.yaml): it is not the relay the space registered with. Nothing was shown to it. If the relay really was replaced, remove \`registry-key\` from ctxsync.yaml to trust the new key`,
        },
      }
    }
    const t: RelayTranscript = {
      spaceId: host.spaceId, dialerNonce: io.nonce, relayNonce: relayHello.nonce, dialerId: host.self.id,
      relayId: relayHello.peer.id, relayKey: proof.relayKey, relayEphemeral: proof.ephemeral,
      hellos: hellosOf('dial', this.#mine!, relayHello),
    }
    if (!verifyWith(proof.relayKey, relayTranscript(RELAY_ID_LABEL, t), proof.signature)) {
      return { refuse: { code: CloseCode.Unauthenticated, message: "the relay's proof of its key is not valid: nothing was shown to it" } }
    }
    const mine = newEphemeral()
    let shared: Uint8Array
    try {
      shared = mine.agree(proof.ephemeral)
    } catch (err) {
      throw new ProtocolError(`relay key exchange: ${(err as Error).message}`)
    }
    const full: RelayTranscript = { ...t, dialerEphemeral: mine.publicKey }
    if (token !== undefined) {
      let holder
      try {
        holder = holderOf(token)
      } catch (err) {
        if (err instanceof TokenError) return { refuse: { code: CloseCode.Unauthenticated, message: err.message } }
        throw err
      }
      const signature = holder.key.sign(relayTranscript(TOKEN_POP_LABEL, full))
      io.send({ type: 'RelayAuth', ephemeral: mine.publicKey, credential: { kind: 'token', token: holder.presented, signature } })
    } else if (credentials) {
      const signature = credentials.sign(relayTranscript(RELAY_AUTH_LABEL, full))
      io.send({ type: 'RelayAuth', ephemeral: mine.publicKey, credential: { kind: 'key', publicKey: credentials.publicKey, signature } })
    } else {
      return { refuse: { code: CloseCode.Unauthenticated, message: 'no space secret and no token (CTXSYNC_TOKEN) to show the relay' } }
    }
    this.#channel = { root: channelRoot(shared, full), relayKey: proof.relayKey }
    this.#phase = 'welcome'
    return null
  }
}
