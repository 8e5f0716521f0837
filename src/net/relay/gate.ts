/**
 * The relay's side of the handshake, and the registry of spaces it serves.
 *
 * A relay never holds a space secret. It waits for the dialer's Hello, answers with its own (peer kind
 * `relay`, its nonce, the dialer's space id) and a RelayProof: its identity key, a fresh X25519 key and a
 * signature over the transcript (`relay-auth.ts`), so the dialer can check it against the key pinned for
 * the space before showing anything. Then it takes one of two credentials (RelayAuth), each signed over
 * the transcript with the dialer's X25519 key in it:
 *
 * - a proof of the secret: the space's Ed25519 public key and a signature with it. A valid signature by a
 *   space never seen before registers it with that key (first contact wins, durably, before anything else
 *   happens); once registered, a different key for the same space id is refused with 4403 and a bad
 *   signature with 4401. Such a peer gets `admin` access.
 * - a token (`tokens.ts`), checked against the registered key, and its holder's signature (proof of
 *   possession): the token's role is the access granted. A space not registered yet cannot honour tokens
 *   (4401), as there is no key to check them with.
 *
 * Only then is the space loaded and Welcome sent (with a MAC under the channel key); from there every frame
 * is sealed with keys from the X25519 exchange. Nothing about the space (not even whether it exists beyond
 * "registered") is told before.
 */
import type { PeerId, SpaceId } from '../../ids.js'
import { sessionCiphers } from '../channel.js'
import { ACCESS_REFUSED, helloFrom, hellosOf, type Handshake, type HandshakeIO, type Step } from '../handshake.js'
import { ProtocolError, type Access, type HelloMessage, type Message, type RelayAuthMessage } from '../protocol.js'
import {
  channelRoot, newEphemeral, parseKey, RELAY_AUTH_LABEL, RELAY_ID_LABEL, relayTranscript, TOKEN_POP_LABEL, verifyWith,
  welcomeMac, type Ephemeral, type RelayTranscript, type SigningKey,
} from '../relay-auth.js'
import type { PeerInfo } from '../SyncHost.js'
import { TokenError, verifyToken } from '../tokens.js'
import { CloseCode } from '../TransportInterface.js'
import type { RelaySpace } from './space.js'
import type { Registration, RelayStorage } from './storage.js'

/** Registrations, cached once known (never the misses: random space ids must not grow memory). */
export class Registry {
  readonly #storage: RelayStorage
  readonly #known = new Map<SpaceId, Registration>()
  readonly #claims = new Map<SpaceId, Promise<unknown>>()

  constructor(storage: RelayStorage) {
    this.#storage = storage
  }

  async get(space: SpaceId): Promise<Registration | null> {
    const known = this.#known.get(space)
    if (known) return known
    const reg = await this.#storage.registration(space)
    if (reg) this.#known.set(space, reg)
    return reg
  }

  /** Registers `publicKey` for a new space; says whether it now matches the registration. */
  claim(space: SpaceId, publicKey: Uint8Array): Promise<'registered' | 'known' | 'conflict'> {
    // One claim per space at a time, so two first contacts cannot both register.
    const run = (this.#claims.get(space) ?? Promise.resolve()).then(async () => {
      const reg = await this.get(space)
      if (reg) return Buffer.from(reg.publicKey).equals(Buffer.from(publicKey)) ? 'known' : 'conflict'
      const fresh: Registration = { publicKey: Uint8Array.from(publicKey), registeredAt: new Date().toISOString() }
      await this.#storage.register(space, fresh)
      this.#known.set(space, fresh)
      return 'registered'
    })
    const tail = run.catch(() => undefined)
    this.#claims.set(space, tail)
    void tail.then(() => this.#claims.get(space) === tail && this.#claims.delete(space))
    return run as Promise<'registered' | 'known' | 'conflict'>
  }
}

export interface GateContext {
  self: PeerInfo
  /** The relay's identity key, which dialers pin per space. */
  identity: SigningKey
  registry: Registry
  /** Loads (or returns the loaded) space once a peer is admitted. */
  openSpace(space: SpaceId): Promise<RelaySpace>
  now(): number
  /** Called with the reason whenever a dialer is refused (metrics, logs). */
  onRefused?(reason: string): void
}

const refuse = (code: number, message: string): Step => ({ refuse: { code, message } })

export class RelayHandshake implements Handshake {
  readonly #ctx: GateContext
  #hello: HelloMessage | undefined
  #exchange: { ephemeral: Ephemeral; transcript: RelayTranscript } | undefined

  constructor(ctx: GateContext) {
    this.#ctx = ctx
  }

