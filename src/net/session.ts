/**
 * PeerSession: the protocol (see `protocol.ts`) for one connection over one Transport.
 *
 * Before authentication the session reads only what its `Handshake` accepts (`handshake.ts`: Hello, Auth,
 * RelayAuth, Welcome, Error) and touches nothing of the host but its identity; no document data (not even
 * names) leaves before the other side proved the secret or showed a token. A handshake step may take time
 * (a relay loads the space); frames that arrive meanwhile wait, a handful at most. After it, frames are
 * sealed (`channel.ts`, peer to peer) and queued (`inbound.ts`) so updates are applied strictly in order
 * and each is durable before anything after it is read; that queue pauses reading when too much waits
 * (back-pressure), and a backlog beyond `maxQueuedBytes` anyway ends with 1008.
 *
 * Sending goes through a bounded `FrameSender` (`sender.ts`): initial-sync diffs are produced only while
 * the transport has room, and a consumer too slow for the capped outbox is cut off with 1008. Live updates
 * come from the peer manager (or the relay) via `sendUpdate`; the document half of the protocol is
 * `SyncState`. A relay's live peer list (Peers) is passed on as the `registry` event, Presence as `presence`
 * (a relay speaks for anyone; peer to peer, the other side's own comes with hops 0 and others' with hops ≥ 1,
 * so no peer poses as a third one's own session; one naming ourselves, passed around a ring, is dropped).
 */
import { logger } from '../debuglog.js'
import type { DocName } from '../ids.js'
import { newNonce } from './auth.js'
import { Reassembler } from './chunking.js'
import { plaintext } from './channel.js'
import { TypedEmitter } from './emitter.js'
import { InboundQueue } from './inbound.js'
import { ACCESS_REFUSED, PeerHandshake, type Handshake, type HandshakeIO, type Opened, type Step } from './handshake.js'
import {
  decodeMessage, ProtocolError, ProtocolVersionError, type Access, type HelloFlags, type LivePeer, type Message,
  type PresenceMessage, type Role,
} from './protocol.js'
import { FrameSender } from './sender.js'
import {
  DEFAULT_TUNING, type PeerSessionEvents, type PeerSessionOptions, type SessionClosed, type SessionTuning,
} from './session-options.js'
import { SyncState } from './sync-state.js'
import type { PeerInfo, SyncHost } from './SyncHost.js'
import { CloseCode, type Transport } from './TransportInterface.js'

const log = logger('net:session')
const INTERNAL_ERROR = 1011
/** Frames a peer may send while a handshake step is still being worked on (it should send none). */
const MAX_FRAMES_DURING_HANDSHAKE = 8

export { ACCESS_REFUSED, DEFAULT_TUNING }
export type { PeerSessionEvents, PeerSessionOptions, SessionClosed, SessionProgress, SessionTuning } from './session-options.js'

type Phase = 'handshake' | 'open' | 'closed'

export class PeerSession extends TypedEmitter<PeerSessionEvents> {
  readonly role: Role
  readonly remote: string
  bytesReceived = 0
  /** ms epoch of the last frame received. */
  lastSeen: number | undefined
  peer: PeerInfo | undefined
  closedInfo: SessionClosed | undefined
  /** The relay's latest list of live peers (relay sessions only). */
  registry: LivePeer[] | undefined
  readonly whenClosed: Promise<SessionClosed>

  readonly #t: Transport
  readonly #opts: SessionTuning
  readonly #handshake: Handshake
  readonly #io: HandshakeIO
  readonly #flags: HelloFlags
  readonly #reassembler: Reassembler
  readonly #sender: FrameSender
  #host: SyncHost | undefined
  #opened: Opened | undefined
  #phase: Phase = 'handshake'
  #started = false
  #rx = plaintext
  #closing: { code: number; reason: string } | undefined
  #handshakeTimer: NodeJS.Timeout | undefined
  /** Raw frames received while a handshake step was in progress; null when none is. */
  #held: Uint8Array[] | null = null
  readonly #inbound: InboundQueue
  #sync: SyncState | undefined
  #resolveClosed!: (info: SessionClosed) => void
  readonly #onFrame = (frame: Uint8Array): void => this.#receive(frame)
  readonly #onClose = (code: number, reason: string): void => this.#finish(code, reason)

