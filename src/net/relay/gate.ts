/**
 * The relay's side of the handshake, and the registry of spaces it serves.
 *
 * A relay never holds a space secret. It waits for the dialer's Hello, answers with its own (peer kind
 * `relay`, its nonce, the dialer's space id), and then takes one of two credentials (RelayAuth):
 *
 * - a proof of the secret: the space's Ed25519 public key and a signature over the relay transcript (both
 *   nonces, both ids, the space; `auth.ts`). A valid signature by a space never seen before registers it
 *   with that key (first contact wins, durably, before anything else happens); once registered, a
 *   different key for the same space id is refused with 4403 and a bad signature with 4401. Such a peer
 *   gets `admin` access.
 * - a token (`tokens.ts`), checked against the registered key: its role is the access granted. A space not
 *   registered yet cannot honour tokens (4401), as there is no key to check them with.
 *
 * Only then is the space loaded and Welcome sent; nothing about the space (not even whether it exists
 * beyond "registered") is told before. Relay sessions are not encrypted by ctxsync: confidentiality on the
 * network comes from TLS (`wss://`, `ctxsync serve --tls-cert/--tls-key`).
 */
import type { PeerId, SpaceId } from '../../ids.js'
import { verifyRelayProof } from '../auth.js'
import { plaintext } from '../channel.js'
import { ACCESS_REFUSED, helloFrom, relayProofInput, type Handshake, type HandshakeIO, type Step } from '../handshake.js'
import { ProtocolError, type Access, type HelloMessage, type Message, type RelayCredential } from '../protocol.js'
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
      io.send(helloFrom(msg.spaceId, this.#ctx.self, io))
      return null
    }
    if (msg.type !== 'RelayAuth') throw new ProtocolError(`expected RelayAuth, got ${msg.type} (this is a relay)`)
    return this.#admit(this.#hello, msg.credential, io)
  }

  async #admit(hello: HelloMessage, cred: RelayCredential, io: HandshakeIO): Promise<Step> {
    const space = hello.spaceId
    let access: Access
    if (cred.kind === 'key') {
      const input = relayProofInput(hello, io.nonce, this.#ctx.self.id as PeerId)
      if (!verifyRelayProof(cred.publicKey, input, cred.signature)) return this.#refused(CloseCode.Unauthenticated, ACCESS_REFUSED)
      const claim = await this.#ctx.registry.claim(space, cred.publicKey)
      if (claim === 'conflict') {
        return this.#refused(CloseCode.Forbidden, `space ${space} is registered on this relay with another key: this machine's secret is not the space's secret`)
      }
      access = 'admin'
    } else {
      const reg = await this.#ctx.registry.get(space)
      if (!reg) {
        return this.#refused(CloseCode.Unauthenticated, `space ${space} is not registered on this relay yet: someone with the space secret must sync with it first`)
      }
      try {
        access = verifyToken(cred.token, reg.publicKey, space, this.#ctx.now()).role
      } catch (err) {
        if (err instanceof TokenError) return this.#refused(CloseCode.Unauthenticated, err.message)
        throw err
      }
    }
    const host = await this.#ctx.openSpace(space)
    io.send({ type: 'Welcome', access })
    return {
      open: {
        host, peer: hello.peer, hello, ciphers: { tx: plaintext, rx: plaintext }, canSend: true,
        acceptWrites: access !== 'read', access,
      },
    }
  }

  #refused(code: number, message: string): Step {
    this.#ctx.onRefused?.(message)
    return refuse(code, message)
  }
}
