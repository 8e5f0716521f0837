/**
 * A hand-made protocol endpoint for tests that must say what no honest peer says: a raw WebSocket that
 * speaks the relay handshake step by step (and can stop, lie or forward at any step), seals and opens
 * frames with the channel keys once admitted, and records every message it received.
 *
 * It is the attacker's toolkit too: a fake relay, a man in the middle and a token thief are built from it.
 */
import { WebSocket } from 'ws'
import { sessionCiphers, type SessionCiphers } from '../../src/net/channel.js'
import { newPeerId, type PeerId, type SpaceId } from '../../src/ids.js'
import type { SpaceCredentials } from '../../src/net/auth.js'
import { decodeMessage, encodeMessage, PROTOCOL_VERSION, type HelloMessage, type Message, type RelayCredential, type RelayProofMessage } from '../../src/net/protocol.js'
import {
  channelRoot, newEphemeral, RELAY_AUTH_LABEL, relayTranscript, TOKEN_POP_LABEL, type RelayTranscript,
} from '../../src/net/relay-auth.js'
import { holderOf } from '../../src/net/tokens.js'
import { hellosOf } from '../../src/net/handshake.js'
import { waitFor } from './helpers.js'

export class WireClient {
  readonly got: Message[] = []
  readonly closed: Promise<[number, string]>
  readonly nonce = new Uint8Array(32).map(() => Math.floor(Math.random() * 256))
  readonly id: PeerId
  #ciphers: SessionCiphers | undefined
  #pendingRoot: Uint8Array | undefined

  private constructor(readonly ws: WebSocket, id: PeerId) {
    this.id = id
    this.closed = new Promise((res) => ws.once('close', (c, why) => res([c, why.toString()])))
    ws.on('message', (d: Buffer) => {
      const frame = new Uint8Array(d)
      const m = decodeMessage(this.#ciphers ? this.#ciphers.rx.open(frame) : frame)
      this.got.push(m)
      // Welcome is the last clear frame: from the next one on, frames are sealed.
      if (m.type === 'Welcome' && this.#pendingRoot) this.#ciphers = sessionCiphers('secret', this.#pendingRoot, 'dial', this.nonce, this.relayHello!.nonce)
    })
  }

  static async open(url: string, id: PeerId = newPeerId()): Promise<WireClient> {
    const ws = new WebSocket(url)
    await new Promise((res, rej) => {
      ws.once('open', res)
      ws.once('error', rej)
    })
    return new WireClient(ws, id)
  }

  send(m: Message): void {
    const frame = encodeMessage(m)
    this.ws.send(this.#ciphers ? this.#ciphers.tx.seal(frame) : frame)
  }

  #hello: HelloMessage | undefined

  hello(spaceId: SpaceId, o: { name?: string; oneShot?: boolean } = {}): void {
    this.#hello = {
      type: 'Hello', proto: PROTOCOL_VERSION, spaceId, peer: { id: this.id, name: o.name ?? 'wire', kind: 'agent' },
      nonce: this.nonce, role: 'dial', maxFrameBytes: 1 << 20, flags: { oneShot: o.oneShot ?? false, peek: false },
    }
    this.send(this.#hello)
  }

  get relayHello(): HelloMessage | undefined {
    return this.got.find((m): m is HelloMessage => m.type === 'Hello')
  }

  async relayProof(): Promise<RelayProofMessage> {
    await waitFor(() => this.got.some((m) => m.type === 'RelayProof' || m.type === 'Error'), 5000, 'RelayProof')
    const p = this.got.find((m): m is RelayProofMessage => m.type === 'RelayProof')
    if (!p) throw new Error(`no RelayProof: ${JSON.stringify(this.got)}`)
    return p
  }

  /** The transcript this client and the relay agree on, with our ephemeral key. */
  transcript(spaceId: SpaceId, proof: RelayProofMessage, dialerEphemeral: Uint8Array): RelayTranscript {
    return {
      spaceId, dialerNonce: this.nonce, relayNonce: this.relayHello!.nonce, dialerId: this.id, relayId: this.relayHello!.peer.id,
      relayKey: proof.relayKey, relayEphemeral: proof.ephemeral, dialerEphemeral, hellos: hellosOf('dial', this.#hello!, this.relayHello!),
    }
  }

  /** Runs Hello → RelayProof → RelayAuth honestly with the space key or a token; `tamper` may change the credential. */
  async admit(spaceId: SpaceId, cred: { creds: SpaceCredentials } | { token: string }, tamper?: (c: RelayCredential) => RelayCredential): Promise<void> {
    this.hello(spaceId)
    const proof = await this.relayProof()
    const eph = newEphemeral()
    const t = this.transcript(spaceId, proof, eph.publicKey)
    let credential: RelayCredential
    if ('creds' in cred) {
      credential = { kind: 'key', publicKey: cred.creds.publicKey, signature: cred.creds.sign(relayTranscript(RELAY_AUTH_LABEL, t)) }
    } else {
      const h = holderOf(cred.token)
      credential = { kind: 'token', token: h.presented, signature: h.key.sign(relayTranscript(TOKEN_POP_LABEL, t)) }
    }
    this.#pendingRoot = channelRoot(eph.agree(proof.ephemeral), t)
    this.send({ type: 'RelayAuth', ephemeral: eph.publicKey, credential: tamper ? tamper(credential) : credential })
  }

  close(): void {
    this.ws.close()
  }
}