  get remoteHello(): HelloMessage | undefined {
    return this.#hello
  }

  /** A relay speaks second: its Hello names the dialer's space, which it learns from the dialer's Hello. */
  start(): void {}

  receive(msg: Message, io: HandshakeIO): Step | Promise<Step> {
    if (!this.#hello) {
      if (msg.type !== 'Hello') throw new ProtocolError(`expected Hello, got ${msg.type}`)
      if (msg.role !== 'dial') throw new ProtocolError('a relay only accepts connections from peers that dial it')
      if (msg.peer.kind === 'relay') return this.#refused(CloseCode.Forbidden, 'relays do not sync with each other')
      if (msg.peer.id === this.#ctx.self.id) return this.#refused(CloseCode.Forbidden, 'connected to itself')
      this.#hello = msg
      const mine = helloFrom(msg.spaceId, this.#ctx.self, io)
      io.send(mine)
      const ephemeral = newEphemeral()
      const transcript: RelayTranscript = {
        spaceId: msg.spaceId, dialerNonce: msg.nonce, relayNonce: io.nonce, dialerId: msg.peer.id, relayId: this.#ctx.self.id,
        relayKey: this.#ctx.identity.publicKey, relayEphemeral: ephemeral.publicKey, hellos: hellosOf('accept', mine, msg),
      }
      this.#exchange = { ephemeral, transcript }
      const signature = this.#ctx.identity.sign(relayTranscript(RELAY_ID_LABEL, transcript))
      io.send({ type: 'RelayProof', relayKey: transcript.relayKey, ephemeral: ephemeral.publicKey, signature })
      return null
    }
    if (msg.type !== 'RelayAuth') throw new ProtocolError(`expected RelayAuth, got ${msg.type} (this is a relay)`)
    return this.#admit(this.#hello, msg, io)
  }

  async #admit(hello: HelloMessage, msg: RelayAuthMessage, io: HandshakeIO): Promise<Step> {
    const space = hello.spaceId
    const { ephemeral, transcript } = this.#exchange!
    let shared: Uint8Array
    try {
      shared = ephemeral.agree(msg.ephemeral)
    } catch (err) {
      throw new ProtocolError(`relay key exchange: ${(err as Error).message}`)
    }
    const t: RelayTranscript = { ...transcript, dialerEphemeral: msg.ephemeral }
    const cred = msg.credential
    let access: Access
    let credential: string
    let expiresAt: number | undefined
    if (cred.kind === 'key') {
      if (!verifyWith(cred.publicKey, relayTranscript(RELAY_AUTH_LABEL, t), cred.signature)) return this.#refused(CloseCode.Unauthenticated, ACCESS_REFUSED)
      const claim = await this.#ctx.registry.claim(space, cred.publicKey)
      if (claim === 'conflict') {
        return this.#refused(CloseCode.Forbidden, `space ${space} is registered on this relay with another key: this machine's secret is not the space's secret`)
      }
      access = 'admin'
      credential = 'space-key'
    } else {
      const reg = await this.#ctx.registry.get(space)
      if (!reg) {
        return this.#refused(CloseCode.Unauthenticated, `space ${space} is not registered on this relay yet: someone with the space secret must sync with it first`)
      }
      try {
        const claims = verifyToken(cred.token, reg.publicKey, space, this.#ctx.now())
        // verifyToken checked cnf's form; the proof of possession is what makes a seen token worthless.
        if (!verifyWith(parseKey(claims.cnf)!, relayTranscript(TOKEN_POP_LABEL, t), cred.signature)) {
          return this.#refused(CloseCode.Unauthenticated, "token refused: the proof that the dialer holds the token's key is not valid")
        }
        access = claims.role
        credential = `token:${claims.role}:${claims.jti}`
        if (claims.exp !== null) expiresAt = claims.exp * 1000
      } catch (err) {
        if (err instanceof TokenError) return this.#refused(CloseCode.Unauthenticated, err.message)
        throw err
      }
    }
    const host = await this.#ctx.openSpace(space)
    const root = channelRoot(shared, t)
    io.send({ type: 'Welcome', access, mac: welcomeMac(root, access) })
    return {
      open: {
        host, peer: hello.peer, hello, ciphers: sessionCiphers('secret', root, 'accept', hello.nonce, io.nonce), canSend: true,
        acceptWrites: access !== 'read', access, credential, ...(expiresAt !== undefined ? { expiresAt } : {}),
      },
    }
  }

  #refused(code: number, message: string): Step {
    this.#ctx.onRefused?.(message)
    return refuse(code, message)
  }
}