  constructor(opts: PeerSessionOptions) {
    super()
    this.role = opts.role
    this.#t = opts.transport
    this.remote = opts.transport.remote
    this.#host = opts.host
    const tuning = { ...DEFAULT_TUNING }
    for (const key of Object.keys(tuning) as Array<keyof SessionTuning>) {
      if (opts[key] !== undefined) (tuning as Record<string, unknown>)[key] = opts[key]
    }
    this.#opts = tuning
    this.#flags = { oneShot: opts.oneShot ?? false, peek: opts.peek ?? false }
    if (opts.handshake) this.#handshake = opts.handshake
    else {
      if (!opts.host) throw new TypeError('a PeerSession needs a host or a handshake')
      this.#handshake = new PeerHandshake({ host: opts.host, credentials: opts.credentials, token: opts.token, encryption: tuning.encryption, relay: opts.relay })
    }
    this.#io = {
      role: opts.role,
      nonce: newNonce(),
      maxFrameBytes: tuning.maxFrameBytes,
      flags: this.#flags,
      send: (m) => this.#send(m),
    }
    this.#reassembler = new Reassembler({ maxMessageBytes: tuning.maxMessageBytes })
    this.#sender = new FrameSender(opts.transport, {
      ...tuning,
      onProgress: () => this.#progress(),
      onError: (err) => this.#failWith(err),
    })
    this.#inbound = new InboundQueue(opts.transport, tuning, (err) => this.#failWith(err))
    this.whenClosed = new Promise((resolve) => (this.#resolveClosed = resolve))
  }

  /** The documents this session syncs (for a relay's sessions: known once authenticated). */
  get host(): SyncHost | undefined {
    return this.#host
  }

  get bytesSent(): number {
    return this.#sender.bytesSent
  }

  /** Who the other side says it is, before (or without) proving it; for logs and status only. */
  get claimedPeer(): PeerInfo | undefined {
    return this.peer ?? this.#handshake.remoteHello?.peer
  }

  get authenticated(): boolean {
    return this.#phase === 'open'
  }

  get isSynced(): boolean {
    return this.#sync?.synced ?? false
  }

  /** True while live updates sent through this session still wait for the other side's Ack. */
  get unsettled(): boolean {
    return this.#sync?.awaitingAcks ?? false
  }

  /** Either end of this connection said it is one-shot (or a peek): not a live session to keep. */
  get transient(): boolean {
    const theirs = this.#opened?.hello.flags
    return this.#flags.oneShot || this.#flags.peek || !!theirs?.oneShot || !!theirs?.peek
  }

  /** The other side asked for a peek only. */
  get remotePeek(): boolean {
    return this.#opened?.hello.flags.peek ?? false
  }

  /** What a relay granted us, or (on the relay) what this peer may do; undefined peer to peer. */
  get access(): Access | undefined {
    return this.#opened?.access
  }

  /** On a relay: what the peer authenticated with (`space-key`, `token:<role>:<jti>`). */
  get credential(): string | undefined {
    return this.#opened?.credential
  }

  /** On a relay: when the token this peer showed expires (ms epoch). */
  get expiresAt(): number | undefined {
    return this.#opened?.expiresAt
  }

  /** Ends the session with an Error message first (the close reason alone is cut to 123 bytes). */
  refuse(code: number, message: string): void {
    this.#fail(code, message)
  }

  /** Whether we may send document changes through this session. */
  get canSend(): boolean {
    return this.#opened?.canSend ?? false
  }

  /** Wires the transport and starts the handshake. Call once, after attaching event listeners. */
  start(): void {
    if (this.#started) return
    this.#started = true
    this.#t.on('message', this.#onFrame)
    this.#t.on('close', this.#onClose)
    if (!this.#t.open) return this.#finish(CloseCode.GoingAway, 'transport closed before the session started')
    try {
      this.#handshake.start(this.#io)
    } catch (err) {
      return this.#failWith(err)
    }
    this.#handshakeTimer = setTimeout(() => this.#fail(CloseCode.Policy, 'handshake timed out'), this.#opts.handshakeTimeoutMs)
    this.#handshakeTimer.unref()
  }

  /** Sends a live update; false (and nothing sent) unless open and allowed to send. */
  sendUpdate(doc: DocName, update: Uint8Array): boolean {
    if (this.#phase !== 'open' || this.#closing || !this.#sync) return false
    return this.#sync.sendUpdate(doc, update)
  }

  /** Sends a message outside the document exchange (a relay's Peers list). */
  sendControl(msg: Message): void {
    if (this.#phase === 'open') this.#send(msg)
  }

  close(code: number = CloseCode.Normal, reason = 'closing'): void {
    if (this.#closing || this.#phase === 'closed') return
    log('%s: closing %d %s', this.remote, code, reason)
    this.#closing = { code, reason }
    this.#stop()
    this.#t.close(code, reason)
    // Not started: nobody listens to the transport's close event, so settle here.
    if (!this.#started) this.#finish(code, reason)
  }

  // ── receiving ──

  #receive(frame: Uint8Array): void {
    if (this.#phase === 'closed' || this.#closing) return
    if (this.#held) {
      if (this.#held.length >= MAX_FRAMES_DURING_HANDSHAKE) return this.#fail(CloseCode.Policy, 'too many frames during the handshake')
      this.#held.push(frame)
      return
    }
    this.bytesReceived += frame.length
    this.lastSeen = Date.now()
    this.#progress()
    if (frame.length > this.#opts.maxFrameBytes) {
      return this.#fail(CloseCode.TooBig, `frame of ${frame.length} bytes exceeds ${this.#opts.maxFrameBytes}`)
    }
    let msg: Message
    let size = frame.length
    try {
      msg = decodeMessage(this.#rx.open(frame))
      if (msg.type === 'Chunk') {
        if (this.#phase !== 'open') throw new ProtocolError('chunked message before authentication')
        const whole = this.#reassembler.push(msg)
        if (!whole) return
        size = whole.length
        msg = decodeMessage(whole)
        if (msg.type === 'Chunk') throw new ProtocolError('a chunk inside a chunk')
      }
      if (this.#phase !== 'open') return this.#handshakeStep(msg)
    } catch (err) {
      return this.#failWith(err)
    }
    this.#enqueue(msg, size)
  }

  /** Post-auth messages run one at a time, in order; each awaits the host before the next starts. */
  #enqueue(msg: Message, size: number): void {
    const queued = this.#inbound.push(size, async () => {
      if (this.#closing || this.#phase === 'closed' || !this.#sync) return
      if (msg.type === 'Error') return this.#remoteError(msg.code, msg.message)
      if (msg.type === 'Peers') return this.#onRegistry(msg.peers)
      if (msg.type === 'Presence') return this.#onPresence(msg)
      await this.#sync.handle(msg)
    })
    if (!queued) this.#fail(CloseCode.Policy, 'peer sends faster than updates can be applied')
  }

  #handshakeStep(msg: Message): void {
    if (msg.type === 'Error') return this.#remoteError(msg.code, msg.message)
    const step = this.#handshake.receive(msg, this.#io)
    if (!(step instanceof Promise)) return this.#afterStep(step)
    this.#held = []
    step.then(
      (s) => this.#afterStep(s),
      (err: unknown) => this.#failWith(err),
    ).finally(() => {
      const held = this.#held ?? []
      this.#held = null
      for (const f of held) this.#receive(f)
    })
  }

  #afterStep(step: Step): void {
    if (this.#closing || this.#phase === 'closed' || !step) return
    if ('refuse' in step) return this.#fail(step.refuse.code, step.refuse.message)
    this.#open(step.open)
  }

  #open(o: Opened): void {
    this.#opened = o
    this.#host = o.host
    this.#sender.peerMaxFrameBytes = o.hello.maxFrameBytes
    this.#sender.cipher = o.ciphers.tx
    this.#rx = o.ciphers.rx
    this.#phase = 'open'
    clearTimeout(this.#handshakeTimer)
    this.peer = o.peer
    log('%s: authenticated %s (%s)%s', this.remote, o.peer.id, o.peer.name, o.access ? ` access ${o.access}` : '')
    const sync = new SyncState(o.host, o.peer.id, {
      send: (m, encoded) => this.#send(m, encoded),
      pump: () => this.#sender.pump(),
      onSynced: () => this.emit('synced'),
      onSettled: () => this.emit('settled'),
      ackDelayMs: this.#opts.ackDelayMs,
      isOpen: () => !this.#closing && this.#phase === 'open',
      canSend: o.canSend,
      acceptWrites: o.acceptWrites,
      // A relay stores any plain name a writer sent; what our globs refuse is skipped, not fatal.
      skipRefusedDocs: o.peer.kind === 'relay',
    })
    this.#sync = sync
    this.#sender.producer = sync
    this.#t.admitted?.()
    this.emit('authenticated', o.peer)
    // A listener may have closed us (a duplicate connection); then nothing is sent.
    if (!this.#closing && !this.#flags.peek && !o.hello.flags.peek) sync.start()
  }

  #onRegistry(peers: LivePeer[]): void {
    if (this.peer?.kind !== 'relay') throw new ProtocolError('a peer list from something that is not a relay')
    this.registry = peers
    this.emit('registry', peers)
  }

  #onPresence(m: PresenceMessage): void {
    if (m.peer.kind === 'relay') throw new ProtocolError('a presence for a relay')
    if (this.peer?.kind !== 'relay') {
      const own = m.peer.id === this.peer?.id
      if (!own && m.hops === 0) throw new ProtocolError('a presence for another peer from something that is not a relay')
      if (own && m.hops !== 0) throw new ProtocolError('its own presence, said to be passed on')
    }
    if (m.peer.id === this.#host?.self.id) return
    this.emit('presence', m)
  }

  #remoteError(code: number, message: string): void {
    log('%s: peer reports %d %s', this.remote, code, message)
    this.close(code, message)
  }

  // ── sending and closing ──

  /** Never throws: a message that cannot go out fails the session instead. */
  #send(msg: Message, encoded?: Uint8Array): void {
    if (this.#closing || this.#phase === 'closed') return
    try {
      this.#sender.send(msg, encoded)
    } catch (err) {
      this.#failWith(err)
    }
  }

  #failWith(err: unknown): void {
    if (err instanceof ProtocolVersionError) return this.#fail(CloseCode.ProtocolError, err.message)
    if (err instanceof ProtocolError) return this.#fail(err.closeCode, err.message)
    log('%s: internal error %O', this.remote, err)
    this.#fail(INTERNAL_ERROR, `internal error: ${(err as Error)?.message ?? String(err)}`)
  }

  /** Tells the other side why (when that frame would not overtake queued ones), then closes. */
  #fail(code: number, message: string): void {
    if (this.#closing || this.#phase === 'closed') return
    log('%s: failing %d %s', this.remote, code, message)
    try {
      this.#sender.sendIfIdle({ type: 'Error', code, message })
    } catch {
      // The close code and reason still say enough.
    }
    this.close(code, message)
  }

  #stop(): void {
    clearTimeout(this.#handshakeTimer)
    this.#sender.stop()
    this.#sync?.stop()
  }

  #finish(code: number, reason: string): void {
    if (this.#phase === 'closed') return
    this.#phase = 'closed'
    this.#stop()
    this.#t.off('message', this.#onFrame)
    this.#t.off('close', this.#onClose)
    const final = this.#closing ?? { code, reason }
    const info: SessionClosed = {
      code: final.code,
      reason: final.reason,
      refused: final.code === CloseCode.Unauthenticated || final.code === CloseCode.Forbidden,
    }
    this.closedInfo = info
    log('%s: closed %d %s', this.remote, info.code, info.reason)
    this.#resolveClosed(info)
    this.emit('closed', info)
  }

  #progress(): void {
    // Called for every frame: on a relay relaying thousands a second, nobody listens; build nothing then.
    if (this.listenerCount('progress') > 0) this.emit('progress', { bytesSent: this.bytesSent, bytesReceived: this.bytesReceived })
  }
}
